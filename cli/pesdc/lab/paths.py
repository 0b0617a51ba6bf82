"""Where pesdc keeps its state and caches (overridable for tests and CI)."""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """Runtime state: labs, the change journal, device backups."""
    return Path(os.environ.get("PESDC_STATE_DIR", "/var/lib/pesdc"))


def cache_dir() -> Path:
    """Built artefacts reused across runs: the lab base image."""
    return Path(os.environ.get("PESDC_CACHE_DIR", "/var/cache/pesdc"))


def lab_dir(name: str) -> Path:
    return state_dir() / "labs" / name
