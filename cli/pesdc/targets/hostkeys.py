"""Pinned host keys: collected through the bastion, reviewed, then checked strictly.

A key is read with a key exchange only (paramiko ``Transport.start_client``): no
account, password or key of ours is offered to a host whose key is not pinned yet.
The bastion's key is read directly (the controller reaches it); every other host's
through the bastion (``ssh -W``, the bastion's own key already checked against the
pinned file). Every key type a host offers is collected, so whichever one a later
client negotiates is pinned.

The pinned file is an OpenSSH known_hosts file (``ADDRESS TYPE KEY``, ``[ADDRESS]:PORT``
off port 22): OpenSSH, paramiko (pyinfra, netmiko) and testinfra read it as it is.
"""

from __future__ import annotations

import base64
import hashlib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512")


@dataclass(frozen=True)
class SeenKey:
    address: str
    port: int
    type: str  # as known_hosts names it (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa)
    blob: str  # base64

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.blob)

    @property
    def host_field(self) -> str:
        return self.address if self.port == 22 else f"[{self.address}]:{self.port}"

    def line(self) -> str:
        return f"{self.host_field} {self.type} {self.blob}"


def fingerprint(blob: str) -> str:
    """OpenSSH's SHA256 fingerprint of a key (``ssh-keygen -lf`` prints the same)."""
    digest = hashlib.sha256(base64.b64decode(blob)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


class ScanError(Exception):
    """The host's key could not be read (unreachable, no SSH, the tunnel refused)."""


Sock = Callable[[], object]  # a fresh connected socket-like object per call


def _read_key(sock: object, key_type: str, timeout: float) -> tuple[str, str] | None:
    import paramiko

    t = paramiko.Transport(sock)  # type: ignore[arg-type]
    t.banner_timeout = timeout
    t.handshake_timeout = timeout
    opts = t.get_security_options()
    if key_type not in opts.key_types:
        t.close()
        return None
    opts.key_types = (key_type,)
    try:
        t.start_client(timeout=timeout)
        key = t.get_remote_server_key()
        return key.get_name(), key.get_base64()
    except paramiko.SSHException as exc:
        if "Incompatible" in str(exc) or "no acceptable" in str(exc).lower():
            return None  # the host has no key of this type
        raise ScanError(f"ssh: {exc}") from None
    except (EOFError, OSError) as exc:
        raise ScanError(f"connection closed during the key exchange: {exc}") from None
    finally:
        t.close()


def scan(address: str, port: int, open_sock: Sock, timeout: float = 10.0) -> list[SeenKey]:
    """Every host key ``address`` offers (one key exchange per type)."""
    import logging

    # A type the host lacks ends the key exchange at once, and paramiko's transport
    # thread logs that with a traceback: expected here, said by the result instead.
    logging.getLogger("paramiko.transport").setLevel(logging.CRITICAL)
    seen: dict[str, SeenKey] = {}
    errors: list[str] = []
    for kt in KEY_TYPES:
        try:
            sock = open_sock()
        except OSError as exc:
            raise ScanError(f"cannot connect: {exc.strerror or exc}") from None
        try:
            got = _read_key(sock, kt, timeout)
        except ScanError as exc:
            errors.append(str(exc))
            continue
        finally:
            close = getattr(sock, "close", None)
            if close:
                close()
        if got:
            seen.setdefault(got[0], SeenKey(address, port, got[0], got[1]))
    if not seen:
        raise ScanError("; ".join(dict.fromkeys(errors)) or "no host key offered")
    return list(seen.values())


def direct_sock(address: str, port: int, timeout: float) -> Sock:
    return lambda: socket.create_connection((address, port), timeout=timeout)


# -- the pinned file -----------------------------------------------------------------
def read_pinned(path: Path) -> dict[str, dict[str, str]]:
    """host field -> key type -> base64, from a known_hosts file (comments skipped)."""
    out: dict[str, dict[str, str]] = {}
    if not path.is_file():
        return out
    for raw in path.read_text(encoding="utf-8").splitlines():
        parts = raw.split()
        if len(parts) < 3 or raw.lstrip().startswith("#") or parts[0].startswith("@"):
            continue
        for host in parts[0].split(","):
            out.setdefault(host, {})[parts[1]] = parts[2]
    return out


@dataclass(frozen=True)
class KeyProblem:
    """Why a host must not be connected to: its key is unknown or has changed."""

    name: str
    address: str
    seen: list[SeenKey]
    expected: dict[str, str]  # type -> base64 (empty: never pinned)

    def message(self) -> str:
        seen = ", ".join(f"{k.type} {k.fingerprint}" for k in self.seen)
        if not self.expected:
            return (f"{self.name} ({self.address}): host key not pinned (seen {seen}): "
                    "review it with `pesdc targets trust`; nothing was sent to this host")
        want = ", ".join(f"{t} {fingerprint(b)}" for t, b in sorted(self.expected.items()))
        return (f"{self.name} ({self.address}): HOST KEY CHANGED: seen {seen}, expected "
                f"{want}; the run stops for this host. If the host was reinstalled, "
                "check the new key out of band, then `pesdc targets trust --replace "
                f"{self.name}`")


def compare(name: str, seen: list[SeenKey], pinned: dict[str, dict[str, str]]
            ) -> KeyProblem | None:
    """None when every key the host offers is the pinned one."""
    if not seen:
        return None
    expected = pinned.get(seen[0].host_field, {})
    if expected and all(expected.get(k.type) == k.blob for k in seen):
        return None
    return KeyProblem(name, seen[0].address, seen, expected)


def pinned_text(keys: dict[str, list[SeenKey]], names: dict[str, str], who: str,
                when: str) -> str:
    """The known_hosts file: a comment per host (name, fingerprint, who pinned it)."""
    lines = [f"# pesdc pinned host keys ({when}, reviewed by {who}).",
             "# Changed only by `pesdc targets trust`; every connection checks against it."]
    for addr in sorted(keys, key=lambda a: names.get(a, a)):
        for k in keys[addr]:
            lines.append(f"# {names.get(addr, addr)} {k.type} {k.fingerprint}")
            lines.append(k.line())
    return "\n".join(lines) + "\n"
