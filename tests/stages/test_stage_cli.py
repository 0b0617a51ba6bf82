"""stage check / plan / diff without a lab: what each city meets, the runbook, the target
topology (it validates), diffs object by object, and no traceback on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pesdc.cli.main import main
from pesdc.model import validate

ROOT = Path(__file__).resolve().parents[2]
STAGE1 = ROOT / "tests/fixtures/stages/stage1"
STAGE2 = ROOT / "tests/fixtures/stages/stage2"
TOPO = ROOT / "topologies"


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.output


def test_check_examples_json():
    code, out = run("stage", "check", str(TOPO), "--format", "json")
    assert code == 0
    cities = {c["city"]: c for c in json.loads(out)["cities"]}
    assert (cities["heze"]["meets"], cities["heze"]["next"]) == (1, 2)
    assert (cities["zibo"]["meets"], cities["zibo"]["next"]) == (2, 3)
    assert (cities["jinan"]["meets"], cities["jinan"]["next"]) == (3, None)
    heze = cities["heze"]["requirements"]
    # the legacy PES MIS servers, each with the file and line of its location
    assert {r["path"] for r in heze} == {"datacenter.servers[22].location",
                                         "datacenter.servers[23].location"}
    assert all(r["file"].endswith("heze.yaml") and r["line"] > 400 for r in heze)
    # a room server holding the MIS and its database names the system once
    assert all("runs pes-mis;" in r["message"] for r in heze), [r["message"] for r in heze]
    zibo = [r for r in cities["zibo"]["requirements"] if r["blocking"]]
    assert {r["rule"] for r in zibo} == {"PES006"}


def test_check_evaluates_regardless_of_declared_stage(tmp_path):
    # a city that declares stage 2 but still has its legacy PES MIS in a room: meets 1
    text = (STAGE1 / "dezhou.yaml").read_text().replace("stage: 1", "stage: 2")
    for f in ("ministry.yaml", "province.yaml"):
        (tmp_path / f).write_text((STAGE1 / f).read_text())
    (tmp_path / "dezhou.yaml").write_text(text)
    code, out = run("stage", "check", str(tmp_path), "--format", "json")
    assert code == 0
    city = json.loads(out)["cities"][0]
    assert (city["declared"], city["meets"], city["next"]) == (2, 1, 2)
    assert [r["rule"] for r in city["requirements"]] == ["PES005", "PES005"]


def test_check_missing_link_names_the_room(tmp_path):
    text = (STAGE1 / "dezhou.yaml").read_text().replace(
        "b: dz-talent-room, bandwidth_mbps: 1000",
        "b: dz-talent-room, bandwidth_mbps: 20")
    for f in ("ministry.yaml", "province.yaml"):
        (tmp_path / f).write_text((STAGE1 / f).read_text())
    (tmp_path / "dezhou.yaml").write_text(text)
    code, out = run("stage", "check", str(tmp_path), "--format", "json")
    assert code == 0
    city = json.loads(out)["cities"][0]
    assert city["meets"] == 0 and city["next"] == 1
    (req,) = city["requirements"]
    assert req["rule"] == "PES007" and "dz-talent-room" in req["message"]
    assert req["path"].endswith("bandwidth_mbps") and req["line"] > 0


@pytest.mark.parametrize("lang,fmt,needle", [("en", "md", "## 2. System pes-mis"),
                                             ("zh", "md", "系统 pes-mis"),
                                             ("en", "html", "<h2>2. System pes-mis</h2>"),
                                             ("zh", "html", "数据迁移")])
def test_plan_runbook(tmp_path, lang, fmt, needle):
    out = tmp_path / f"rb.{fmt}"
    code, _ = run("stage", "plan", str(STAGE1), "--to", "2", "--lang", lang, "--format", fmt,
                  "-o", str(out))
    assert code == 0
    text = out.read_text()
    assert needle in text
    assert "10.60.1.10" in text and "10.60.1.11" in text  # real free addresses
    assert "agencies-to-pes-mis" in text  # the flow to open first
    assert "pg_dump -Fc" in text and "pg_restore" in text
    assert "dz-employment-room" in text  # decommissioned at the end
    assert "talent-1" not in text  # the talent room stays at stage 2


def test_plan_write_target_validates_and_diff(tmp_path):
    code, _ = run("stage", "plan", str(STAGE1), "--to", "2", "-o", str(tmp_path / "rb.md"),
                  "--write-target", str(tmp_path / "t"))
    assert code == 0
    assert validate([tmp_path / "t"]).report.ok
    code, out = run("stage", "check", str(tmp_path / "t"), "--format", "json")
    assert json.loads(out)["cities"][0]["meets"] == 2
    code, out = run("diff", str(STAGE1), str(tmp_path / "t"), "--format", "json")
    assert code == 0
    changes = {(c["kind"], c["name"], c["action"]): c for c in json.loads(out)["changes"]}
    assert changes[("center", "dezhou", "changed")]["fields"]["stage"] == {"old": 1, "new": 2}
    mv = changes[("servers", "mis-old-1", "changed")]["fields"]
    assert mv["location"] == {"old": "dz-employment-room", "new": "datacenter"}
    assert mv["address"] == {"old": "10.60.200.10", "new": "10.60.1.10"}
    assert ("sites", "dz-employment-room", "removed") in changes
    assert ("links", "l-employment-room", "removed") in changes
    assert ("flows", "production<->wan: agencies-to-pes-mis", "added") in changes
    assert ("devices", "rt-1", "changed") in changes
    assert ("systems", "pes-mis", "changed") not in changes  # systems unchanged
    code, text = run("diff", str(STAGE1), str(tmp_path / "t"))
    assert "interfaces[eth2]" in text and "location: dz-employment-room -> datacenter" in text


def test_plan_stage3_from_stage2(tmp_path):
    code, _ = run("stage", "plan", str(STAGE2), "--to", "3", "-o", str(tmp_path / "rb.md"),
                  "--write-target", str(tmp_path / "t"))
    assert code == 0
    text = (tmp_path / "rb.md").read_text()
    assert "talent-1" in text and "lc-talent-room" in text
    code, out = run("stage", "check", str(tmp_path / "t"), "--format", "json")
    city = json.loads(out)["cities"][0]
    assert city["meets"] == 3 and city["declared"] == 3


def test_plan_with_target_topology(tmp_path):
    run("stage", "plan", str(STAGE1), "--to", "2", "-o", str(tmp_path / "a.md"),
        "--write-target", str(tmp_path / "t"))
    code, _ = run("stage", "plan", str(STAGE1), "--to", "2", "--target", str(tmp_path / "t"),
                  "-o", str(tmp_path / "b.md"), "--lang", "en")
    assert code == 0
    assert "mis-old-1: 10.60.200.10 in dz-employment-room -> 10.60.1.10" in \
        (tmp_path / "b.md").read_text()


def test_examples_plan_and_targets_validate(tmp_path):
    for city, to in (("heze", 2), ("heze", 3), ("zibo", 3)):
        out = tmp_path / f"{city}{to}"
        code, _ = run("stage", "plan", str(TOPO), "--dc", city, "--to", str(to), "-o",
                      str(tmp_path / f"{city}{to}.html"), "--format", "html",
                      "--write-target", str(out))
        assert code == 0, city
        assert validate([out]).report.ok


def test_bad_input_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("datacenter: [1, 2\n")
    for args in (("stage", "check", str(bad)), ("stage", "plan", str(bad), "--to", "2"),
                 ("diff", str(bad), str(STAGE1)), ("stage", "check", str(tmp_path / "nope")),
                 ("stage", "plan", str(TOPO), "--to", "2"),  # several cities: --dc needed
                 ("stage", "plan", str(TOPO), "--dc", "nowhere", "--to", "2"),
                 ("stage", "plan", str(TOPO), "--dc", "heze", "--to", "7")):
        res = CliRunner().invoke(main, list(args))
        assert res.exit_code in (1, 2), (args, res.output)
        assert res.exception is None or isinstance(res.exception, SystemExit), args
        assert "Traceback" not in res.output


def test_lab_plan_puts_room_servers_behind_their_site():
    from pesdc.lab.plan import build_plan

    topo = validate([STAGE1]).topology
    plan = build_plan(topo, "dezhou", "stx")
    srv, site = plan.nodes["mis-old-1"], plan.nodes["site:dz-employment-room"]
    assert srv.role == "server" and srv.mgmt == "10.60.200.10"
    assert srv.interfaces[0].addresses == ["10.60.200.10/26"]
    # one LAN bridge for the room: its site router and its servers plug into it
    assert srv.interfaces[0].bridge == site.interfaces[0].bridge == \
        plan.bridges["site:dz-employment-room"]
    assert plan.nodes["mis-old-2"].interfaces[0].bridge == site.interfaces[0].bridge
    assert ("10.60.9.0/24", "10.60.200.1") in srv.routes  # via the site router
    assert plan.nodes["talent-1"].interfaces[0].bridge != site.interfaces[0].bridge
    # a site without servers keeps its LAN inside its own namespace
    assert plan.nodes["site:decheng"].interfaces[0].bridge is None


def test_room_servers_do_not_stand_for_their_zone_in_probes():
    from pesdc.lab.plan import build_plan
    from pesdc.lab.probe import zone_members

    topo = validate([STAGE1]).topology
    members = zone_members(topo, build_plan(topo, "dezhou", "stx"))
    assert not [n for n in members["production"] if n.name.startswith(("mis-old", "talent"))]
