"""Ansible tests: the export, the roles rendering the shared templates, a real lab."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_lab

ROOT = Path(__file__).resolve().parents[2]
LABCITY = ROOT / "tests" / "fixtures" / "labcity"
BIN = Path(sys.executable).parent
PESDC = [sys.executable, "-m", "pesdc"]
__all__ = ["BIN", "LABCITY", "PESDC", "ROOT", "pesdc", "require_lab"]


def pesdc(*args: str, timeout: float = 600, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PESDC, *args], capture_output=True, text=True, timeout=timeout,
                          **kw)  # type: ignore[call-overload,no-any-return]


@pytest.fixture(scope="session")
def ansible_playbook() -> str:
    exe = BIN / "ansible-playbook"
    if not exe.is_file():
        found = shutil.which("ansible-playbook")
        if not found:
            pytest.fail("ansible-playbook is not installed: scripts/setup.sh installs "
                        "ansible-core into .venv; run scripts/setup.sh", pytrace=False)
        return found
    return str(exe)
