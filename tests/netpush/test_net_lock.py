"""`pesdc net apply` holds the same per-center lock as `pesdc apply` (issue 13, point 5:
two change runs on one center at once: the second refuses and names the holder).

The refused run is a lab run (``--lab nolab``) told it is already inside that lab's
controller namespace (``PESDC_INSIDE_LAB``): it really runs in a network namespace of
its own with no route (unshare), so that, were the lock not taken, nothing could leave
the machine. (A live run's lock is on the bastion: tests/test_locking.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pesdc.locking import center_lock
from tests.conftest import ROOT


def test_net_apply_refuses_a_center_another_run_holds(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PESDC_INSIDE_LAB", "nolab")
    with center_lock("weihai", "nolab", "apply", argv=["apply", "labcity"]):
        res = subprocess.run(
            ["unshare", "--net", "--map-root-user", sys.executable, "-m", "pesdc", "net",
             "apply", str(ROOT / "tests/fixtures/labcity"), "--dc", "weihai", "--lab",
             "nolab", "--json"],
            capture_output=True, text=True, timeout=120)
    assert res.returncode == 3, res.stdout + res.stderr
    assert "pesdc net apply: refused: center weihai (lab nolab) is held by another run" \
        in res.stderr
    assert "command: pesdc apply labcity" in res.stderr
    assert '"refused"' in res.stdout
    # Free again: the lock is the kernel's, released with its holder.
    with center_lock("weihai", "nolab", "net apply"):
        pass
