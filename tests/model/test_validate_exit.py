"""``pesdc validate`` run as the executable ends without tearing the loaded tree down
(model_cmds: os._exit): everything it says still reaches a pipe, whole, with its exit
status; in-process callers (CliRunner) still get SystemExit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pesdc.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "cli")}
    return subprocess.run([sys.executable, "-m", "pesdc", "validate", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120)


def test_the_executable_says_everything_through_a_pipe(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ok = run(ROOT, "topologies")
    assert (ok.returncode, ok.stdout) == (0, "ok\n")
    assert "0 error(s)" in ok.stderr
    shutil.copytree(ROOT / "topologies", tmp_path / "t")
    city = tmp_path / "t/shandong/zibo.yaml"
    city.write_text(city.read_text(encoding="utf-8").replace("redundancy: ",
                                                             "redundancy: nosuch-", 1),
                    encoding="utf-8")
    bad = run(tmp_path, "t", "--format", "json")
    doc = json.loads(bad.stdout)  # the whole document, flushed before the exit
    assert bad.returncode == 1 and doc["errors"] > 0 and not doc["ok"]
    monkeypatch.chdir(tmp_path)
    again = CliRunner().invoke(main, ["validate", "t", "--format", "json"])
    assert again.exit_code == 1 and json.loads(again.stdout) == doc
