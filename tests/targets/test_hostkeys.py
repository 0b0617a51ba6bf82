"""Host keys read by key exchange only, against a real sshd on loopback, judged by
ssh-keygen's own fingerprint; a changed key is named with both fingerprints."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from pesdc.targets import hostkeys
from tests.conftest import require_tool

SSHD = "/usr/sbin/sshd"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sshd(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real OpenSSH server on 127.0.0.1 with an ed25519 and an ECDSA host key; no
    account can log in (no authorized keys, no passwords): only the key exchange."""
    require_tool("sshd", "openssh-server")
    keys = []
    for kt in ("ed25519", "ecdsa"):
        k = tmp_path / f"host_{kt}"
        subprocess.run(["ssh-keygen", "-q", "-t", kt, "-N", "", "-f", str(k)], check=True)
        keys.append(k)
    port = _free_port()
    conf = tmp_path / "sshd_config"
    conf.write_text("\n".join([f"ListenAddress 127.0.0.1:{port}", *(f"HostKey {k}" for k in keys),
                               "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                               "AuthorizedKeysFile none", "UsePAM no",
                               f"PidFile {tmp_path / 'sshd.pid'}"]) + "\n")
    os.makedirs("/run/sshd", exist_ok=True)
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(conf)], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port, keys
    proc.kill()
    proc.wait()


def _keygen_fingerprint(pub: Path) -> str:
    return subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True,
                          check=True).stdout.split()[1]


def test_every_key_type_is_read_and_fingerprinted_as_ssh_keygen_does(sshd) -> None:  # type: ignore[no-untyped-def]
    port, keys = sshd
    seen = hostkeys.scan("127.0.0.1", port, hostkeys.direct_sock("127.0.0.1", port, 5), 5)
    assert sorted(k.type for k in seen) == ["ecdsa-sha2-nistp256", "ssh-ed25519"]
    want = {_keygen_fingerprint(k.with_suffix(".pub")) for k in keys}
    assert {k.fingerprint for k in seen} == want
    # The pinned line is what OpenSSH's own client accepts for that host and port.
    assert seen[0].host_field == f"[127.0.0.1]:{port}"


def test_openssh_accepts_the_pinned_file_and_refuses_a_changed_one(sshd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port, _keys = sshd
    seen = hostkeys.scan("127.0.0.1", port, hostkeys.direct_sock("127.0.0.1", port, 5), 5)
    kh = tmp_path / "known_hosts"
    kh.write_text(hostkeys.pinned_text({"127.0.0.1": seen}, {"127.0.0.1": "lo-1"}, "t", "now"))

    def ssh() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ssh", "-o", f"UserKnownHostsFile={kh}", "-o",
                               "GlobalKnownHostsFile=/dev/null", "-o",
                               "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                               "-p", str(port), "nobody@127.0.0.1", "true"],
                              capture_output=True, text=True, timeout=20, check=False)
    first = ssh()
    assert "Permission denied" in first.stderr  # key accepted; no account to log in to
    other = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                            str(tmp_path / "other")], check=True)
    assert other.returncode == 0
    blob = (tmp_path / "other.pub").read_text().split()[1]
    kh.write_text(f"[127.0.0.1]:{port} ssh-ed25519 {blob}\n")
    changed = ssh()
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in changed.stderr


def test_compare_names_both_fingerprints_of_a_changed_key(sshd) -> None:  # type: ignore[no-untyped-def]
    port, _ = sshd
    seen = hostkeys.scan("127.0.0.1", port, hostkeys.direct_sock("127.0.0.1", port, 5), 5)
    field = seen[0].host_field
    assert hostkeys.compare("lo-1", seen, {field: {k.type: k.blob for k in seen}}) is None
    unknown = hostkeys.compare("lo-1", seen, {})
    assert unknown is not None and "not pinned" in unknown.message()
    fake = "AAAAC3NzaC1lZDI1NTE5AAAAIBx7rq3o9w8l4qT3t3aK0QyZ4sQeB1Q0r8v2bqJY7hXx"
    changed = hostkeys.compare("lo-1", seen, {field: {"ssh-ed25519": fake}})
    assert changed is not None
    msg = changed.message()
    assert "HOST KEY CHANGED" in msg and hostkeys.fingerprint(fake) in msg
    assert next(k.fingerprint for k in seen if k.type == "ssh-ed25519") in msg


def test_a_host_with_no_ssh_is_a_scan_error_not_an_empty_pass() -> None:
    port = _free_port()  # nothing listens
    with pytest.raises(hostkeys.ScanError):
        hostkeys.scan("127.0.0.1", port, hostkeys.direct_sock("127.0.0.1", port, 2), 2)
