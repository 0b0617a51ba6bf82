"""A check that crashes is counted as not met (issue 13: it was "manual", which is not
scored, so a crash raised the score)."""

from __future__ import annotations

from typing import Any

import pytest

from pesdc.audit import registry
from pesdc.audit.catalog import Catalog
from pesdc.audit.engine import AuditOptions, run_audit
from pesdc.audit.result import Status
from pesdc.model import validate
from tests.conftest import ROOT


def _boom(*_args: Any) -> Any:
    raise KeyError("a parser surprise")


@pytest.mark.parametrize("rule, table", [("AUD-CN-08", "CHECKS"),
                                         ("AUD-CE-05", "HOST_CHECKS"),
                                         ("AUD-AB-10", "DEVICE_CHECKS")])
def test_a_crashing_check_fails_and_lowers_the_score(monkeypatch: pytest.MonkeyPatch,
                                                     catalog: Catalog, rule: str,
                                                     table: str) -> None:
    topo = validate([ROOT / "topologies"]).topology
    before = run_audit(topo, "jinan", catalog, AuditOptions(mode="static"))
    assert before.rules[rule].status is Status.passed
    # The per-host and per-device loops call the table entry by name at run time.
    monkeypatch.setitem(getattr(registry, table), rule, _boom)
    after = run_audit(topo, "jinan", catalog, AuditOptions(mode="static"))
    res = after.rules[rule]
    assert res.status is Status.failed
    crashed = [o for o in res.outcomes if "KeyError" in o.message]
    assert crashed and all(o.status is Status.failed for o in crashed)
    assert not any(o.status is Status.passed for o in res.outcomes)
    assert after.overall is not None and before.overall is not None
    assert after.overall < before.overall
