"""Secrets for provisioning (``replication_password``, ``offsite_replication_password``,
``backup_private_key``): from the
environment (``PESDC_SECRET_<NAME>``), else the run's secrets file (``--secrets FILE``,
plain or Ansible Vault: :mod:`pesdc.credentials`), else generated once per center in the
state directory (mode 0600). Never written to the journal, the HostSpec or a log.

A secret file is created atomically (:func:`pesdc.durable.atomic_write`): a full disk
fails the command with the cause, and never leaves an empty or partial secret that a
later run would read as the value."""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets as _secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pesdc import credentials
from pesdc.durable import StateWriteError, atomic_write
from pesdc.lab.paths import state_dir


def _dir(dc: str) -> Path:
    d = state_dir() / "secrets" / dc
    try:
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d.parent, 0o700)
        os.chmod(d, 0o700)
    except OSError as exc:
        raise StateWriteError(d, exc, "the secrets directory") from exc
    return d


@contextlib.contextmanager
def _generating(d: Path) -> Iterator[None]:
    """One generator at a time per secrets folder: two runs at once (parallel tests, two
    operators' first runs) would each make a value, and one of them would then use a
    value the file no longer holds. Held while the file is checked, made and read."""
    try:
        fh = open(d / ".lock", "a")  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise StateWriteError(d, exc, "the secrets lock") from exc
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def secret(dc: str, name: str) -> str:
    given = credentials.active().get(name)  # the environment, then --secrets FILE
    if given:
        return given
    d = _dir(dc)
    f = d / name
    with _generating(d):
        if not f.is_file():
            atomic_write(f, _secrets.token_urlsafe(24), 0o600, what="a secret")
        value = f.read_text().strip()
    if not value:
        raise ValueError(f"the secret file {f} is empty: remove it to generate a new "
                         "value, or set " + f"PESDC_SECRET_{name.upper()}")
    return value


def backup_keypair(dc: str) -> tuple[str, str]:
    """(private key text, public key line) of the backup server's pull key: the one the
    environment or the secrets file gives (``backup_private_key``), else generated once
    in the state directory."""
    given = credentials.active().get("backup_private_key")
    if given:
        return given, _public_line(given, dc)
    return generated_backup_keypair(dc)


def generated_backup_keypair(dc: str) -> tuple[str, str]:
    """The backup pull key of a center generated once in the state directory: also the
    one another center's database host authorizes for an off-site pull (a run provides
    its own center's key only)."""
    d = _dir(dc)
    key = d / "backup_ed25519"
    with _generating(d):
        if not key.is_file():
            _make_keypair(dc, d, key)
        return key.read_text(), key.with_suffix(".pub").read_text().strip()


def _make_keypair(dc: str, d: Path, key: Path) -> None:
    """ssh-keygen aside, then renamed in (public key first: a private key in place
    always has its public half)."""
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".keygen-", dir=d))
    except OSError as exc:
        raise StateWriteError(key, exc, "the backup key") from exc
    try:
        proc = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                               f"pesdc-backup@{dc}", "-f", str(tmp / "k")],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            why = proc.stderr.strip() or f"ssh-keygen exited {proc.returncode}"
            raise StateWriteError(key, OSError(None, why), "the backup key")
        for src in (tmp / "k", tmp / "k.pub"):
            with src.open("rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp / "k.pub", key.with_suffix(".pub"))
        os.replace(tmp / "k", key)
    except OSError as exc:
        raise StateWriteError(key, exc, "the backup key") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _public_line(private: str, dc: str) -> str:
    """The OpenSSH public key line of a given private key (PEM or OpenSSH format,
    without a passphrase); the key itself is never in an error."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    data = private.strip().encode() + b"\n"
    try:
        key: Any
        if b"BEGIN OPENSSH PRIVATE KEY" in data:
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
        line = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                             serialization.PublicFormat.OpenSSH)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise credentials.CredentialError(
            f"backup_private_key (from {credentials.active().origin('backup_private_key')}) "
            "is not a private key without a passphrase, in OpenSSH or PEM form") from None
    return f"{line.decode()} pesdc-backup@{dc}"


# The off-site standbys' replication password is the tree's, not a center's: the
# primary's center run sets it on the primary's role and the standby's center run
# gives it to the standby, so both read it from one place (``_tree`` is no center's
# name: a center name starts with a letter or digit).
TREE_SECRETS = "_tree"


def provisioning_secrets(dc: str) -> dict[str, str]:
    priv, _pub = backup_keypair(dc)
    return {"replication_password": secret(dc, "replication_password"),
            "offsite_replication_password": secret(TREE_SECRETS,
                                                   "offsite_replication_password"),
            "backup_private_key": priv}


def load_for_cli(command: str, file: Path | None, vault_password_file: Path | None = None,
                 lab: str | None = None) -> credentials.Credentials:
    """The run's credentials for ``pesdc plan``/``apply`` (:func:`pesdc.credentials.
    load_for_cli`), a given ``backup_private_key`` checked before anything connects: a
    problem is one line and exit 2."""
    import sys

    creds = credentials.load_for_cli(command, file, vault_password_file, lab)
    key = creds.get("backup_private_key")
    if key:
        try:
            _public_line(key, "check")
        except credentials.CredentialError as exc:
            print(f"pesdc {command}: {exc}", file=sys.stderr)
            sys.exit(2)
    return creds
