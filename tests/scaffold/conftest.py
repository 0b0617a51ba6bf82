"""A tmp copy of the example tree for each test: pesdc new writes into it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = ROOT / "topologies"


def snapshot(tree: Path) -> dict[str, bytes]:
    """Every file of a tree and its bytes (what 'nothing written' compares)."""
    return {str(p.relative_to(tree)): p.read_bytes() for p in sorted(tree.rglob("*"))
            if p.is_file()}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    dst = tmp_path / "topologies"
    shutil.copytree(TOPOLOGIES, dst)
    return dst
