"""Helpers of the job protocol tests: what came back compared with what was sent."""

from __future__ import annotations

import json
from pathlib import Path


def stream_lines(stream: Path) -> list[bytes]:
    """The worker's stream as it passed: its JSON lines, the artifacts' zip left out
    (the N bytes a ``{"zipfile": N}`` line announces, in base64 with no newline)."""
    raw, pos, lines = stream.read_bytes(), 0, []
    while pos < len(raw):
        end = raw.index(b"\n", pos)
        line = raw[pos:end]
        lines.append(line)
        pos = end + 1
        size = json.loads(line).get("zipfile")
        if size is not None:
            pos += 4 * -(-size // 3)
    return lines


def stream_events(stream: Path) -> dict[str, bytes]:
    """The worker's events as they passed in its stream: file name -> the line's bytes."""
    out: dict[str, bytes] = {}
    for line in stream_lines(stream):
        data = json.loads(line)
        if data.get("counter") and data.get("uuid"):
            out[f"{data['counter']}-{data['uuid']}.json"] = line
    return out


def assert_events_intact(stream: Path, artifact_dir: Path) -> dict[str, bytes]:
    """Every event the worker streamed is on the controller's side, byte for byte, and
    nothing else; the counters run 1..N without a gap. The events by file name."""
    sent = stream_events(stream)
    got = {p.name: p.read_bytes() for p in (artifact_dir / "job_events").glob("*.json")}
    assert sent, "the worker streamed no event"
    assert sorted(got) == sorted(sent)
    for name, line in sent.items():
        assert got[name] == line, name
    counters = sorted(int(n.split("-", 1)[0]) for n in got)
    assert counters == list(range(1, len(counters) + 1))
    return got


def event_list(artifact_dir: Path) -> list[dict[str, object]]:
    """The job's events in order (by counter)."""
    files = sorted((artifact_dir / "job_events").glob("*.json"),
                   key=lambda p: int(p.name.split("-", 1)[0]))
    return [json.loads(p.read_text()) for p in files]


def task_results(artifact_dir: Path) -> dict[str, dict[str, object]]:
    """The result of each task by its name (the runner_on_* event of localhost)."""
    out: dict[str, dict[str, object]] = {}
    for ev in event_list(artifact_dir):
        if str(ev.get("event", "")).startswith("runner_on_"):
            data = ev["event_data"]
            assert isinstance(data, dict)
            out[str(data["task"])] = {"event": ev["event"], **dict(data.get("res") or {})}
    return out
