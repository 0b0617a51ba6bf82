"""Every validation rule, proven by a fixture that breaks it.

Each folder under tests/fixtures/invalid/ is named RULE-short-name and holds a small
tree (the mini tree with one deliberate mistake, or a single file for the YAML and
loader rules) plus expect.yaml: the diagnostics it must produce, as
``- {rule: PES005, file: city.yaml, line: 57}`` (optionally ``hint:``/``message:``
substrings). ``line: 0`` means a whole-file problem with no line to point at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pesdc.model import Diagnostic, LoadResult, Severity, validate
from pesdc.model.yamlio import read_yaml
from pesdc.rules.registry import LOADER_RULES, all_rules
from tests.conftest import FIXTURES, MINI

INVALID = FIXTURES / "invalid"
EXPECT = "expect.yaml"
FOLDERS = sorted(p for p in INVALID.iterdir() if p.is_dir())


def rule_ids() -> set[str]:
    return set(all_rules()) | set(LOADER_RULES)


def run(folder: Path) -> LoadResult:
    """Validate a fixture folder: everything in it except its expect.yaml."""
    paths = [p for p in sorted(folder.iterdir()) if p.name != EXPECT]
    return validate(paths)


def expectations(folder: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load((folder / EXPECT).read_text("utf-8"))
    assert isinstance(data, list) and data, f"{folder.name}/{EXPECT} lists no diagnostics"
    for entry in data:
        assert {"rule", "file", "line"} <= set(entry), entry
    return data


def rel(d: Diagnostic, folder: Path) -> str:
    """The diagnostic's file, relative to the fixture folder."""
    path = Path(d.file)
    if not path.is_absolute():
        path = Path.cwd() / path
    try:
        # The folder resolved, not the file: a symlink is named where it is (YAML004).
        return (path.parent.resolve() / path.name).relative_to(folder.resolve()).as_posix()
    except ValueError:
        return d.file


def parses(path: Path) -> bool:
    """A file that is YAML text with content: its problems must all have a line."""
    if not path.is_file():
        return False
    data, diags = read_yaml(path, path.name)
    return not diags and data is not None


def show(result: LoadResult) -> str:
    return "\n".join(d.format() for d in result.report.sorted()) or "(no diagnostics)"


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_fixture_reports_its_mistake(folder: Path) -> None:
    result = run(folder)
    report = result.report
    assert report.ok is False, f"{folder.name} validated clean:\n{show(result)}"
    errors = [(d.rule, rel(d, folder), d.line, d) for d in report.errors]
    for want in expectations(folder):
        hits = [d for rule, file, line, d in errors
                if (rule, file, line) == (want["rule"], want["file"], want["line"])]
        assert hits, f"{folder.name}: expected {want}, got:\n{show(result)}"
        if "hint" in want:
            assert any(want["hint"] in d.hint for d in hits), (want, [d.hint for d in hits])
        if "message" in want:
            assert any(want["message"] in d.message for d in hits), \
                (want, [d.message for d in hits])
        if want["line"]:
            assert all(d.column > 0 for d in hits)


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_every_diagnostic_has_a_line_in_a_parsed_file(folder: Path) -> None:
    result = run(folder)
    known = rule_ids()
    for d in result.report.diagnostics:
        assert d.rule in known, d.format()
        assert d.message and d.hint, d.format()
        path = folder / rel(d, folder)
        if parses(path):
            assert d.line > 0 and d.column > 0, f"no line: {d.format()}"
        else:
            assert d.rule.startswith("YAML"), d.format()


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_fixture_is_named_after_the_rule_it_breaks(folder: Path) -> None:
    rule = folder.name.split("-", 1)[0]
    assert rule in rule_ids(), f"{folder.name}: {rule} is not a rule id"
    assert rule in {e["rule"] for e in expectations(folder)}


def test_every_rule_has_an_invalid_fixture() -> None:
    proven = {e["rule"] for f in FOLDERS for e in expectations(f)}
    named = {f.name.split("-", 1)[0] for f in FOLDERS}
    missing = sorted(rule_ids() - (proven & named))
    assert not missing, f"rules without a fixture in {INVALID}: {missing}"


def test_rule_list_is_the_documented_one() -> None:
    documented = {"YAML001", "YAML002", "YAML003", "SCH001", "SCH002", "SCH003", "SCH004",
                  "SCH005", "SCH006", "YAML004",
                  "REF001", "ADDR001", "ADDR002", "ADDR003", "ADDR004", "ISO001", "NET001",
                  "NET002", "NET003", "NET004", "NET005", "XC001", "XC002", "XC003", "ZONE001",
                  "TREE001", "MLPS001", "MLPS002",
                  "MLPS003", "PLAT001",
                  *(f"PES00{i}" for i in range(1, 10))}
    assert rule_ids() == documented


def test_mini_tree_is_clean() -> None:
    result = validate([MINI])
    assert result.report.diagnostics == [], show(result)
    assert result.report.ok
    assert set(result.topology.datacenters) == {"mohrss", "shandong", "jinan", "laiwu"}


def test_mini_tree_is_clean_through_every_rule_alone() -> None:
    for rid in sorted(all_rules()):
        result = validate([MINI], only=[rid])
        assert result.report.diagnostics == [], f"{rid}:\n{show(result)}"


RULE_FOLDERS = [f for f in FOLDERS if f.name.split("-", 1)[0] not in LOADER_RULES]
LOADER_FOLDERS = [f for f in FOLDERS if f.name.split("-", 1)[0] in LOADER_RULES]


@pytest.mark.parametrize("folder", RULE_FOLDERS, ids=[f.name for f in RULE_FOLDERS])
def test_rule_fixture_fires_with_only_its_rule(folder: Path) -> None:
    """`--rule ID` runs that rule alone: the fixture's mistake is still found."""
    rule = folder.name.split("-", 1)[0]
    paths = [p for p in sorted(folder.iterdir()) if p.name != EXPECT]
    result = validate(paths, only=[rule])
    assert {d.rule for d in result.report.errors} == {rule}, show(result)


@pytest.mark.parametrize("folder", LOADER_FOLDERS, ids=[f.name for f in LOADER_FOLDERS])
def test_schema_error_does_not_cascade(folder: Path) -> None:
    """An object that failed the schema is left out, without false alarms about it."""
    result = run(folder)
    cascaded = [d for d in result.report.diagnostics if d.rule not in LOADER_RULES]
    assert not cascaded, show(result)


def test_warnings_do_not_fail() -> None:
    result = run(INVALID / "NET001-uplink-kind")
    warnings = [d for d in result.report.diagnostics if d.severity is Severity.warning]
    assert warnings and all(d.line for d in warnings)
