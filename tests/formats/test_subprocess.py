"""The documents as a real process prints them (the installed entry point, its stdout
bytes): a file name holding terminal escapes reaches the JSON escaped, and reads back
as the name it is."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.formats.conftest import conforms

ESC_NAME = "city\x1b[2J\x1b]0;owned\x07.yaml"
RAW = [b"\x1b", b"\x07", b"\xc2\x9b", b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xae"]
MINI = Path(__file__).resolve().parents[1] / "fixtures/mini"


@pytest.fixture
def hostile_name(tmp_path: Path) -> Path:
    """The mini tree (valid) with its city file under a name holding escapes."""
    tree = tmp_path / "mini"
    shutil.copytree(MINI, tree)
    (tree / "city.yaml").rename(tree / ESC_NAME)
    return tree


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "pesdc", *args], cwd=cwd,
                          capture_output=True, timeout=120, check=False)


@pytest.mark.parametrize(("argv", "name"), [(["stage", "check"], "stage-check"),
                                            (["show"], "show")])
def test_a_hostile_file_name_is_escaped_in_the_document(hostile_name: Path, argv: list[str],
                                                        name: str) -> None:
    proc = _run(*argv, ".", "--format", "json", cwd=hostile_name)
    assert proc.returncode == 0, proc.stderr.decode()
    assert not [b for b in RAW if b in proc.stdout]
    doc = json.loads(proc.stdout.decode("utf-8"))
    conforms(name, doc)
    if name == "stage-check":
        assert [Path(c["file"]).name for c in doc["cities"]] == [ESC_NAME]
    else:
        assert {c["name"] for c in doc["centers"]} >= {"jinan"}
