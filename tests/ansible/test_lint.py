"""ansible-lint passes on roles/ with the production profile (.ansible-lint)."""

from __future__ import annotations

import os
import subprocess

import pytest

from .conftest import BIN, ROOT


@pytest.mark.slow
def test_ansible_lint_production_profile():
    exe = BIN / "ansible-lint"
    if not exe.is_file():
        pytest.fail("ansible-lint is not installed: scripts/setup.sh installs it into .venv "
                    "(pip install -e '.[dev]'); run scripts/setup.sh", pytrace=False)
    proc = subprocess.run([str(exe), "--profile", "production", "roles/"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={"PATH": f"{BIN}:/usr/bin:/bin", "NO_COLOR": "1",
                               "HOME": os.environ.get("HOME", "/root")})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "passed" in (proc.stdout + proc.stderr).lower()
