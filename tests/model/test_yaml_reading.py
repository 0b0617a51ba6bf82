"""Reading topology YAML (issue 12, point 6): merge keys work, and every line pesdc
reports is the line an editor shows, also after U+2028, U+2029 or U+0085 in a value.
End to end through `pesdc validate --format json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from pesdc.cli.main import main
from pesdc.model import validate
from pesdc.model.yamlio import Locator, editor_position, read_yaml

FW_1 = "    - {name: fw-1, kind: firewall, border: true, mgmt: 10.38.9.4, redundancy: fw-2}"
FW_2 = "    - {name: fw-2, kind: firewall, border: true, mgmt: 10.38.9.5, redundancy: fw-1}"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), "utf-8")


def _line_of(path: Path, needle: str) -> int:
    """The editor's line of the first line holding ``needle`` (lines end at \\n only)."""
    lines = path.read_text("utf-8").split("\n")
    return next(n for n, line in enumerate(lines, start=1) if needle in line)


def _validate(tree: Path) -> tuple[int, list[dict[str, Any]]]:
    res = CliRunner().invoke(main, ["validate", "--format", "json", str(tree)])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    return res.exit_code, json.loads(res.stdout)["diagnostics"]


# -- merge keys --------------------------------------------------------------------------
def test_merge_key_single(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    _edit(city, FW_1, FW_1.replace("- {name: fw-1", "- &fw {name: fw-1"))
    _edit(city, FW_2, "    - {<<: *fw, name: fw-2, mgmt: 10.38.9.5, redundancy: fw-1}")
    code, diags = _validate(mini_tree)
    assert (code, diags) == (0, [])
    fw2 = next(d for d in validate([mini_tree]).topology.datacenters["jinan"].devices
               if d.name == "fw-2")
    # written keys override merged ones; the rest comes from the anchor
    assert (fw2.mgmt, fw2.redundancy, fw2.kind.value, fw2.border) == (
        "10.38.9.5", "fw-1", "firewall", True)


def test_merge_key_list_first_wins_and_written_keys_win(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    _edit(city, "    - {name: mis-1, roles: [appserver],",
          "    - &app {name: mis-1, roles: [appserver],")
    _edit(city, "    - {name: db-1, roles: [database],",
          "    - &db {name: db-1, roles: [database],")
    # db-2: roles from *db (first in the list), zone/segment from either, its own name
    _edit(city, "    - {name: db-2, roles: [database], zone: production, segment: prod-app, "
                "address: 10.38.1.21}",
          "    - {<<: [*db, *app], name: db-2, address: 10.38.1.21}")
    code, diags = _validate(mini_tree)
    assert (code, diags) == (0, [])
    db2 = next(s for s in validate([mini_tree]).topology.datacenters["jinan"].servers
               if s.name == "db-2")
    assert ([r.value for r in db2.roles], db2.segment, db2.address) == (
        ["database"], "prod-app", "10.38.1.21")


def test_merge_key_block_style(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    _edit(city, FW_1, "    - &fw\n      name: fw-1\n      kind: firewall\n      border: true\n"
                      "      mgmt: 10.38.9.4\n      redundancy: fw-2")
    _edit(city, FW_2, "    - <<: *fw\n      name: fw-2\n      mgmt: 10.38.9.5\n"
                      "      redundancy: fw-1")
    assert _validate(mini_tree) == (0, [])


def test_a_key_written_twice_next_to_a_merge_is_still_a_duplicate(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    _edit(city, FW_1, FW_1.replace("- {name: fw-1", "- &fw {name: fw-1"))
    _edit(city, FW_2, "    - <<: *fw\n      name: fw-2\n      mgmt: 10.38.9.5\n"
                      "      mgmt: 10.38.9.6\n      redundancy: fw-1")
    code, diags = _validate(mini_tree)
    first = _line_of(city, "mgmt: 10.38.9.5")
    assert code == 1
    assert [(d["rule"], d["line"]) for d in diags] == [("YAML002", first + 1)]
    assert f"first given at line {first}" in diags[0]["message"]


def test_two_merge_keys_in_one_mapping_are_a_duplicate(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    _edit(city, FW_1, FW_1.replace("- {name: fw-1", "- &fw {name: fw-1"))
    _edit(city, FW_2, "    - {<<: *fw, <<: *fw, name: fw-2, mgmt: 10.38.9.5}")
    code, diags = _validate(mini_tree)
    assert code == 1
    assert [(d["rule"], d["line"]) for d in diags] == [("YAML002", _line_of(city, "<<: *fw"))]
    assert "'<<'" in diags[0]["message"]


def test_an_error_in_a_merged_value_points_where_it_is_written(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    anchor = "    - &fw\n      name: fw-1\n      kind: firewall\n      border: true\n" \
             "      colour: red\n      mgmt: 10.38.9.4\n      redundancy: fw-2"
    _edit(city, FW_1, anchor)
    _edit(city, FW_2, "    - <<: *fw\n      name: fw-2\n      mgmt: 10.38.9.5\n"
                      "      redundancy: fw-1\n      border: maybe")
    code, diags = _validate(mini_tree)
    assert code == 1
    colour, maybe = _line_of(city, "colour: red"), _line_of(city, "border: maybe")
    got = {(d["rule"], d["path"], d["line"]) for d in diags}
    # the anchored key, reported for both devices, at the one line it is written on
    assert ("SCH001", "datacenter.devices[2].colour", colour) in got
    assert ("SCH001", "datacenter.devices[3].colour", colour) in got
    # a written key that overrides a merged one: its own line
    assert ("SCH002", "datacenter.devices[3].border", maybe) in got


# -- line numbers as editors count them ---------------------------------------------------
SEPARATORS = "\u2028\u2029\u0085"


def test_editor_position_counts_newlines_only() -> None:
    text = f"a: 1\r\nb: \"x{SEPARATORS}\ry\"\nc: 3"
    assert editor_position(text, 0) == (1, 1)
    assert editor_position(text, text.index("b")) == (2, 1)
    assert editor_position(text, text.index("y")) == (2, 10)  # b: "x + 3 + \r: 9 before
    assert editor_position(text, text.index("c")) == (3, 1)
    assert editor_position(text, len(text)) == (3, 5)


def test_line_after_separators_in_a_value_and_a_comment(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    _edit(city, "title: {zh: 济南市人社数据中心, en: Jinan HRSS data center}",
          f"title: {{zh: 济南市人社数据中心, en: \"Jinan{SEPARATORS}HRSS\"}}"
          f"  # note{SEPARATORS}")
    _edit(city, "{name: mis-1, roles: [appserver], zone: production, segment: prod-app, "
                "address: 10.38.1.10}",
          "{name: mis-1, roles: [appserver], zone: production, segment: prod-app, "
          "address: 10.38.1.300}")
    code, diags = _validate(mini_tree)
    assert code == 1
    bad = next(d for d in diags if d["path"] == "datacenter.servers[1].address")
    line = _line_of(city, "address: 10.38.1.300")
    assert (bad["rule"], bad["line"]) == ("SCH002", line)
    text = city.read_text("utf-8")
    assert bad["column"] == editor_position(text, text.index("10.38.1.300"))[1]
    # the value itself, wherever the schema puts it, is on the title's line
    title = [d for d in diags if d["path"].startswith("datacenter.title")]
    assert all(d["line"] == _line_of(city, "title: {zh:") for d in title)


def test_read_yaml_errors_after_separators_keep_their_line(tmp_path: Path) -> None:
    path = tmp_path / "city.yaml"
    path.write_text(f"datacenter:\n  name: \"a{SEPARATORS}b\"  # x{SEPARATORS}\n"
                    "  tier: city\n  tier: province\n", "utf-8")
    _, [dup] = read_yaml(path, "city.yaml")
    assert (dup.rule, dup.line, dup.column) == ("YAML002", 4, 3)
    assert "first given at line 3" in dup.message
    path.write_text(f"datacenter:\n  name: \"a{SEPARATORS}b\"\n  tier: city: x\n", "utf-8")
    _, [syntax] = read_yaml(path, "city.yaml")
    assert (syntax.rule, syntax.line, syntax.column) == ("YAML001", 3, 13)


def test_crlf_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "city.yaml"
    path.write_bytes(b"datacenter:\r\n  name: \"a\rb\"\r\n  tier: city\r\n  tier: city\r\n")
    _, [dup] = read_yaml(path, "city.yaml")
    assert (dup.line, dup.column) == (4, 3)
    assert "first given at line 3" in dup.message
    loc = Locator({"city.yaml": path})
    assert loc.locate("city.yaml", ("datacenter", "tier")) == (3, 9)


def test_locator_with_separators_and_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "city.yaml"
    path.write_text(f"\ufeffdatacenter:\n  title: \"x{SEPARATORS}y\"\n  name: jinan\n",
                    "utf-8")
    loc = Locator({"city.yaml": path})
    assert loc.locate("city.yaml", ("datacenter", "name")) == (3, 9)
    assert loc.locate("city.yaml", ("datacenter", "nothing")) == (1, 1)


def test_merge_key_misuse_is_a_yaml_error_with_a_line(tmp_path: Path) -> None:
    path = tmp_path / "city.yaml"
    for body, line in (("datacenter:\n  name: x\n  <<: 5\n", 3),
                       ("datacenter:\n  devices:\n    - {<<: [*nothing]}\n", 3),
                       ("datacenter: &dc\n  name: x\n  <<: *dc\n", 1)):
        path.write_text(body, "utf-8")
        data, [diag] = read_yaml(path, "city.yaml")
        assert data is None
        assert (diag.rule, diag.line) == ("YAML001", line), (body, diag.format())


def test_nested_merges_stay_small(tmp_path: Path) -> None:
    # Each level merges the one below ten times: 10**12 pairs if merges were copied.
    lines = ["l0: &l0 {k0: 0}"]
    for n in range(1, 13):
        lines.append(f"l{n}: &l{n} {{<<: [{', '.join([f'*l{n - 1}'] * 10)}], k{n}: {n}}}")
    path = tmp_path / "merges.yaml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    data, diags = read_yaml(path, "merges.yaml")
    assert diags == []
    assert data["l12"] == {f"k{n}": n for n in range(13)}
