"""pesdc.scaffold.create in a tmp copy of the example tree: a new city validates with
the whole tree, the province's file gains only the lines it should (comments kept),
and every bad request is refused by its NEW rule with nothing written."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from pesdc.model import validate
from pesdc.scaffold import Request, ScaffoldError, create

from .conftest import snapshot


def weifang(tree: Path, **kw: str) -> Request:
    args = {"name": "weifang", "division_code": "370700", "parent": "shandong",
            "stage": "2", "tree": tree}
    args.update(kw)
    return Request(**args)  # type: ignore[arg-type]


def test_new_city_validates_with_the_tree_and_renders(tree):
    before = (tree / "shandong" / "shandong.yaml").read_text(encoding="utf-8")
    done = create(weifang(tree))
    assert done.path == tree / "shandong" / "weifang.yaml"
    assert str(done.block) == "10.7.0.0/16" and str(done.uplink) == "10.255.0.20/30"
    result = validate([tree])
    assert result.report.diagnostics == [], [d.format() for d in result.report.diagnostics]
    dc = result.topology.datacenters["weifang"]
    assert (dc.tier.value, dc.parent, dc.stage, dc.division_code) == (
        "city", "shandong", 2, "370700")
    assert {z.kind.value for z in dc.zones} >= {"production", "exchange", "decision",
                                                  "security_management", "private_network"}
    # the province's router holds the uplink's upper end (its mirror, after load)
    shandong = result.topology.datacenters["shandong"]
    assert any(u.peer == "weifang" and u.subnet == "10.255.0.20/30"
               for u in shandong.uplinks)
    # only insertions into the province file: every old line is still there, in order
    after = (tree / "shandong" / "shandong.yaml").read_text(encoding="utf-8")
    ops = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines()).get_opcodes()
    changed = [op for op in ops if op[0] != "equal"]
    assert all(tag in ("insert", "replace") for tag, *_ in changed)
    added = [ln for tag, i1, i2, j1, j2 in changed for ln in after.splitlines()[j1:j2]]
    assert "        - {name: GigabitEthernet0/0/5, downlink: weifang/up-shandong}" in added
    assert before.count("#") == after.count("#")  # every comment kept
    doc = YAML(typ="safe").load(after)["datacenter"]
    flows = {f["name"]: f for iso in doc["isolation"] for f in iso.get("flows", [])}
    assert {"weifang/data-exchange", "weifang/cross-region-bus"} <= set(
        flows["exchange-in"]["src_remote"])
    assert {"weifang/data-exchange", "weifang/cross-region-bus"} <= set(
        flows["exchange-out"]["dst_remote"])
    assert {"weifang/statistics", "weifang/market-monitoring"} <= set(
        flows["direct-report-in"]["src_remote"])
    assert "weifang/statistics" not in flows["direct-report"].get("dst_remote", [])


def test_second_city_takes_other_space_and_the_tree_stays_clean(tree):
    one = create(weifang(tree))
    # 373700: its preferred block 10.37.0.0/16 is the province's, so another is found
    two = create(weifang(tree, name="lianhe", division_code="373700", stage="1"))
    three = create(weifang(tree, name="weihai", division_code="371000", stage="3"))
    blocks = [one.block, two.block, three.block]
    assert str(two.block) != "10.37.0.0/16" and len(set(blocks)) == 3
    assert len({one.uplink, two.uplink, three.uplink}) == 3
    result = validate([tree])
    assert result.report.diagnostics == [], [d.format() for d in result.report.diagnostics]
    assert {c.stage for n, c in result.topology.datacenters.items()
            if n in ("weifang", "lianhe", "weihai")} == {1, 2, 3}


def test_same_request_same_bytes(tree, tmp_path):
    import shutil

    other = tmp_path / "again" / "topologies"
    shutil.copytree(tree, other)
    create(weifang(tree))
    create(weifang(other))
    assert snapshot(tree) == snapshot(other)


def test_twice_is_refused_and_changes_nothing(tree):
    create(weifang(tree))
    before = snapshot(tree)
    with pytest.raises(ScaffoldError) as exc:
        create(weifang(tree))
    # the name and the code are the first one's now, each said at its line there
    assert [p.rule for p in exc.value.problems] == ["NEW002", "NEW004"]
    assert all("weifang.yaml:" in p.where for p in exc.value.problems)
    assert snapshot(tree) == before


def _fill_private_space(tree: Path) -> None:
    (tree / "shandong" / "filler.yaml").write_text(
        "datacenter:\n  name: filler\n  tier: city\n  division_code: \"379900\"\n"
        "  parent: shandong\n  hosted_by: shandong\n  title: {zh: 占位, en: filler}\n"
        "  sites:\n"
        "    - {name: a, kind: job_agency, subnet: 10.0.0.0/8}\n"
        "    - {name: b, kind: job_agency, subnet: 172.16.0.0/12}\n"
        "    - {name: c, kind: job_agency, subnet: 192.168.0.0/16}\n", encoding="utf-8")


def _existing_file(tree: Path) -> None:
    (tree / "shandong" / "weifang.yaml").write_text("# kept\n", encoding="utf-8")


# (rule, request overrides, tree change, where the problem is said)
REFUSALS = [
    ("NEW001", {"parent": "nowhere"}, None, "--parent"),
    ("NEW001", {"parent": "mohrss"}, None, "--parent"),
    ("NEW002", {"name": "zibo"}, None, "zibo.yaml:17:9"),
    ("NEW002", {"name": "wei fang"}, None, "NAME"),
    ("NEW003", {"division_code": "37070"}, None, "--division-code"),
    ("NEW003", {"division_code": "370000"}, None, "--division-code"),
    ("NEW003", {"division_code": "370701"}, None, "--division-code"),
    ("NEW003", {"division_code": "410700"}, None, "--division-code"),
    ("NEW004", {"division_code": "370300"}, None, "zibo.yaml:19:18"),
    ("NEW004", {"division_code": "371600"}, None, "binzhou.yaml:13:18"),
    ("NEW005", {"stage": "4"}, None, "--stage"),
    ("NEW005", {"stage": "two"}, None, "--stage"),
    ("NEW006", {}, _fill_private_space, "--tree"),
    ("NEW007", {}, _existing_file, "weifang.yaml"),
    ("NEW009", {"title_en": "Weifang\x1b[2J"}, None, "weifang.yaml:"),
    ("NEW009", {"title_zh": "潍坊\n  stage: 1"}, None, "weifang.yaml:"),
]


@pytest.mark.parametrize(("rule", "overrides", "change", "where"), REFUSALS,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(REFUSALS)])
def test_refusals(tree, rule, overrides, change, where):
    if change is not None:
        change(tree)
    before = snapshot(tree)
    with pytest.raises(ScaffoldError) as exc:
        create(weifang(tree, **overrides))
    rules = {p.rule for p in exc.value.problems}
    assert rules == {rule}, [p.text() for p in exc.value.problems]
    assert any(where in p.where for p in exc.value.problems), [
        p.where for p in exc.value.problems]
    assert snapshot(tree) == before  # nothing written


def test_a_new_file_that_fails_its_schema_is_the_only_one_named(tree):
    # A line break in the title: the new file does not load as a center (SCH005), so
    # the province's references to it would fail too; those follow-ons are not listed.
    with pytest.raises(ScaffoldError) as exc:
        create(weifang(tree, title_zh="潍坊\n  stage: 1"))
    problems = exc.value.problems
    assert [(p.rule, p.params["rule"]) for p in problems] == [("NEW009", "SCH005")]
    assert problems[0].where.endswith("shandong/weifang.yaml:21:15")


def test_no_tree(tmp_path):
    # a path that is not there, and a file in no tree (a folder given without a marker
    # is taken as the tree itself: a generated national tree has none)
    loose = tmp_path / "loose.yaml"
    loose.write_text("datacenter: {}\n", encoding="utf-8")
    for where in (tmp_path / "missing", loose):
        with pytest.raises(ScaffoldError) as exc:
            create(weifang(where))
        assert [p.rule for p in exc.value.problems] == ["NEW008"]


def test_every_input_problem_at_once(tree):
    with pytest.raises(ScaffoldError) as exc:
        create(weifang(tree, name="zibo", parent="nowhere", division_code="12",
                       stage="9"))
    assert sorted(p.rule for p in exc.value.problems) == [
        "NEW001", "NEW002", "NEW003", "NEW005"]


def test_new_province_then_a_city_under_it(tree):
    before = (tree / "ministry" / "mohrss.yaml").read_text(encoding="utf-8")
    prov = create(Request("henan", "410000", tier="province", tree=tree))
    assert prov.path == tree / "henan" / "henan.yaml"
    assert str(prov.block) == "10.41.0.0/16"
    after = (tree / "ministry" / "mohrss.yaml").read_text(encoding="utf-8")
    assert set(before.splitlines()) - set(after.splitlines()) == {
        ln for ln in before.splitlines() if "shandong/" in ln and "remote" in ln}
    assert "        - {name: GigabitEthernet0/0/3, downlink: henan/up-mohrss}" in after
    city = create(Request("zhengzhou", "410100", "henan", "1", tree))
    assert city.path == tree / "henan" / "zhengzhou.yaml"
    assert city.edits == ["rt-2 GigabitEthernet0/0/2: downlink zhengzhou/up-henan"]
    result = validate([tree])
    assert result.report.diagnostics == [], [d.format() for d in result.report.diagnostics]
    topo = result.topology
    assert topo.datacenters["henan"].parent == "mohrss"
    assert topo.datacenters["zhengzhou"].stage == 1
    assert any(u.peer == "henan" for u in topo.datacenters["mohrss"].uplinks)
    assert any(u.peer == "zhengzhou" for u in topo.datacenters["henan"].uplinks)


@pytest.mark.parametrize(("code", "rule"), [("410100", "NEW003"), ("990000", "NEW003"),
                                            ("4100", "NEW003"), ("370000", "NEW004")])
def test_province_refusals(tree, code, rule):
    before = snapshot(tree)
    with pytest.raises(ScaffoldError) as exc:
        create(Request("henan", code, tier="province", tree=tree))
    assert [p.rule for p in exc.value.problems] == [rule]
    assert snapshot(tree) == before
