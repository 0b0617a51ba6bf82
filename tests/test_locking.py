"""The live center's lock on its bastion (pesdc.locking.bastion_lock), `pesdc lock
status|break`, and holding() choosing the bastion lock for a live target.

The stand-in target (``ShBastion``) is honest about what it is: its ``bastion_argv``
runs the shell command with ``sh -c`` on this machine, in a temporary lock directory
(``PESDC_BASTION_LOCK_DIR``), instead of ``ssh -F CFG pesdc-bastion COMMAND``. What runs
is the very shell text pesdc sends to a bastion (mkdir, holder.json, heartbeat, token
check), by real processes; what is not shown here is ssh itself and a second machine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pesdc import journal
from pesdc.cli.main import main
from pesdc.locking import (
    STALE_AFTER,
    BastionBusy,
    BastionLockError,
    bastion_break,
    bastion_lock,
    bastion_status,
    center_lock,
)


class ShBastion:
    live = True
    lab = None
    center = "jinan"
    timeout = 3
    label = "live via bastion jump-1 (stand-in: sh -c on this machine)"

    def bastion_argv(self, command: str) -> list[str]:
        return ["sh", "-c", command]

    def tunnel_argv(self, address: str, port: int) -> list[str]:
        return ["false"]  # no log server here: the sends fail, and say so


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PESDC_BASTION_LOCK_DIR", str(tmp_path / "bastion" / "pesdc-lock"))
    (tmp_path / "bastion").mkdir()
    return tmp_path


HOLD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, sys.argv[2])
    from test_locking import ShBastion
    from pesdc.locking import bastion_lock
    with bastion_lock(ShBastion(), "jinan", "net apply",
                      argv=["net", "apply", "CITY", "--live", "p.yaml"], heartbeat=0.2):
        print("held", flush=True)
        time.sleep(float(sys.argv[1]))
""")


def _holder(seconds: float) -> subprocess.Popen[str]:
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(seconds), str(Path(__file__).parent)],
                         stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    assert p.stdout is not None and p.stdout.readline().strip() == "held"
    return p


def test_second_run_refused_naming_the_holder_then_released(env: Path) -> None:
    p = _holder(30)
    try:
        t = time.monotonic()
        with pytest.raises(BastionBusy) as err, bastion_lock(ShBastion(), "jinan"):
            pass
        assert time.monotonic() - t < 5
        h = err.value.holder
        assert h is not None and h.pid == p.pid and h.action == "net apply"
        msg = str(err.value)
        for part in (f"pid {p.pid}", "command: pesdc net apply CITY --live p.yaml",
                     "center jinan is held on the bastion", f"user {h.user}", "since 20"):
            assert part in msg, (part, msg)
        assert "STALE" not in msg
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)
    # SIGTERM ends python without running the finally: the holder died, the lock stays
    state = bastion_status(ShBastion(), "jinan")
    assert state.held
    lock = Path(state.path)
    os.utime(lock / "holder.json", (time.time() - STALE_AFTER - 5,) * 2)  # time passes
    state = bastion_status(ShBastion(), "jinan")
    assert state.stale and "STALE" in state.describe()
    # stale still refuses: breaking it is explicit
    with pytest.raises(BastionBusy), bastion_lock(ShBastion(), "jinan"):
        pass
    was = bastion_break(ShBastion(), "jinan")
    assert was.held and was.holder is not None and was.holder.pid == p.pid
    assert not lock.exists()
    with bastion_lock(ShBastion(), "jinan") as mine:  # free again
        assert json.loads((lock / "holder.json").read_text())["pid"] == mine.pid
    assert not lock.exists()  # released


def test_heartbeat_keeps_a_live_holder_fresh(env: Path) -> None:
    p = _holder(30)
    try:
        lock = Path(bastion_status(ShBastion(), "jinan").path)
        os.utime(lock / "holder.json", (time.time() - STALE_AFTER - 5,) * 2)
        time.sleep(1.5)  # the holder beats every 0.2 s here
        state = bastion_status(ShBastion(), "jinan")
        assert state.held and not state.stale and (state.idle or 0) < 5
    finally:
        p.kill()
        p.wait()


def test_release_leaves_someone_elses_lock(env: Path) -> None:
    with bastion_lock(ShBastion(), "jinan"):
        lock = Path(bastion_status(ShBastion(), "jinan").path)
        bastion_break(ShBastion(), "jinan")
        # someone else takes it meanwhile
        p = _holder(30)
    try:
        assert (lock / "holder.json").is_file()  # our release did not remove theirs
        assert json.loads((lock / "holder.json").read_text())["pid"] == p.pid
    finally:
        p.kill()
        p.wait()


def test_no_lock_directory_is_a_clear_error(env: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    monkeypatch.setenv("PESDC_BASTION_LOCK_DIR", str(env / "no" / "such" / "dir"))
    with pytest.raises(BastionLockError) as exc, bastion_lock(ShBastion(), "jinan"):
        pass
    assert "has no lock directory" in str(exc.value) and "install -d -m 0777" in str(exc.value)


def test_holding_uses_the_bastion_lock_for_a_live_target(env: Path) -> None:
    from pesdc.cli.provision_cmd import EXIT_BUSY, holding

    p = _holder(30)
    try:
        with pytest.raises(SystemExit) as exc, holding("jinan", None, "apply", False,
                                                       ShBastion()):
            pass
        assert exc.value.code == EXIT_BUSY
        with holding("jinan", None, "apply", False):  # no target: the local lock, free
            pass
    finally:
        p.kill()
        p.wait()


def _cli(args: list[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    from pesdc.cli import journal_cmd
    from pesdc.model import validate

    loaded = validate([Path(__file__).parent / "fixtures" / "mini"])
    # The live target as the stand-in: `--live PROFILE` would log in to a bastion.
    monkeypatch.setattr(journal_cmd, "_live", lambda *a: (loaded, ShBastion()))
    monkeypatch.setattr(journal_cmd, "_close", lambda target: None)  # no ssh master
    return CliRunner().invoke(main, args)


def test_lock_status_and_break_journaled(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = _holder(30)
    p.kill()  # the holder dies
    p.wait()
    res = _cli(["lock", "status", "CITY", "--live", "p.yaml"], monkeypatch)
    assert res.exit_code == 0 and f"pid {p.pid}" in res.output, res.output
    res = _cli(["lock", "break", "CITY", "--live", "p.yaml", "--reason",
                "holder's laptop crashed"], monkeypatch)
    # broken and journaled; the log server copy could not be sent: exit 1, said
    assert res.exit_code == 1, res.output
    assert "broke the lock of center jinan" in res.output and "journaled as entry 1" \
        in res.output
    assert "journal entry 1 was not sent to the log server log-1 (10.38.9.10)" in res.output
    (row,) = journal.read()
    assert row["action"] == "lock break" and row["reason"] == "holder's laptop crashed"
    assert row["holder"]["pid"] == p.pid and row["target"] == ShBastion.label
    assert not bastion_status(ShBastion(), "jinan").held
    res = _cli(["lock", "break", "CITY", "--live", "p.yaml", "--reason", "again"],
               monkeypatch)
    assert res.exit_code == 0 and "nothing to break" in res.output
    assert len(journal.read()) == 1


def test_local_lock_status_and_break(env: Path) -> None:
    res = CliRunner().invoke(main, ["lock", "status", "--dc", "weihai"])
    assert res.exit_code == 0 and "center weihai: free" in res.output
    assert "cannot be stale" in res.output
    with center_lock("weihai", "l1", argv=["apply", "CITY", "--lab", "l1"]):
        res = CliRunner().invoke(main, ["lock", "status", "--dc", "weihai"])
        assert "center weihai (lab l1): held by user" in res.output, res.output
        assert "command: pesdc apply CITY --lab l1" in res.output
        res = CliRunner().invoke(main, ["lock", "break", "--dc", "weihai", "--lab", "l1",
                                        "--reason", "x"])
        assert res.exit_code == 1 and "cannot be stale" in res.output
    res = CliRunner().invoke(main, ["lock", "break", "--dc", "weihai", "--lab", "l1",
                                    "--reason", "x"])
    assert res.exit_code == 0 and "nothing to break" in res.output
    assert journal.read() == []
