"""Progress of long commands (issue 18 point 5): a bar on a terminal, one flushed line
per step on stderr otherwise, stdout left to the report.

The reporters write to a real pipe (os.pipe: a line is readable the moment it is
written, or the test fails) and to a file that says it is a terminal; the clock is the
test's, so elapsed times and heartbeats are exact. The Ansible follower reads a real
events file written while it runs; the audit runs on the example tree (static)."""

from __future__ import annotations

import io
import json
import os
import re
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pesdc.cli.reporting import BarReporter, LineReporter, reporter
from pesdc.progress import NONE, Progress, host_label
from pesdc.provision.ansible_engine import EventFollower

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^\[ *\d+\.\ds\] \S.*$")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _pipe() -> tuple[int, io.TextIOWrapper]:
    r, w = os.pipe()
    return r, os.fdopen(w, "w", encoding="utf-8")  # block-buffered: only flush shows it


def _available(fd: int) -> str:
    """What the pipe holds now, without waiting."""
    out = b""
    while select.select([fd], [], [], 0)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        out += chunk
    return out.decode()


def test_lines_on_a_pipe_are_flushed_at_once_with_elapsed_time() -> None:
    fd, stream = _pipe()
    clock = Clock()
    rep = LineReporter(stream, clock=clock, lang="en")
    assert not stream.isatty()
    rep.start(17, "deploy_host: 17 operations on 1 hosts")
    assert _available(fd) == "[    0.0s] deploy_host: 17 operations on 1 hosts (17 steps)\n"
    clock.now += 12.4
    rep.begin("jinan/app-1", "operation 3/17 apt packages", "apt packages")
    assert _available(fd) == "[   12.4s] jinan/app-1: operation 3/17 apt packages ...\n"
    clock.now += 3.0
    rep.step("jinan/app-1", "operation 3/17 apt packages", "ok", "apt packages")
    assert _available(fd) == "[   15.4s] jinan/app-1: operation 3/17 apt packages ... ok\n"
    rep.step("jinan/app-2", "operation 3/17 apt packages", "failed: E: Unable to locate",
             "apt packages")
    clock.now += 100
    rep.done()
    tail = _available(fd).splitlines()
    assert tail == ["[   15.4s] jinan/app-2: operation 3/17 apt packages ... failed: "
                    "E: Unable to locate",
                    "[  115.4s] done: 2/17 step(s), 1 failed"]
    stream.close()
    os.close(fd)


def test_heartbeat_names_what_still_runs_at_most_every_30_s() -> None:
    fd, stream = _pipe()
    clock = Clock()
    rep = LineReporter(stream, clock=clock, lang="en")
    for h in ("jinan/app-1", "jinan/app-2", "jinan/db-1", "jinan/web-1"):
        rep.begin(h, "operation 1/20 apt packages", "apt packages")
    _available(fd)
    clock.now += 29.9
    rep.beat()
    assert _available(fd) == ""  # a line 29.9 s ago: not silence yet
    clock.now += 30.1
    rep.beat()
    assert _available(fd) == ("[   60.0s] ... still running: apt packages on 4 hosts, "
                              "60 s\n")
    clock.now += 10
    rep.beat()
    assert _available(fd) == ""  # the heartbeat was the last line, 10 s ago
    for h in ("jinan/app-1", "jinan/app-2", "jinan/db-1"):
        rep.step(h, "operation 1/20 apt packages", "ok", "apt packages")
    clock.now += 31
    rep.beat()
    assert _available(fd).endswith("still running: apt packages on jinan/web-1, 101 s\n")
    rep.step("jinan/web-1", "operation 1/20 apt packages", "changed", "apt packages")
    clock.now += 60
    rep.beat()
    assert "still running" not in _available(fd)  # nothing runs: nothing to say
    rep.done()
    stream.close()
    os.close(fd)


def test_heartbeat_thread_speaks_during_a_silent_step() -> None:
    """The real thread, the real clock: a step silent for 1.5 s with a 0.5 s heartbeat
    gets heartbeat lines while it runs, not after."""
    fd, stream = _pipe()
    rep = LineReporter(stream, heartbeat=0.5, tick=0.1, lang="en")
    rep.start(1, "one slow step")
    rep.begin("jinan/app-1", "operation 1/1 apt packages", "apt packages")
    time.sleep(1.5)
    during = _available(fd)
    rep.step("jinan/app-1", "operation 1/1 apt packages")
    rep.done()
    beats = [ln for ln in during.splitlines() if "still running" in ln]
    assert 2 <= len(beats) <= 3, during
    assert all(LINE.match(ln) for ln in during.splitlines())
    stream.close()
    os.close(fd)


def test_a_terminal_gets_the_bar_not_lines() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    term = Terminal()
    rep = reporter(term)
    assert isinstance(rep, BarReporter)
    with rep:
        rep.start(2, "apply jinan")
        rep.begin("jinan/app-1", "operation 1/2 apt packages")
        rep.step("jinan/app-1", "operation 1/2 apt packages")
        rep.step("jinan/app-1", "operation 2/2 sshd", "failed: sshd -t: bad option")
    shown = term.getvalue()
    assert not re.search(r"^\[ *\d+\.\ds\]", shown, re.M)  # no log lines on a terminal
    assert "jinan/app-1: operation 2/2 sshd ... failed: sshd -t: bad option" in shown
    pipe = io.StringIO()
    assert isinstance(reporter(pipe), LineReporter)


def test_zh_status_words() -> None:
    fd, stream = _pipe()
    rep = LineReporter(stream, clock=Clock(), lang="zh")
    rep.step("jinan/app-1", "operation 1/2 apt packages", "ok")
    rep.step("jinan/app-1", "operation 2/2 sshd", "failed: sshd -t")
    rep.done()
    text = _available(fd)
    assert "... 成功" in text and "... 失败: sshd -t" in text and "完成" in text
    stream.close()
    os.close(fd)


def test_control_characters_of_names_are_shown_as_escapes() -> None:
    fd, stream = _pipe()
    rep = LineReporter(stream, clock=Clock(), lang="en")
    rep.step("jinan/app-1", "operation 1/1 \x1b]0;owned\x07", "failed: x\x1b[2J")
    assert "\x1b" not in _available(fd)
    stream.close()
    os.close(fd)


class Recorder:
    """A Progress that keeps what it heard, in order."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, ...]] = []

    def start(self, total: int | None, what: str) -> None:
        self.heard.append(("start", str(total), what))

    def begin(self, name: str, what: str = "", group: str | None = None) -> None:
        self.heard.append(("begin", name, what))

    def step(self, name: str, what: str = "", status: str = "ok",
             group: str | None = None) -> None:
        self.heard.append(("step", name, what, status))

    def note(self, text: str) -> None:
        self.heard.append(("note", text))

    def done(self) -> None:
        self.heard.append(("done",))


def test_library_default_and_protocol() -> None:
    assert isinstance(NONE, Progress) and isinstance(Recorder(), Progress)
    NONE.start(3, "x")
    NONE.step("a")
    assert host_label("app-1.jinan") == "jinan/app-1" and host_label("jinan") == "jinan"


def test_ansible_events_are_followed_while_the_file_grows(tmp_path: Path) -> None:
    """The callback's events file, written line by line (a line in two writes too)
    while the follower runs: each event is heard once the line is complete."""
    events = tmp_path / "events-apply.jsonl"
    rec = Recorder()
    lines = [{"ev": "start", "n": 1, "host": "app-1.jinan", "task": "baseline : packages"},
             {"ev": "changed", "n": 1, "host": "app-1.jinan", "task": "baseline : packages"},
             {"ev": "start", "n": 2, "host": "db-1.jinan", "task": "database : initdb"},
             {"ev": "failed", "n": 2, "host": "db-1.jinan", "task": "database : initdb",
              "error": "initdb: directory exists"},
             {"ev": "end", "n": 2}]
    with EventFollower(events, rec, poll=0.02) as follower:
        time.sleep(0.1)  # the file does not exist yet: the follower waits for it
        with events.open("w") as fh:
            for i, ev in enumerate(lines):
                text = json.dumps(ev) + "\n"
                if i == 2:  # half a line: not an event until its end is written
                    fh.write(text[:10])
                    fh.flush()
                    time.sleep(0.1)
                    assert len(rec.heard) == 2
                    fh.write(text[10:])
                else:
                    fh.write(text)
                fh.flush()
                time.sleep(0.1)
                assert len(rec.heard) == min(i + 1, 4), rec.heard  # heard as written
    assert follower.events == 4
    assert rec.heard == [
        ("begin", "jinan/app-1", "task 1 baseline : packages"),
        ("step", "jinan/app-1", "task 1 baseline : packages", "changed"),
        ("begin", "jinan/db-1", "task 2 database : initdb"),
        ("step", "jinan/db-1", "task 2 database : initdb",
         "failed: initdb: directory exists")]


def test_the_callback_writes_one_flushed_event_per_result(tmp_path: Path) -> None:
    """ansible-playbook itself, on localhost (connection local), with the pesdc_json
    callback: the events file holds each task's start and result."""
    play = tmp_path / "site.yml"
    play.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                    "    - name: say hello\n      ansible.builtin.command: echo hello\n"
                    "    - name: fail\n      ansible.builtin.command: 'false'\n",
                    encoding="utf-8")
    events, results = tmp_path / "events.jsonl", tmp_path / "results.json"
    playbook = Path(sys.executable).parent / "ansible-playbook"
    if not playbook.is_file():
        pytest.skip("ansible-playbook is not installed in the venv")
    env = {**os.environ, "ANSIBLE_CALLBACK_PLUGINS": str(ROOT / "cli/pesdc/callback_plugins"),
           "ANSIBLE_CALLBACKS_ENABLED": "pesdc_json", "ANSIBLE_NOCOLOR": "1",
           "PESDC_ANSIBLE_EVENTS": str(events), "PESDC_ANSIBLE_RESULTS": str(results),
           "ANSIBLE_LOCALHOST_WARNING": "False", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False"}
    proc = subprocess.run([str(playbook), "-i", "localhost,", "-c", "local", "-e",
                           f"ansible_python_interpreter={sys.executable}", str(play)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr  # the second task fails
    got = [json.loads(ln) for ln in events.read_text().splitlines()]
    assert [(e["ev"], e.get("task"), e["n"]) for e in got] == [
        ("start", "say hello", 1), ("changed", "say hello", 1),
        ("start", "fail", 2), ("failed", "fail", 2), ("end", None, 2)]
    assert got[3]["host"] == "localhost" and "non-zero return code" in got[3]["error"]


def test_audit_piped_prints_progress_on_stderr_and_only_the_report_on_stdout() -> None:
    """A static audit of the example city with stdout and stderr piped: one line per
    kind of rule on stderr as it is judged, the JSON report alone on stdout."""
    env = {**os.environ, "PESDC_LANG": "en"}
    proc = subprocess.run([sys.executable, "-m", "pesdc", "audit", str(ROOT / "topologies"),
                           "--dc", "jinan", "--static", "--format", "json"],
                          capture_output=True, text=True, timeout=300, env=env,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    json.loads(proc.stdout)  # stdout is the report and nothing else
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("[")]
    assert all(LINE.match(ln) for ln in lines)
    ended = [ln for ln in lines if re.search(r"jinan: \w+ rules \.\.\. ok: \d+ rules", ln)]
    assert len(ended) == 5, proc.stderr  # topology, rendered, device, host, manual
    assert lines[-1].endswith("done: 5/5 step(s), 0 failed")
    times = [float(re.match(r"^\[ *(\d+\.\d)s\]", ln).group(1))  # type: ignore[union-attr]
             for ln in lines]
    assert times == sorted(times)


def test_lines_from_many_threads_stay_whole() -> None:
    fd, stream = _pipe()
    rep = LineReporter(stream, lang="en")
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(_drain(fd)))
    reader.start()

    def work(i: int) -> None:
        for k in range(50):
            rep.begin(f"jinan/h-{i}", f"operation {k}/50 x")
            rep.step(f"jinan/h-{i}", f"operation {k}/50 x")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rep.done()
    stream.close()
    reader.join()
    lines = got[0].splitlines()
    assert len(lines) == 8 * 50 * 2 + 1
    assert all(LINE.match(ln) for ln in lines)
    os.close(fd)


def _drain(fd: int) -> str:
    out = b""
    while chunk := os.read(fd, 65536):
        out += chunk
    return out.decode()
