"""What the cache tests share: every problem of a validate run as shown, the same run
with every cache off (the judge a cached run must equal), and a cache folder's entries."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pesdc.model import parsecache, validate

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "topologies"


def problems(paths: list[Path]) -> list[tuple[Any, ...]]:
    """Every problem as shown: rule, place, severity, English and Chinese text."""
    r = validate(paths)
    return [(d.rule, d.file, d.line, d.column, d.dotted_path, str(d.severity), d.text("en"),
             d.text("zh")) for d in r.report.diagnostics]


def uncached(run: Callable[[list[Path]], Any], paths: list[Path]) -> Any:
    """``run(paths)`` with the caches turned off (what --no-cache does)."""
    mp = pytest.MonkeyPatch()
    mp.setenv(parsecache.ENV_OFF, "1")
    try:
        return run(paths)
    finally:
        mp.undo()


def entries(folder: Path) -> set[str]:
    """The entries of a cache folder (its temporary files aside)."""
    return ({p.name for p in folder.iterdir() if not p.name.startswith(".")}
            if folder.is_dir() else set())


def copy_of_city(tmp_path: Path) -> Path:
    t = tmp_path / "t"
    shutil.copytree(CITY, t)
    return t
