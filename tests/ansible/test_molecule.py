"""`molecule test -s baseline`: create (a lab of namespace hosts), converge, idempotence,
verify, destroy."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from .conftest import BIN, ROOT, require_lab

pytestmark = [pytest.mark.lab, pytest.mark.slow]


def test_molecule_baseline():
    require_lab()
    molecule = BIN / "molecule"
    if not molecule.is_file() and not shutil.which("molecule"):
        pytest.fail("molecule is not installed: scripts/setup.sh installs it into .venv "
                    "(pip install -e '.[dev]'); run scripts/setup.sh", pytrace=False)
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    proc = subprocess.run([str(molecule) if molecule.is_file() else "molecule", "test", "-s",
                           "baseline"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1200)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
