"""A real lab of the small Linux city, up once for the module, down (and checked
clean) at the end. Needs root and the cached base image (pesdc lab image build)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pesdc.lab import image

ROOT = Path(__file__).resolve().parents[2]
LABCITY = ROOT / "tests" / "fixtures" / "labcity"
LAB = "tweihai"  # tests use their own lab name: never the one an engineer has up
PESDC = [sys.executable, "-m", "pesdc"]


def pesdc(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PESDC, *args], capture_output=True, text=True, timeout=timeout)


def require_lab() -> None:
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    if not image.is_ready():
        pytest.skip("lab base image not built (pesdc lab image build; .ci/run builds it)")


@pytest.fixture(scope="package")
def lab_up():
    require_lab()
    res = pesdc("lab", "up", str(LABCITY), "--name", LAB)
    assert res.returncode == 0, res.stdout + res.stderr
    yield LAB
    down = pesdc("lab", "down", "--name", LAB)
    assert down.returncode == 0, down.stderr
