"""Each output syntax quotes or refuses a topology value by itself (issue 12, point 2).

The schema keeps every value one printable line; these tests put values that are one
printable line and still dangerous for one syntax (a '?' typed into a vendor CLI, a
banner holding its delimiter, a space in an IOS route name, markup in a web page, shell
metacharacters) into the vendor fixtures and the example tree, and check the rendered
text with hier_config (a parser pesdc did not write) or the render error it gives.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from pesdc.kinds import kind_of
from pesdc.model import validate
from pesdc.provision.desired import desired_state
from pesdc.render import render_tree
from pesdc.render.engine import BANNER_DELIMITERS, UnsafeValue, environment
from tests.render.vendor_util import CASES, hconfig

TREE = Path(__file__).resolve().parents[2] / "topologies"


def _case_with(tmp: Path, case: str, edit: Any) -> Path:
    """A copy of a vendor fixture case with ``edit(data)`` applied to its center."""
    folder = tmp / case
    shutil.copytree(CASES[case], folder)
    center = folder / "center.yaml"
    data = yaml.safe_load(center.read_text("utf-8"))
    edit(data["datacenter"])
    center.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return folder


def _render(folder: Path) -> Any:
    result = validate([folder])
    assert result.report.ok, [d.format() for d in result.report.errors]
    return render_tree(result.topology, parts=("devices",))


def test_question_mark_in_a_vendor_description_is_a_render_error(tmp_path: Path) -> None:
    def edit(dc: dict[str, Any]) -> None:
        dc["devices"][0]["interfaces"][0]["description"] = "uplink? to core"

    out = _render(_case_with(tmp_path, "vrp_core", edit))
    [problem] = out.problems
    assert problem.rule == "RENDER005"
    assert "device core-1" in problem.message and ".description" in problem.message
    assert "'?'" in problem.message
    assert not any("/core-1/" in p for p in out.files), "the device was rendered anyway"


@pytest.mark.parametrize("case", ["vrp_core", "usg_fw", "comware", "ios"])
def test_banner_with_quotes_keeps_one_banner_and_its_text(tmp_path: Path, case: str
                                                          ) -> None:
    banner = 'Say "hello" & 100% #1 authorised use only'

    def edit(dc: dict[str, Any]) -> None:
        dc.setdefault("security", {})["banner"] = banner

    folder = _case_with(tmp_path, case, edit)
    out = _render(folder)
    assert not out.problems, [p.message for p in out.problems]
    kinds = {d.name: kind_of(d).name for dc in validate([folder]).topology.datacenters.values()
             for d in dc.devices}
    configs = {p: t for p, t in out.files.items() if p.endswith("device.cfg")}
    assert configs
    for rel, text in configs.items():
        tree = hconfig(kinds[rel.split("/")[2]], text)
        heads = [c.text for c in tree.children
                 if c.text.startswith(("header login", "banner motd"))]
        assert len(heads) == 1, (rel, heads)
        head = heads[0]
        if head.startswith("banner motd"):
            first, body, last = head.split("\n")
            delim = first.removeprefix("banner motd ")
        else:
            words = head.split(" ", 3 if head.startswith("header login information") else 2)
            quoted = words[-1]
            delim, body, last = quoted[0], quoted[1:-1], quoted[-1]
        assert body == banner and last == delim and delim not in banner, (rel, head)


def test_banner_holding_every_delimiter_is_a_render_error(tmp_path: Path) -> None:
    def edit(dc: dict[str, Any]) -> None:
        dc.setdefault("security", {})["banner"] = f"all of {BANNER_DELIMITERS}"

    out = _render(_case_with(tmp_path, "vrp_core", edit))
    assert out.problems and {p.rule for p in out.problems} == {"RENDER005"}
    assert all("security.banner" in p.message for p in out.problems)


def test_ios_route_name_with_a_space_is_refused_not_rewritten(tmp_path: Path) -> None:
    def edit(dc: dict[str, Any]) -> None:
        for dev in dc["devices"]:
            for route in dev.get("static_routes", []):
                route["description"] = "default via mgmt"

    out = _render(_case_with(tmp_path, "ios", edit))
    assert out.problems and {p.rule for p in out.problems} == {"RENDER005"}
    assert any("holds a space" in p.message for p in out.problems)


def test_vrp_route_description_is_written_as_given(tmp_path: Path) -> None:
    def edit(dc: dict[str, Any]) -> None:
        for dev in dc["devices"]:
            for route in dev.get("static_routes", []):
                route["description"] = "to the municipal sites"

    out = _render(_case_with(tmp_path, "vrp_core", edit))
    assert not out.problems
    text = next(t for p, t in out.files.items() if p.endswith("core-1/device.cfg"))
    tree = hconfig("huawei_vrp", text)
    routes = [c.text for c in tree.children if c.text.startswith("ip route-static")]
    assert routes and all(r.endswith("description to the municipal sites") for r in routes)


def test_over_long_vrp_route_description_is_a_render_error(tmp_path: Path) -> None:
    def edit(dc: dict[str, Any]) -> None:
        for dev in dc["devices"]:
            for route in dev.get("static_routes", []):
                route["description"] = "x" * 36

    out = _render(_case_with(tmp_path, "vrp_core", edit))
    assert any("at most 35" in p.message for p in out.problems)


def test_filters_quote_or_refuse() -> None:
    env = environment()
    assert env.filters["quote"]("a b'c") == shlex.quote("a b'c")
    assert env.filters["quote"]("misdb") == "misdb"
    assert env.filters["nft_comment"]("F1 etl", "f") == '"F1 etl"'
    with pytest.raises(UnsafeValue, match="end the nftables string"):
        env.filters["nft_comment"]('x" accept', "f")
    with pytest.raises(UnsafeValue, match="at most 128"):
        env.filters["nft_comment"]("é" * 65, "f")
    # The guard behind every printed value: nothing with a line break reaches a file.
    with pytest.raises(UnsafeValue, match="LINE FEED"):
        env.from_string("description {{ v }}").render(v="a\nacl permit any")
    with pytest.raises(UnsafeValue, match="U\\+2028"):
        env.from_string("{{ v }}").render(v="a\u2028b")


def test_web_page_escapes_markup(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    center = tree / "shandong" / "jinan.yaml"
    text = center.read_text("utf-8")
    old = "en: Jinan HRSS data center}"
    assert old in text
    center.write_text(text.replace(old, 'en: "Jinan <script>alert(1)</script> & co"}', 1),
                      "utf-8")
    result = validate([tree])
    assert result.report.ok, [d.format() for d in result.report.errors]
    dc = result.topology.datacenters["jinan"]
    webs = [s.name for s in dc.servers if any(r.value == "web" for r in s.roles)]
    assert webs
    spec = desired_state(result.topology, "jinan", webs[0], lab=False)
    pages = [f for f in spec.files if f.path.endswith("index.html")]
    assert pages
    for page in pages:
        assert "<script>" not in page.content
        assert "Jinan &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page.content
