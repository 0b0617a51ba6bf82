"""The per-center lock (pesdc.locking), without a lab: real processes, real flock."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pesdc.durable import StateWriteError
from pesdc.locking import CenterBusy, center_lock, lock_path, read_holder

HOLD = textwrap.dedent("""
    import sys, time
    from pesdc.locking import center_lock
    with center_lock("weihai", sys.argv[1] or None, argv=["apply", "CITY", "--lab", "x"]):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path))
    return tmp_path


def _holder(lab: str, seconds: float) -> subprocess.Popen[str]:
    p = subprocess.Popen([sys.executable, "-c", HOLD, lab, str(seconds)],
                         stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    assert p.stdout is not None and p.stdout.readline().strip() == "held"
    return p


def test_second_run_refused_at_once_naming_the_holder(state: Path) -> None:
    p = _holder("", 30)
    try:
        t = time.monotonic()
        with pytest.raises(CenterBusy) as err, center_lock("weihai"):
            pass
        assert time.monotonic() - t < 2  # refused at once, not after waiting
        h = err.value.holder
        assert h is not None and h.pid == p.pid and h.host == socket.gethostname()
        assert h.since.endswith("Z") and h.command == "pesdc apply CITY --lab x"
        msg = str(err.value)
        for part in (f"pid {p.pid}", f"on host {socket.gethostname()}", "since ",
                     "command: pesdc apply CITY --lab x", "center weihai",
                     str(lock_path("weihai"))):
            assert part in msg, (part, msg)
        assert f"user {h.user}" in msg
    finally:
        p.kill()
        p.wait()


def test_a_dead_holder_never_blocks(state: Path) -> None:
    p = _holder("", 60)
    p.send_signal(signal.SIGKILL)
    p.wait()
    path = lock_path("weihai")
    stale = read_holder(path)
    assert stale is not None and stale.pid == p.pid  # its description is still there
    with center_lock("weihai") as mine:  # but the kernel released its flock
        assert mine.pid == os.getpid()
        assert read_holder(path) == mine
    assert path.read_text() == ""  # released: no description left behind


def test_labs_and_production_are_separate_centers(state: Path) -> None:
    p = _holder("tflt", 30)
    try:
        with center_lock("weihai"), center_lock("weihai", "other"):
            pass  # production and another lab of the same center are not held
        with pytest.raises(CenterBusy, match=r"center weihai \(lab tflt\)"), \
                center_lock("weihai", "tflt"):
            pass
    finally:
        p.kill()
        p.wait()
    assert lock_path("weihai", "tflt").name == "weihai.lab-tflt.lock"


def test_lock_released_when_the_block_raises(state: Path) -> None:
    with pytest.raises(RuntimeError), center_lock("weihai"):
        raise RuntimeError("boom")
    with center_lock("weihai"):
        pass


def _no_room() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def test_state_dir_that_cannot_take_the_description_fails_loudly(state: Path) -> None:
    """A process that may not grow any file (RLIMIT_FSIZE 0: EFBIG, as a full disk gives
    ENOSPC) cannot describe itself: it must not start, and leaves no partial file."""
    code = textwrap.dedent("""
        import json
        from pesdc.durable import StateWriteError
        from pesdc.locking import center_lock
        try:
            with center_lock("weihai"):
                print(json.dumps({"held": True}))
        except StateWriteError as exc:
            print(json.dumps({"error": str(exc), "errno": exc.errno}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         preexec_fn=_no_room, check=True, env=os.environ.copy())
    res = json.loads(out.stdout)
    assert "error" in res and "the center lock's description" in res["error"], res
    assert "File too large" in res["error"]
    assert lock_path("weihai").read_text() == ""
    with center_lock("weihai"):
        pass


def test_state_write_error_names_a_full_disk(tmp_path: Path) -> None:
    import errno
    exc = StateWriteError(tmp_path / "x", OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
                          "the journal")
    assert exc.full and "No space left on device" in str(exc)
    assert "the file system holding it is full" in str(exc) and "bytes free of" in str(exc)
