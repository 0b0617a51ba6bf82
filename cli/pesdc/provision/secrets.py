"""Secrets for provisioning: from the environment, else generated once per center in the
state directory (mode 0600). Never written to the journal, the HostSpec or a log."""

from __future__ import annotations

import os
import secrets as _secrets
import subprocess
from pathlib import Path

from pesdc.lab.paths import state_dir


def _dir(dc: str) -> Path:
    d = state_dir() / "secrets" / dc
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d.parent, 0o700)
    os.chmod(d, 0o700)
    return d


def secret(dc: str, name: str) -> str:
    env = os.environ.get(f"PESDC_SECRET_{name.upper()}")
    if env:
        return env
    f = _dir(dc) / name
    if not f.is_file():
        f.write_text(_secrets.token_urlsafe(24))
        os.chmod(f, 0o600)
    return f.read_text().strip()


def backup_keypair(dc: str) -> tuple[str, str]:
    """(private key text, public key line) of the backup server's pull key."""
    key = _dir(dc) / "backup_ed25519"
    if not key.is_file():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                        f"pesdc-backup@{dc}", "-f", str(key)], check=True)
    return key.read_text(), key.with_suffix(".pub").read_text().strip()


def provisioning_secrets(dc: str) -> dict[str, str]:
    priv, _pub = backup_keypair(dc)
    return {"replication_password": secret(dc, "replication_password"),
            "backup_private_key": priv}
