"""A lab test's measurement goes to benchmarks/results only on a recording run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import results


def test_an_ordinary_run_leaves_the_results_alone(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results, "RESULTS", tmp_path / "results")
    monkeypatch.delenv(results.RECORD_ENV, raising=False)
    written = results.record("x.json", {"caught": 1}, tmp_path / "scratch")
    assert written == tmp_path / "scratch" / "x.json"
    assert not (tmp_path / "results").exists()
    monkeypatch.setenv(results.RECORD_ENV, "1")
    written = results.record("x.json", {"caught": 2}, tmp_path / "scratch")
    assert written == tmp_path / "results" / "x.json"
    assert json.loads(written.read_text())["caught"] == 2
