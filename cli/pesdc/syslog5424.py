"""The journal's copy on the center's log server: RFC 5424 messages over TCP, framed by
octet counting (RFC 6587 3.4.1), the way the log servers pesdc provisions receive them
(rsyslog's ``imtcp`` on tcp/514, ``templates/linux/server/rsyslog-server.conf.j2``; imtcp
accepts octet-counted frames by default, ``SupportOctetCountedFraming="on"``).

One message per journal entry::

    <85>1 2025-03-01T08:00:00Z HOST pesdc PID net-apply [pesdc@32473 seq="7" hash="…"
    center="jinan" lab="-"] BOM{"seq": 7, "prev": "…", …}

- PRI 85 = facility authpriv (10) * 8 + severity notice (5). authpriv is the facility of
  security and authorisation records: the journal is the audit record of privileged
  changes (GB/T 22239-2019 8.1.4.3), and syslog daemons keep authpriv out of the files
  everyone reads. The local0..7 facilities are site-assigned and network gear already
  sends on them (local4..7 by many vendors' defaults), so a pesdc record there would mix
  with the devices' own logs. The log server files it under
  ``/var/log/remote/HOSTNAME/authpriv.log``.
- SD-ID ``pesdc@32473``: 32473 is the Private Enterprise Number RFC 5612 reserves for
  documentation; pesdc has no number of its own.
- MSG: the journal line itself, UTF-8 with the BOM RFC 5424 6.4 asks for.

A send is bounded by ``timeout`` and confirmed only once the peer has read to the end of
the stream (it closes its side after our EOF); anything short of that raises
:class:`SendError`, with the cause.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

FACILITY = 10  # authpriv
SEVERITY = 5  # notice
PRI = FACILITY * 8 + SEVERITY
VERSION = 1
APP_NAME = "pesdc"
SD_ID = "pesdc@32473"
BOM = b"\xef\xbb\xbf"
PORT = 514
NIL = "-"

# A relay run where the socket must be opened (a lab's controller namespace): stdin to
# HOST:PORT, then what the peer sends back to stdout until it closes.
RELAY = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
while True:
    b = sys.stdin.buffer.read1(65536)
    if not b:
        break
    s.sendall(b)
s.shutdown(socket.SHUT_WR)
while True:
    b = s.recv(65536)
    if not b:
        break
    sys.stdout.buffer.write(b)
"""


class Transport(Protocol):
    def tunnel_argv(self, address: str, port: int) -> list[str] | None: ...


class SendError(Exception):
    """The messages did not reach the log server (the cause in the text)."""


def _printusascii(text: str, limit: int) -> str:
    """A header field: PRINTUSASCII (33..126), at most ``limit`` octets, NILVALUE if
    empty."""
    out = "".join(c if 33 <= ord(c) <= 126 else "-" for c in text)[:limit]
    return out or NIL


def sd_escape(value: str) -> str:
    """PARAM-VALUE escaping (RFC 5424 6.3.3): ``"``, ``\\`` and ``]`` get a backslash."""
    return re.sub(r'(["\\\]])', r"\\\1", value)


def msgid(action: str) -> str:
    """The action as a MSGID: no spaces (``net apply`` -> ``net-apply``), 32 octets."""
    return _printusascii("-".join(action.split()), 32)


def structured_data(params: Mapping[str, str]) -> str:
    return "[" + SD_ID + "".join(f' {k}="{sd_escape(v)}"' for k, v in params.items()) + "]"


def message(entry: Mapping[str, Any], line: str, digest: str, hostname: str | None = None,
            procid: int | None = None) -> bytes:
    """The RFC 5424 message of one journal entry (``line``: its exact journal line,
    ``digest``: that line's SHA-256, which the next entry's ``prev`` holds)."""
    when = str(entry.get("when") or NIL)
    host = _printusascii(hostname if hostname is not None else socket.gethostname(), 255)
    pid = _printusascii(str(procid if procid is not None else os.getpid()), 128)
    sd = structured_data({"seq": str(entry.get("seq", "")), "hash": digest,
                          "center": str(entry.get("center") or NIL),
                          "lab": str(entry.get("lab") or NIL)})
    head = f"<{PRI}>{VERSION} {_printusascii(when, 64)} {host} {APP_NAME} {pid} " \
           f"{msgid(str(entry.get('action') or NIL))} {sd} "
    return head.encode("ascii") + BOM + line.encode("utf-8")


def frame(msg: bytes) -> bytes:
    """Octet-counting framing (RFC 6587 3.4.1): ``MSG-LEN SP SYSLOG-MSG``."""
    return str(len(msg)).encode("ascii") + b" " + msg


def frames(messages: Iterable[bytes]) -> bytes:
    return b"".join(frame(m) for m in messages)


def _direct(data: bytes, address: str, port: int, timeout: float) -> None:
    try:
        with socket.create_connection((address, port), timeout=timeout) as s:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):  # the peer read everything once it closes its side
                pass
    except OSError as exc:
        raise SendError(f"tcp {address}:{port}: {exc.strerror or exc}") from None


def _tunnel(data: bytes, argv: list[str], address: str, port: int, timeout: float) -> None:
    try:
        proc = subprocess.run(argv, input=data, capture_output=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        raise SendError(f"tcp {address}:{port} through {argv[0]}: no answer within "
                        f"{timeout:.0f} s") from None
    except OSError as exc:
        raise SendError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        err = [ln.strip() for ln in proc.stderr.decode(errors="replace").splitlines()
               if ln.strip()]
        why = err[-1] if err else f"exited {proc.returncode}"
        raise SendError(f"tcp {address}:{port} through {argv[0]}: {why[:300]}")


def send(data: bytes, address: str, port: int = PORT, transport: Transport | None = None,
         timeout: float = 10.0) -> None:
    """Deliver framed messages to ``address:port``: through ``transport.tunnel_argv``
    (a stdio stream, e.g. ``ssh -W`` through the bastion) when it gives an argv, else on
    a socket of this process (the caller knows the address is reachable from here and
    nothing else: a lab's controller namespace). :class:`SendError` when it did not."""
    argv = transport.tunnel_argv(address, port) if transport is not None else None
    if argv is None:
        _direct(data, address, port, timeout)
    else:
        _tunnel(data, argv, address, port, timeout)


def relay_argv(python: str, address: str, port: int, timeout: float = 10.0) -> list[str]:
    """``python -c RELAY address port timeout``: the stream opened where python runs."""
    return [python, "-c", RELAY, address, str(port), str(timeout)]
