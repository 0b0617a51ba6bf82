from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pesdc.model import validate
from pesdc.render.context import CenterFacts
from tests.conftest import require_root

ROOT = Path(__file__).resolve().parents[2]
LABCITY = ROOT / "tests" / "fixtures" / "labcity"
PESDC = [sys.executable, "-m", "pesdc"]


def needs_root() -> None:
    """For a `lab` test (tests/conftest.py checks the marker)."""
    require_root("a scratch network namespace needs root")


@pytest.fixture(scope="session")
def labcity():
    result = validate([LABCITY])
    assert result.report.ok, [d.format() for d in result.report.errors]
    return result.topology


@pytest.fixture(scope="session")
def weihai_facts(labcity):
    return CenterFacts.of(labcity, labcity.datacenters["weihai"])


@pytest.fixture
def labcity_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "labcity"
    shutil.copytree(LABCITY, dst)
    return dst


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)
