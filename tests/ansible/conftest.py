"""Ansible tests: the export, the roles rendering the shared templates, a real lab."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LABCITY = ROOT / "tests" / "fixtures" / "labcity"
BIN = Path(sys.executable).parent
PESDC = [sys.executable, "-m", "pesdc"]


def pesdc(*args: str, timeout: float = 600, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PESDC, *args], capture_output=True, text=True, timeout=timeout,
                          **kw)  # type: ignore[call-overload,no-any-return]


def require_lab() -> None:
    from pesdc.lab import image

    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    if not image.is_ready():
        pytest.skip("lab base image not built (pesdc lab image build)")


@pytest.fixture(scope="session")
def ansible_playbook() -> str:
    exe = BIN / "ansible-playbook"
    if not exe.is_file():
        found = shutil.which("ansible-playbook")
        if not found:
            pytest.skip("ansible-playbook not installed")
        return found
    return str(exe)
