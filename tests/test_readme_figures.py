"""The README's table of figures is what benchmarks/results/*.json say
(scripts/readme_figures.py), and a benchmark that failed is never shown as a figure."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("readme_figures",
                                                  ROOT / "scripts" / "readme_figures.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


rf = _load()


def test_readme_agrees_with_the_results() -> None:
    diff = rf.check(ROOT / "README.md", ROOT / "benchmarks" / "results")
    assert not diff, ("README.md's figures differ from benchmarks/results (run "
                      "scripts/readme_figures.py):\n" + "\n".join(diff))


def _result(passed: bool, **extra: object) -> dict[str, object]:
    return {"benchmark": "render", "date": "2026-12-02T01:00:00+00:00", "load_avg": 3.25,
            "figures": [{"what": "render the national tree (105,397 files)",
                         "target": "< 60 s", "measured": "25.7 s", "target_met": True}],
            "passed": passed, "failures": [] if passed else ["render exited 1: boom"],
            **extra}


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nintro\n\n{rf.BEGIN}\nstale\n{rf.END}\n\n## after\n")
    results = tmp_path / "results"
    results.mkdir()
    return readme, results


def _write(results: Path, name: str, data: dict[str, object]) -> None:
    (results / f"{name}.json").write_text(json.dumps(data))


def test_write_then_check_agree(tree: tuple[Path, Path]) -> None:
    readme, results = tree
    _write(results, "render", _result(True))
    assert rf.check(readme, results)  # "stale" differs
    assert rf.write(readme, results)
    assert rf.check(readme, results) == []
    text = readme.read_text()
    assert text.startswith("# x\n\nintro\n\n") and text.endswith("\n\n## after\n")
    row = next(ln for ln in text.splitlines() if ln.startswith("| render the national"))
    assert "25.7 s" in row and "< 60 s" in row
    assert "`results/render.json`" in row and "2026-12-02" in row and "3.2" in row
    assert rf.main(["--check", "--readme", str(readme), "--results", str(results)]) == 0


def test_check_fails_when_a_figure_changes(tree: tuple[Path, Path]) -> None:
    readme, results = tree
    _write(results, "render", _result(True))
    rf.write(readme, results)
    data = _result(True)
    data["figures"][0]["measured"] = "31.0 s"  # type: ignore[index]
    _write(results, "render", data)
    diff = rf.check(readme, results)
    assert any(ln.startswith("+") and "31.0 s" in ln for ln in diff)
    assert any(ln.startswith("-") and "25.7 s" in ln for ln in diff)
    assert rf.main(["--check", "--readme", str(readme), "--results", str(results)]) == 1


def test_check_fails_when_the_readme_is_edited_by_hand(tree: tuple[Path, Path]) -> None:
    readme, results = tree
    _write(results, "render", _result(True))
    rf.write(readme, results)
    readme.write_text(readme.read_text().replace("25.7 s", "9.9 s"))
    assert rf.check(readme, results)


def test_a_failed_result_is_not_a_figure(tree: tuple[Path, Path]) -> None:
    readme, results = tree
    _write(results, "render", _result(False))
    rf.write(readme, results)
    block = readme.read_text().split(rf.BEGIN)[1].split(rf.END)[0]
    assert "25.7 s" not in block  # the timing of failed work is no figure
    row = next(ln for ln in block.splitlines() if ln.startswith("| render the national"))
    assert "FAILED" in row and "render exited 1: boom" in row
    assert rf.check(readme, results) == []
    # and the passing result of the same file is a figure again, so --check sees it
    _write(results, "render", _result(True))
    assert rf.check(readme, results)


def test_a_missed_target_says_so() -> None:
    data = _result(True)
    data["figures"][0].update(measured="75.0 s", target_met=False)  # type: ignore[index]
    rows = rf.figures_of("render", data)
    assert rows[0]["measured"] == "75.0 s (**target missed**)"


def test_foreign_results_and_order(tree: tuple[Path, Path]) -> None:
    readme, results = tree
    _write(results, "lynis", {"host": "mis-1.weihai", "lynis_version": "3.0.8",
                              "hardening_index_before": 57, "hardening_index_after": 74})
    _write(results, "render", _result(True))
    _write(results, "validate", {**_result(True), "figures": [
        {"what": "validate the national tree", "target": "", "measured": "11.8 s"}]})
    _write(results, "zzz", {"passed": True})  # no figures: listed, never dropped
    rf.write(readme, results)
    rows = [ln for ln in readme.read_text().splitlines() if ln.startswith("| ")][1:]
    assert [r.split(" | ")[0] for r in rows] == [
        "| validate the national tree", "| render the national tree (105,397 files)",
        "| Lynis 3.0.8 hardening index of lab host mis-1, before / after `baseline`",
        "| benchmark zzz"]
    assert "57 / 74" in rows[2] and "not recorded" in rows[2]
    assert "no figures" in rows[3]


def test_a_failed_foreign_result_is_not_a_figure() -> None:
    rows = rf.figures_of("lynis", {"hardening_index_before": 57,
                                   "hardening_index_after": 74, "passed": False})
    assert len(rows) == 1 and "57" not in rows[0]["measured"]
    assert "FAILED" in rows[0]["measured"]


def test_kill_rate_results() -> None:
    rows = rf.figures_of("verify_kill_rate", {"injected": 22, "caught": 21, "passed": True,
                                              "categories": ["a", "b"]})
    assert rows[0]["measured"] == "21 / 22 caught by name (95%)"
    assert "2 categories" in rows[0]["what"]


def test_markers_are_required(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# no block\n")
    results = tmp_path / "results"
    results.mkdir()
    with pytest.raises(rf.FiguresError):
        rf.check(readme, results)
    readme.write_text(f"{rf.BEGIN}\n{rf.BEGIN}\n{rf.END}\n")
    with pytest.raises(rf.FiguresError):
        rf.write(readme, results)
    assert rf.main(["--check", "--readme", str(readme), "--results", str(results)]) == 2
