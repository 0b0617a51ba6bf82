from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINI = FIXTURES / "mini"


@pytest.fixture
def mini_tree(tmp_path: Path) -> Path:
    """A writable copy of the small valid tree (ministry, province, city, hosted city)."""
    dst = tmp_path / "mini"
    shutil.copytree(MINI, dst)
    return dst
