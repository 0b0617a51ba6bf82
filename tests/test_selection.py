"""Honest test selection (issue 13 point 7): lab tests are marked, the marker cannot be
forgotten, and a run without root says the lab tests did not run and fails unless the
offline subset was asked for. Each run here is pytest on a tiny tree of its own (with
a copy of tests/conftest.py), through scripts/run-tests.sh, the verdict of
scripts/test.sh; the unprivileged runs are made as nobody when we are root."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, TESTS, unprivileged

RUN_TESTS = ROOT / "scripts" / "run-tests.sh"

# What a test module that brings up a lab or needs root says somewhere in its text (not
# `unshare`: `unshare --map-root-user` needs no root; the root checks are caught at run
# time by tests/conftest.py; nor `"lab", "up", "--help"`, which only prints help).
LAB_SIGNS = re.compile(r'lab_up\b|require_lab\(|require_root\(|needs_root\(|lab_image|'
                       r'"lab", "up"(?!, "--help")|"netns", "add"|geteuid\(|getuid\(')

PLAIN = "def test_plain():\n    assert True\n"
LAB = ("import pytest\n\npytestmark = pytest.mark.lab\n\n\n"
       "def test_in_the_lab():\n    assert True\n")


def test_every_module_that_needs_a_lab_or_root_is_marked() -> None:
    unmarked = []
    for path in sorted(TESTS.rglob("test_*.py")):
        if path.name == Path(__file__).name or "fixtures" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if LAB_SIGNS.search(text) and "pytest.mark.lab" not in text:
            unmarked.append(str(path.relative_to(ROOT)))
    assert unmarked == [], f"mark these `lab` (pytestmark = pytest.mark.lab): {unmarked}"


@pytest.fixture
def tree() -> Iterator[Path]:
    """A tiny test tree nobody can read (not under pytest's 0700 basetemp)."""
    top = Path(tempfile.mkdtemp(prefix="pesdc-selection-"))
    top.chmod(0o755)
    shutil.copy(TESTS / "conftest.py", top / "conftest.py")
    (top / "pytest.ini").write_text("[pytest]\naddopts = -ra --strict-markers\n")
    try:
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _write(tree: Path, name: str, text: str) -> None:
    (tree / name).write_text(text)
    for p in tree.iterdir():
        p.chmod(0o644)


def _run(tree: Path, argv: list[str], **env: str) -> tuple[int, str]:
    # this run is its own: not offline, nor a phase of the test.sh run that runs us
    environ = {k: v for k, v in os.environ.items()
               if k not in ("PESDC_OFFLINE", "PESDC_RUN_PHASE")}
    # No entry-point plugins (testinfra, hypothesis, ...): seconds each, nothing used here.
    environ.update(env, PYTHONDONTWRITEBYTECODE="1", COLUMNS="300",
                   PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    res = subprocess.run([*argv, "-p", "no:cacheprovider", "-q", str(tree)], cwd=tree,
                         capture_output=True, text=True, timeout=120, env=environ)
    return res.returncode, res.stdout + res.stderr


def test_a_root_check_in_a_test_not_marked_lab_fails(tree: Path) -> None:
    """Enforced as root too: an inline geteuid check, one in a module-level skipif, and
    the shared helper each fail the unmarked test, naming the marker to add."""
    _write(tree, "test_inline.py", "import os\nimport pytest\n\n\ndef test_inline():\n"
           "    if os.geteuid() != 0:\n        pytest.skip('needs root')\n")
    _write(tree, "test_atimport.py", "import os\nimport pytest\n\npytestmark = "
           "pytest.mark.skipif(os.geteuid() != 0, reason='root')\n\n\n"
           "def test_atimport():\n    pass\n")
    _write(tree, "test_helper.py", "from conftest import require_root\n\n\n"
           "def test_helper():\n    require_root('a namespace')\n")
    _write(tree, "test_marked.py", "import os\nimport pytest\n\npytestmark = "
           "pytest.mark.lab\n\n\ndef test_marked():\n    os.geteuid()\n")
    rc, out = _run(tree, [str(ROOT / ".venv/bin/pytest")])
    assert rc == 1, out
    for name in ("test_inline.py::test_inline", "test_atimport.py::test_atimport",
                 "test_helper.py::test_helper"):
        assert re.search(rf"(FAILED|ERROR) {name} .*not marked `lab`", out), (name, out)
    assert "FAILED test_marked.py" not in out, out
    # The import-time one fails in its setup: an error. The marked one passes as root.
    assert re.search(r"2 failed, 1 (passed|skipped), 1 error in", out), out


def test_without_root_the_lab_tests_did_not_run_and_the_run_fails(tree: Path) -> None:
    _write(tree, "test_plain.py", PLAIN)
    _write(tree, "test_lab.py", LAB)
    rc, out = _run(tree, unprivileged([str(RUN_TESTS)]))
    assert rc == 1, out
    assert "1 lab tests did NOT run" in out and "this run is NOT a pass" in out, out
    assert "1 passed, 1 skipped" in out, out
    assert out.rstrip().splitlines()[-1].startswith(
        "test.sh: FAIL: not root, so the lab tests did NOT run"), out


@pytest.mark.parametrize("ask", [["--offline"], ["PESDC_OFFLINE=1"]], ids=["flag", "env"])
def test_the_offline_subset_passes_saying_the_lab_tests_were_not_run(
        tree: Path, ask: list[str]) -> None:
    _write(tree, "test_plain.py", PLAIN)
    _write(tree, "test_lab.py", LAB)
    argv = unprivileged([str(RUN_TESTS)])
    env = {}
    if ask == ["--offline"]:
        argv.append("--offline")
    else:
        env["PESDC_OFFLINE"] = "1"
    rc, out = _run(tree, argv, **env)
    assert rc == 0, out
    assert "1 lab tests deselected, NOT run" in out and "1 passed, 1 deselected" in out, out
    assert out.rstrip().splitlines()[-1] == (
        'test.sh: offline subset passed (-m "not lab"): the lab tests were NOT run'), out


@pytest.mark.lab
def test_as_root_every_test_runs_and_a_lab_test_that_skips_fails_the_run(tree: Path) -> None:
    _write(tree, "test_plain.py", PLAIN)
    _write(tree, "test_lab.py", LAB)
    rc, out = _run(tree, [str(RUN_TESTS)])
    assert rc == 0, out
    assert "2 passed" in out and "did NOT run" not in out, out
    assert out.rstrip().splitlines()[-1] == "test.sh: passed, as root: the lab tests ran too"
    # Root is not the only reason a lab test may not run (an image not built, a mount
    # refused): any lab test that skips fails the run unless offline was asked for.
    _write(tree, "test_lab.py", LAB + "\n\ndef test_skips():\n    pytest.skip('no image')\n")
    rc, out = _run(tree, [str(RUN_TESTS)])
    assert rc == 1, out
    assert "1 lab tests did NOT run" in out and "1 skipped: no image" in out, out
