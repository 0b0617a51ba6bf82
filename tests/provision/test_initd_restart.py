"""A restart through an init script whose stop does not wait (chrony's, on Debian) must
leave the daemon running. Run for real: a daemon that takes a second to shut down, its
init script bind-mounted over /etc/init.d in a private mount namespace."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from pesdc.provision import deploys

# Stop sends TERM and returns at once; start skips when the old process is still alive,
# exactly as Debian's /etc/init.d/chrony does.
SCRIPT = """#!/bin/sh
PIDFILE={state}/slowd.pid
alive() {{ [ -f $PIDFILE ] && kill -0 "$(cat $PIDFILE)" 2>/dev/null; }}
case "$1" in
  start)
    if alive; then echo "already running"; exit 0; fi
    setsid sh -c 'echo $$ > {state}/slowd.pid; trap "sleep 1; rm -f {state}/slowd.pid; exit 0" TERM;
                  while :; do sleep 0.1; done' </dev/null >/dev/null 2>&1 &
    sleep 0.1 ;;
  stop) alive && kill "$(cat $PIDFILE)"; exit 0 ;;
  status) alive ;;
esac
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a mount namespace")
pytestmark = [pytestmark, pytest.mark.lab]


def _run_with_script(tmp_path: Path, command: str) -> subprocess.CompletedProcess[str]:
    initd = tmp_path / "initd"
    initd.mkdir(exist_ok=True)
    script = initd / "slowd"
    script.write_text(SCRIPT.format(state=tmp_path))
    script.chmod(0o755)
    inner = f"mount --bind {initd} /etc/init.d && mkdir -p /var/log && {command}"
    return subprocess.run(["unshare", "--mount", "sh", "-c", inner], capture_output=True,
                          text=True, timeout=60)


def _pid(tmp_path: Path) -> int | None:
    f = tmp_path / "slowd.pid"
    try:
        pid = int(f.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


@pytest.fixture
def state(tmp_path: Path):
    yield tmp_path
    pid = _pid(tmp_path)
    if pid:
        os.kill(pid, signal.SIGKILL)
    Path("/var/log/pesdc-initd-slowd.log").unlink(missing_ok=True)


def test_naive_restart_loses_the_daemon(state: Path):
    # The race the fix is for, shown on the same script: stop; start.
    assert _run_with_script(state, "/etc/init.d/slowd start").returncode == 0
    assert _pid(state)
    _run_with_script(state, "/etc/init.d/slowd stop; /etc/init.d/slowd start")
    time.sleep(1.5)
    assert _pid(state) is None


def test_pesdc_restart_leaves_it_running(state: Path):
    assert _run_with_script(state, "/etc/init.d/slowd start").returncode == 0
    old = _pid(state)
    res = _run_with_script(state, deploys.service_reload_command("debian", "slowd", "restart"))
    assert res.returncode == 0, res.stderr
    time.sleep(1.5)
    new = _pid(state)
    assert new and new != old


def test_restart_reports_a_daemon_that_does_not_come_back(state: Path):
    # A start that does nothing: the restart must fail and say so.
    cmd = deploys.service_reload_command("debian", "slowd", "restart")
    broken = f"sed -i 's/^  start)/  start) exit 0 ;; never)/' /etc/init.d/slowd && {cmd}"
    assert _run_with_script(state, "/etc/init.d/slowd start").returncode == 0
    res = _run_with_script(state, broken)
    assert res.returncode != 0
    assert "slowd is not running after its restart" in res.stderr
