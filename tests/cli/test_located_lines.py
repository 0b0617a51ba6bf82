"""Not on a terminal, problems with a file location print as compiler-style lines, one
each, never in a table that wraps and splits ``file:line`` (issue 18 point 2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pesdc.cli.main import main

REPO = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^(?P<file>[^:\s]+\.yaml):(?P<line>\d+):(?P<col>\d+): "
                  r"(?P<severity>error|warning) (?P<rule>[A-Z]+\d+): (?P<message>.+)$")


def test_stage_check_piped_prints_one_whole_line_per_problem(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(main, ["stage", "check", "topologies"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    located = [m for m in map(LINE.match, lines) if m]
    assert ("topologies/shandong/heze.yaml", "error", "PES005",
            "stage 2: server mis-old-1 in machine room hz-employment-room runs pes-mis; "
            "only talent-center systems may stay in an agency room") in [
                (m["file"], m["severity"], m["rule"], m["message"]) for m in located]
    assert any(m["file"] == "topologies/shandong/zibo.yaml" and m["severity"] == "warning"
               and m["rule"] == "STAGE001" for m in located)
    for m in located:  # each location is a real line of its file, not a wrapped piece
        src = (REPO / m["file"]).read_text().splitlines()
        assert 1 <= int(m["line"]) <= len(src)
    assert not any("yaml:" in ln and not LINE.match(ln) for ln in lines)
