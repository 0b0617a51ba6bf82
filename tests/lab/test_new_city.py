"""A city written by `pesdc new city` is ready for the lab: created in a tmp copy of the
example tree, it validates, comes up as lab ``hnewc`` and verifies routing and
isolation with real packets (PASS), then goes down."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import require_lab

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
LAB = "hnewc"  # this test's own lab name


def pesdc(cwd: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pesdc", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def ok(res: subprocess.CompletedProcess[str], what: str) -> None:
    assert res.returncode == 0, f"{what}: rc={res.returncode}\n{res.stdout[-3000:]}\n" \
                                f"{res.stderr[-3000:]}"


def test_new_city_comes_up_and_verifies(tmp_path):
    require_lab()
    tree = tmp_path / "topologies"
    shutil.copytree(ROOT / "topologies", tree)
    timings: dict[str, float] = {}

    def step(name: str, *args: str) -> subprocess.CompletedProcess[str]:
        t = time.monotonic()
        res = pesdc(tree / "shandong", *args)
        timings[name] = time.monotonic() - t
        return res

    ok(step("new", "new", "city", "weifang", "--parent", "shandong", "--stage", "3",
            "--division-code", "370700"), "pesdc new city")
    ok(step("validate", "validate", str(tree)), "validate")
    started = False
    try:
        started = True
        ok(step("lab up", "lab", "up", str(tree), "--dc", "weifang", "--name", LAB),
           "lab up")
        res = step("verify", "verify", str(tree), "--dc", "weifang", "--lab", LAB,
                   "--only", "routing", "--only", "isolation")
        ok(res, "verify")
        assert "PASS" in res.stdout + res.stderr
        assert "isolation" in res.stdout and "routing" in res.stdout
    finally:
        if started:
            down = step("lab down", "lab", "down", "--name", LAB)
            assert down.returncode == 0, down.stderr
        print("timings:", ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
