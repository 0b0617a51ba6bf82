"""Running configurations saved before any change, per center, device and time.

``$PESDC_STATE_DIR/backups/<center>/<device>/<UTC timestamp>.cfg`` (a lab run adds
``.lab-<name>`` before ``.cfg`` so that lab and production backups never mix). Backups
are written redacted (:func:`pesdc.redact.redact`): a secret value becomes its
placeholder again, and what only looks like one — a password hash, a cipher text, a
community — is masked. A backup file is a record for people: the run's own rollback
pushes the backup text it holds in memory, and a device's passwords come back from the
secrets on the next apply, not from this file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pesdc.lab.paths import state_dir
from pesdc.redact import redact


def backup_root() -> Path:
    return state_dir() / "backups"


@dataclass(frozen=True)
class Backup:
    center: str
    device: str
    path: Path

    @property
    def stamp(self) -> str:
        return self.path.name.split(".", 1)[0]

    @property
    def lab(self) -> str | None:
        parts = self.path.name.split(".")
        return next((p[4:] for p in parts if p.startswith("lab-")), None)


def write_backup(center: str, device: str, text: str, lab: str | None = None) -> Path:
    d = backup_root() / center / device
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    suffix = f".lab-{lab}" if lab else ""
    path = d / f"{stamp}{suffix}.cfg"
    # Never a partial backup under a backup's name: written to a hidden temporary file,
    # flushed to disk, then linked to its name (link fails if the name exists; a full
    # disk fails the write, and the temporary file is removed).
    tmp = d / f".{stamp}{suffix}.cfg.part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(redact(text))
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def list_backups(center: str | None = None, device: str | None = None) -> list[Backup]:
    root = backup_root()
    if not root.is_dir():
        return []
    out = []
    for cdir in sorted(p for p in root.iterdir() if p.is_dir()):
        if center and cdir.name != center:
            continue
        for ddir in sorted(p for p in cdir.iterdir() if p.is_dir()):
            if device and ddir.name != device:
                continue
            out += [Backup(cdir.name, ddir.name, f) for f in sorted(ddir.glob("*.cfg"))]
    return out
