"""The executable's exit (pesdc.cli.entry.leave): it skips the interpreter's teardown
and nothing else. The exit status, every byte written to the streams, the atexit
handlers and a running thread's work are what a normal exit gives."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)


def test_status_streams_and_atexit_handlers_as_a_normal_exit() -> None:
    r = _python("import atexit, sys\n"
                "from pesdc.cli.entry import leave\n"
                "atexit.register(lambda: print('handler ran'))\n"
                "sys.stdout.write('x' * 200000)\n"
                "sys.stderr.write('on stderr')\n"
                "leave(3)\n"
                "print('after leave')\n")
    assert r.returncode == 3
    assert r.stdout == "x" * 200000 + "handler ran\n"
    assert r.stderr == "on stderr"


def test_a_running_thread_is_waited_for() -> None:
    r = _python("import threading, time\n"
                "from pesdc.cli.entry import leave\n"
                "def work():\n"
                "    time.sleep(0.3)\n"
                "    print('thread finished', flush=True)\n"
                "threading.Thread(target=work).start()\n"
                "leave(0)\n"
                "print('leave returned')\n")
    assert r.returncode == 0
    assert r.stdout == "leave returned\nthread finished\n"


def test_a_message_exit_is_pythons_own() -> None:
    r = _python("from pesdc.cli.entry import leave\n"
                "leave('a message')\n"
                "raise SystemExit('a message')\n")
    assert (r.returncode, r.stderr) == (1, "a message\n")


def test_the_executable_keeps_its_exit_codes_and_whole_output(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "pesdc", "validate", "topologies",
                         "--format", "json"], capture_output=True, text=True, timeout=300,
                        cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] is True
    bad = tmp_path / "bad.yaml"
    bad.write_text("tier: city\nname: [unclosed\n")
    r = subprocess.run([sys.executable, "-m", "pesdc", "validate", str(bad)],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 1
    assert "bad.yaml:3:1: error YAML001" in r.stdout + r.stderr


def test_a_profiler_still_gets_to_write_its_results(tmp_path: Path) -> None:
    """``python -m cProfile -o F -m pesdc ...`` writes F after the program returns."""
    prof = tmp_path / "validate.prof"
    r = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "pesdc",
                        "validate", "topologies"], capture_output=True, text=True,
                       timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    import pstats
    assert pstats.Stats(str(prof)).total_calls > 0
