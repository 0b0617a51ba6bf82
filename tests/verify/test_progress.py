"""verify's progress (issue 18 point 5) on offline inputs: the example lab city's plan,
every host behind a closed port on loopback (nothing leaves the machine). Each check
submitted is told when it starts and when it ends, with its outcome, as one flushed
line on a pipe; the count is known before the first starts."""

from __future__ import annotations

import os
import re
from pathlib import Path

from pesdc.cli.reporting import LineReporter
from tests.verify.conftest import LABCITY


def test_each_check_is_a_line_when_it_starts_and_when_it_ends(closed_port: Path) -> None:
    from pesdc.lab.plan import build_plan
    from pesdc.model import validate
    from pesdc.verify.hosts import Reach
    from pesdc.verify.run import _verify

    topo = validate([LABCITY]).topology
    plan = build_plan(topo, "weihai", "tvfy-offline")
    servers = [s.name for s in plan.dc.servers][:3]
    r, w = os.pipe()
    with os.fdopen(w, "w", encoding="utf-8") as stream:
        rep = LineReporter(stream, lang="en")
        report = _verify(topo, "weihai", plan, plan.facts, servers, Reach(closed_port),
                         ("hosts", "routing", "policy"), rep, None, [])
        rep.done()
    with os.fdopen(r, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    assert all(re.match(r"^\[ *\d+\.\ds\] ", ln) for ln in lines), lines
    # 3 hosts x (host checks, time check) + logs, replication, backups, routing, policy
    assert lines[0].endswith("verify weihai: 3 hosts, parts hosts, routing, policy "
                             "(11 steps)")
    for s in servers:
        started = f"weihai/{s}: verify: host checks ..."
        ended = [i for i, ln in enumerate(lines)
                 if f"weihai/{s}: verify: host checks ... failed: " in ln]
        assert len(ended) == 1 and any(ln.endswith(started) for ln in lines[:ended[0]])
        assert "could not observe" in lines[ended[0]]
    assert any("weihai: routing: routing check ... failed: 2 of 2 checks" in ln
               for ln in lines)
    assert lines[-1].endswith("done: 11/11 step(s), 11 failed")
    assert not report.ok  # the hosts could not be reached: errors, never a pass
