"""The journal's RFC 5424 copy (pesdc.syslog5424 and pesdc.journal's sending), without a
lab: real TCP on loopback, a frame parser written here from RFC 5424/6587, and rsyslogd
itself (the log server pesdc provisions runs it) as the independent parser.

``syslog_rfc5424_parser`` is not installed in this environment (checked: ImportError),
so rsyslogd 8 (installed here) is the independent check: it receives the frames on a
loopback imtcp input and writes back the fields it parsed."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pesdc import journal, syslog5424
from pesdc.model import validate
from pesdc.results import HostResult, RunResult

MINI = Path(__file__).parent / "fixtures" / "mini"

# RFC 5424 6: HEADER SP STRUCTURED-DATA [SP MSG]
HEADER = re.compile(rb"<(\d{1,3})>(\d) (\S+) (\S+) (\S+) (\S+) (\S+) ")
SD_PARAM = re.compile(r'(\S+?)="((?:[^"\\\]]|\\["\\\]])*)"')


def parse_frames(data: bytes) -> list[bytes]:
    """Octet counting (RFC 6587 3.4.1): MSG-LEN SP MSG, repeated."""
    out = []
    while data:
        n, _, rest = data.partition(b" ")
        assert n.isdigit() and not n.startswith(b"0"), data[:40]
        size = int(n)
        assert len(rest) >= size, "a frame is cut short"
        out.append(rest[:size])
        data = rest[size:]
    return out


def parse_message(msg: bytes) -> dict[str, Any]:
    m = HEADER.match(msg)
    assert m, msg[:120]
    pri, ver, ts, host, app, pid, msgid = m.groups()
    rest = msg[m.end():]
    assert rest.startswith(b"["), rest[:60]
    # the SD-ELEMENT ends at the first ] not escaped
    i, esc = 1, False
    while True:
        c = rest[i:i + 1]
        if esc:
            esc = False
        elif c == b"\\":
            esc = True
        elif c == b"]":
            break
        i += 1
    sd = rest[1:i].decode()
    sd_id, _, params = sd.partition(" ")
    values = {k: re.sub(r'\\(["\\\]])', r"\1", v) for k, v in SD_PARAM.findall(params)}
    body = rest[i + 1:]
    assert body[:1] == b" "
    return {"pri": int(pri), "version": int(ver), "timestamp": ts.decode(),
            "hostname": host.decode(), "app": app.decode(), "procid": pid.decode(),
            "msgid": msgid.decode(), "sd_id": sd_id, "sd": values, "msg": body[1:]}


class Listener:
    """A loopback TCP log server: records everything each connection sends, closes its
    side at the sender's EOF (as rsyslog does)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                buf = b""
                while chunk := conn.recv(65536):
                    buf += chunk
                self.received.append(buf)

    def close(self) -> None:
        # shutdown wakes the accept() of the serving thread: the port is closed for real
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(timeout=5)


@pytest.fixture
def listener() -> Any:
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


# A stand-in for the tunnel of pesdc.targets.target.Target: ssh -W through the bastion
# is a stdio stream to ADDRESS:514; this relay is a stdio stream to the loopback
# listener (written here, not pesdc's RELAY), whatever address it is asked for.
TEST_RELAY = r"""
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.stdin.buffer.read())
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
"""


class TunnelStandIn:
    live = True
    lab = None
    timeout = 3

    def __init__(self, port: int, label: str = "live via bastion jump-1 (10.38.9.20)"):
        self.port, self.label = port, label
        self.asked: list[tuple[str, int]] = []

    def tunnel_argv(self, address: str, port: int) -> list[str]:
        self.asked.append((address, port))
        return [sys.executable, "-c", TEST_RELAY, str(self.port)]


def _jinan() -> Any:
    return validate([MINI]).topology.datacenters["jinan"]


def test_message_fields_and_escaping() -> None:
    entry = {"seq": 7, "when": "2025-03-01T08:00:00Z", "action": "net apply",
             "center": 'ji"n]a\\n', "lab": None}
    line = json.dumps({**entry, "host": "fw-1.jinan", "changes": ["ünïcode"]},
                      ensure_ascii=False)
    msg = syslog5424.message(entry, line, "ab" * 32, hostname="ops 1", procid=42)
    got = parse_message(msg)
    assert got["pri"] == 85 and got["pri"] >> 3 == 10 and got["pri"] & 7 == 5
    assert (got["version"], got["timestamp"], got["hostname"], got["app"], got["procid"],
            got["msgid"]) == (1, "2025-03-01T08:00:00Z", "ops-1", "pesdc", "42", "net-apply")
    assert got["sd_id"] == "pesdc@32473"
    assert got["sd"] == {"seq": "7", "hash": "ab" * 32, "center": 'ji"n]a\\n', "lab": "-"}
    assert b'center="ji\\"n\\]a\\\\n"' in msg  # RFC 5424 6.3.3 escaping, on the wire
    assert got["msg"].startswith(b"\xef\xbb\xbf")
    assert got["msg"][3:].decode("utf-8") == line
    framed = syslog5424.frame(msg)
    assert parse_frames(framed + framed) == [msg, msg]


def test_direct_send_reaches_a_loopback_listener(listener: Listener) -> None:
    msgs = [syslog5424.message({"seq": i, "when": "2025-03-01T08:00:00Z", "action": "apply",
                                "center": "jinan"}, f'{{"seq": {i}}}', "0" * 64)
            for i in (1, 2, 3)]
    syslog5424.send(syslog5424.frames(msgs), "127.0.0.1", listener.port, None, 5)
    _wait(lambda: listener.received)
    assert parse_frames(listener.received[0]) == msgs


def test_direct_send_to_a_closed_port_raises(listener: Listener) -> None:
    port = listener.port
    listener.close()
    with pytest.raises(syslog5424.SendError) as exc:
        syslog5424.send(b"5 hello", "127.0.0.1", port, None, 3)
    assert f"127.0.0.1:{port}" in str(exc.value) and "refused" in str(exc.value).lower()


def _wait(cond: Any, seconds: float = 5) -> None:
    end = time.monotonic() + seconds
    while not cond() and time.monotonic() < end:
        time.sleep(0.02)


def test_journal_entries_sent_through_the_tunnel(state: Path, listener: Listener) -> None:
    dc = _jinan()
    target = TunnelStandIn(listener.port)
    run = RunResult("apply", "pyinfra", [HostResult("app-1.jinan", "pyinfra", True, 2,
                                                    ["[File] /etc/x", "[Service] y"]),
                                         HostResult("db-1.jinan", "pyinfra", False,
                                                    error="unreachable")])
    done = journal.record(run, "jinan", None, target=target, dc=dc)
    assert done.send_errors == [] and done.sent_to == ["log-1 (10.38.9.10)"]
    assert target.asked == [("10.38.9.10", 514)]  # the center's log server, tcp/514
    _wait(lambda: listener.received)
    frames = parse_frames(listener.received[0])
    lines = journal.journal_path().read_text().splitlines()
    assert len(frames) == len(lines) == 2
    for fr, line in zip(frames, lines, strict=True):
        got = parse_message(fr)
        entry = json.loads(line)
        assert got["msg"][3:].decode() == line  # the exact journal line
        assert got["sd"]["seq"] == str(entry["seq"])
        assert got["sd"]["hash"] == journal.digest(line)
        assert got["sd"]["center"] == "jinan" and got["msgid"] == "apply"
        assert entry["target"] == target.label and entry["lab"] is None


def test_a_send_that_fails_keeps_the_entry_and_fails_a_live_command(
        state: Path, listener: Listener, capsys: pytest.CaptureFixture[str]) -> None:
    from pesdc.cli.provision_cmd import _record

    port = listener.port
    listener.close()  # the log server is down
    run = RunResult("apply", "pyinfra", [HostResult("app-1.jinan", "pyinfra", True, 1,
                                                    ["[File] /etc/x"])])
    error = _record(run, "jinan", None, TunnelStandIn(port), _jinan())
    err = capsys.readouterr().err
    assert error and "journal entry 1 was not sent to the log server log-1 (10.38.9.10)" \
        in error, error
    assert "journal entry 1 was not sent to the log server log-1 (10.38.9.10)" in err
    assert "refused" in err.lower()
    rows = journal.read()
    assert len(rows) == 1 and rows[0]["seq"] == 1  # the local entry stands


def test_nothing_is_sent_without_a_lab_or_live_target(state: Path) -> None:
    run = RunResult("apply", "pyinfra", [HostResult("app-1.jinan", "pyinfra", True)])
    done = journal.record(run, "jinan", None, dc=_jinan())
    assert done.sent_to == [] and len(done.send_errors) == 1
    assert "neither a lab nor a live target" in done.send_errors[0]
    assert not done.must_fail  # not a live run
    assert len(journal.read()) == 1


RSYSLOG_CONF = """
global(workDirectory="{work}")
module(load="imtcp")
template(name="fields" type="string"
         string="%pri%|%protocol-version%|%timereported:::date-rfc3339%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%msg:::drop-last-lf%\\n")
ruleset(name="t") {{ action(type="omfile" file="{out}" template="fields") }}
input(type="imtcp" port="{port}" address="127.0.0.1" ruleset="t")
"""


@pytest.mark.skipif(shutil.which("rsyslogd") is None, reason="rsyslogd is not installed")
def test_rsyslog_parses_the_frames(state: Path, tmp_path: Path) -> None:
    """rsyslogd (what the provisioned log servers run) as the independent parser: its
    imtcp reads the octet-counted frames, its RFC 5424 parser the fields."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    work, out = tmp_path / "rsyslog", tmp_path / "parsed.log"
    work.mkdir()
    conf = tmp_path / "rsyslog.conf"
    conf.write_text(RSYSLOG_CONF.format(work=work, out=out, port=port))
    proc = subprocess.Popen(["rsyslogd", "-n", "-f", str(conf), "-i",
                             str(tmp_path / "rsyslog.pid")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        line = journal.append([journal.step_entry("jinan", "jrnl", 'cut "over"] \\ x',
                                                  True, 1.5, "ok")], send=False).entries[0]
        seq, text, digest = line
        msg = syslog5424.message(json.loads(text), text, digest, hostname="ops-1",
                                 procid=4242)
        syslog5424.send(syslog5424.frames([msg, msg]), "127.0.0.1", port, None, 5)
        _wait(lambda: out.is_file() and out.read_text().count("\n") >= 2, 10)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    got = out.read_text(encoding="utf-8").splitlines()
    assert len(got) == 2, (got, proc.stderr.read() if proc.stderr else "")
    f = got[0].split("|", 8)
    assert f[0] == "85" and f[1] == "1" and f[2].startswith("20") and f[3] == "ops-1"
    assert f[4:7] == ["pesdc", "4242", "stage-step"]
    assert f[7] == (f'[pesdc@32473 seq="{seq}" hash="{digest}" center="jinan" '
                    'lab="jrnl"]')
    assert f[8].lstrip("\ufeff") == text, f[8][:80]  # rsyslog keeps (or drops) the BOM
    assert os.path.exists(out)
