"""Bounds of what validates (issue 12, point 6): links with two different ends, one
name per interface, finite bandwidth and latency. The rule fixtures under
tests/fixtures/invalid/ (NET003, NET004, SCH004-duplicate-interface) cover the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from pesdc.model import LoadResult, validate


def _edit(tree: Path, old: str, new: str, file: str = "city.yaml") -> None:
    path = tree / file
    text = path.read_text("utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), "utf-8")


def _errors(result: LoadResult) -> list[tuple[str, int, str]]:
    return [(d.rule, d.line, d.message) for d in result.report.errors]


def _line_of(tree: Path, needle: str, file: str = "city.yaml") -> int:
    lines = (tree / file).read_text("utf-8").split("\n")
    return next(n for n, line in enumerate(lines, start=1) if needle in line)


def test_link_from_the_center_to_itself(mini_tree: Path) -> None:
    _edit(mini_tree, "a: center, b: talent-room,", "a: center, b: center,")
    result = validate([mini_tree])
    line = _line_of(mini_tree, "b: center,")
    assert ("NET004", line, "link l-talent joins the center to itself") in _errors(result)


def test_two_interfaces_of_one_name(mini_tree: Path) -> None:
    _edit(mini_tree, "    - {name: core-1, kind: core_switch, mgmt: 10.38.9.2, redundancy: core-2}",
          "    - name: core-1\n      kind: core_switch\n      mgmt: 10.38.9.2\n"
          "      redundancy: core-2\n      interfaces:\n"
          "        - {name: 10GE1/0/1, segment: prod-app}\n"
          "        - {name: 10GE1/0/2, segment: exch}\n"
          "        - {name: 10GE1/0/1, segment: dec}")
    result = validate([mini_tree])
    line = _line_of(mini_tree, "{name: 10GE1/0/1, segment: dec}")
    assert _errors(result) == [
        ("SCH004", line, "interface name '10GE1/0/1' is used twice on device core-1")]
    assert "interfaces[0]" in result.report.errors[0].hint


def test_the_same_interface_name_on_two_devices_is_fine(mini_tree: Path) -> None:
    for dev in ("core-1", "core-2"):
        _edit(mini_tree, f"{{name: {dev}, kind: core_switch,",
              f"{{interfaces: [{{name: eth1, segment: prod-app}}], name: {dev}, "
              "kind: core_switch,")
    result = validate([mini_tree])
    assert result.report.diagnostics == []


@pytest.mark.parametrize("field,value,shown", [
    ("bandwidth_mbps", ".inf", "inf"), ("bandwidth_mbps", ".nan", "nan"),
    ("latency_ms", ".inf", "inf"), ("latency_ms", ".NaN", "nan"),
    ("latency_ms", "-.inf", "-inf"),
])
@pytest.mark.parametrize("where", ["link", "uplink"])
def test_infinite_or_nan_bandwidth_and_latency_are_rejected(
        mini_tree: Path, field: str, value: str, shown: str, where: str) -> None:
    if where == "link":
        old = "a: center, b: lixia, bandwidth_mbps: 100, latency_ms: 2,"
        new = old.replace(f"{field}: {'100' if field == 'bandwidth_mbps' else '2'}",
                          f"{field}: {value}")
    else:
        old = "peer: shandong, bandwidth_mbps: 100}"
        new = (f"peer: shandong, bandwidth_mbps: {value}}}" if field == "bandwidth_mbps"
               else f"peer: shandong, bandwidth_mbps: 100, {field}: {value}}}")
    _edit(mini_tree, old, new)
    result = validate([mini_tree])
    line = _line_of(mini_tree, new)
    section = "links" if where == "link" else "uplinks"
    [err] = result.report.errors
    assert (err.rule, err.line, err.dotted_path) == ("SCH002", line,
                                                     f"datacenter.{section}[0].{field}")
    assert err.file.endswith("city.yaml") and err.column > 1
    assert "finite number" in err.message and f"(given {shown})" in err.message
    assert err.hint
