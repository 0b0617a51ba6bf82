"""stage rehearse's progress (issue 18 point 5), offline: the rehearsal's step runner
tells each step's start and its end (ok with its time, or failed with the cause's first
line) to a line reporter on a pipe. The steps here are functions of the test; the
journal goes to a state directory of the test's own (PESDC_STATE_DIR)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pesdc.cli.reporting import LineReporter
from pesdc.stages.rehearse import Runner, StepFailed

ROOT = Path(__file__).resolve().parents[2]
STAGE1 = ROOT / "tests/fixtures/stages/stage1"


def test_each_step_is_told_when_it_starts_and_ends(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from pesdc.model import validate
    from pesdc.model.schema import Tier
    from pesdc.stages.target import derive

    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path / "state"))
    topo = validate([str(STAGE1)]).topology
    city = topo.pick_center(None, Tier.city).name
    plan = derive(topo, city, 2)
    r, w = os.pipe()
    with os.fdopen(w, "w", encoding="utf-8") as stream:
        rep = LineReporter(stream, lang="en")
        runner = Runner(topo, [str(STAGE1)], city, "tprog-none", plan, tmp_path / "work",
                        lambda _m: None, progress=rep)
        runner.step("write intermediate and target topologies", lambda: "written")

        def broken() -> str:
            raise StepFailed("migrate failed (rc 1):\nsecond line")

        with pytest.raises(StepFailed):
            runner.step("migrate databases (dump, restore, compare)", broken)
        rep.done()
    with os.fdopen(r, encoding="utf-8") as fh:
        lines = [re.sub(r"^\[ *\d+\.\ds\] ", "", ln) for ln in fh.read().splitlines()]
    me = f"{city}/rehearse"
    assert lines[0] == f"{me}: write intermediate and target topologies ..."
    assert re.fullmatch(rf"{me}: write intermediate and target topologies \.\.\. ok: "
                        r"\d+\.\d s", lines[1])
    assert lines[2:] == [f"{me}: migrate databases (dump, restore, compare) ...",
                         f"{me}: migrate databases (dump, restore, compare) ... failed: "
                         "migrate failed (rc 1):",
                         "done: 2 step(s), 1 failed"]
    assert [s.ok for s in runner.res.steps] == [True, False]
