"""A file or folder inside a tree opens the whole tree (issue 18 point 1): the command
sees the center's parent and defaults, and reports only the path's center."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from pesdc.cli.main import main

TREE = Path(__file__).resolve().parents[2] / "topologies"
JINAN = TREE / "shandong" / "jinan.yaml"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_a_center_file_checks_that_center_in_its_tree() -> None:
    code, _out, err = run("validate", str(JINAN))
    assert code == 0, err
    assert "not in this tree" not in err
    assert "1 data center(s) of 6 in the tree" in err


def test_validate_a_file_outside_any_tree_keeps_todays_behaviour(tmp_path: Path) -> None:
    alone = tmp_path / "jinan.yaml"
    shutil.copy(JINAN, alone)
    code, _out, err = run("validate", str(alone))
    assert code == 1
    assert "'shandong' is not in this tree" in err


def test_render_a_center_file_renders_only_that_center(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _stdout, err = run("render", str(JINAN), "-o", str(out))
    assert code == 0, err
    assert sorted(p.name for p in (out / "devices").iterdir()) == ["jinan"]
    manifest = (out / "MANIFEST").read_text()
    assert "devices/jinan/" in manifest and "shandong/" not in manifest


def test_show_a_center_file_needs_no_dc_and_refuses_another_center() -> None:
    code, out, err = run("show", str(JINAN))
    assert code == 0, err
    assert "up-shandong" in out
    code, _out, err = run("show", str(JINAN), "--dc", "zibo")
    assert code != 0
    assert "not in the path given" in err
