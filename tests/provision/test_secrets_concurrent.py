"""Secrets generated once even when several runs start at once (parallel test workers,
two operators' first runs on one controller): every run gets the value the file holds,
never one it made and another run replaced."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

RUNS = 16
# Each run waits for one start time (after every interpreter has started), then asks.
_CALL = ("import sys, time; from pesdc.provision import secrets as s; "
         "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); "
         "print(s.secret('c1', 'replication_password') if sys.argv[1] == 'pw' else "
         "s.generated_backup_keypair('c1')[1])")


@pytest.mark.parametrize("what", ["pw", "key"])
def test_runs_started_together_get_one_value(tmp_path: Path, what: str) -> None:
    env = {**os.environ, "PESDC_STATE_DIR": str(tmp_path / "state")}
    env.pop("PESDC_SECRET_REPLICATION_PASSWORD", None)
    start = str(time.time() + 3)
    procs = [subprocess.Popen([sys.executable, "-c", _CALL, what, start], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(RUNS)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    values = {o.strip() for o, _ in outs}
    assert len(values) == 1, values
    held = tmp_path / "state" / "secrets" / "c1"
    on_disk = (held / ("replication_password" if what == "pw" else "backup_ed25519.pub")
               ).read_text().strip()
    assert values == {on_disk}
