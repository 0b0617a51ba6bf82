"""A real lab of the small Linux city, up once for the module, down (and checked
clean) at the end. Needs root and the cached base image (pesdc lab image build): every
test here is marked `lab` and require_lab (tests/conftest.py) checks that it is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_lab

ROOT = Path(__file__).resolve().parents[2]
LABCITY = ROOT / "tests" / "fixtures" / "labcity"
LAB = "tweihai"  # tests use their own lab name: never the one an engineer has up
PESDC = [sys.executable, "-m", "pesdc"]


def pesdc(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PESDC, *args], capture_output=True, text=True, timeout=timeout)


__all__ = ["LAB", "LABCITY", "pesdc", "require_lab"]


@pytest.fixture(scope="package")
def lab_up():
    require_lab()
    res = pesdc("lab", "up", str(LABCITY), "--name", LAB)
    assert res.returncode == 0, res.stdout + res.stderr
    yield LAB
    down = pesdc("lab", "down", "--name", LAB)
    assert down.returncode == 0, down.stderr
