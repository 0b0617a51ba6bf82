"""A check that crashes is an error: shown as such, scored as not met, and the audit
command fails (issue 13: it was "manual", which is not scored, so a crash raised the
score)."""

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
def test_a_crashing_check_is_an_error_and_lowers_the_score(monkeypatch: pytest.MonkeyPatch,
                                                     catalog: Catalog, rule: str,
                                                     table: str) -> None:
    topo = validate([ROOT / "topologies"]).topology
    before = run_audit(topo, "jinan", catalog, AuditOptions(mode="static"))
    assert before.rules[rule].status is Status.passed
    # The per-host and per-device loops call the table entry by name at run time.
    monkeypatch.setitem(getattr(registry, table), rule, _boom)
    after = run_audit(topo, "jinan", catalog, AuditOptions(mode="static"))
    res = after.rules[rule]
    assert res.status is Status.error
    crashed = [o for o in res.outcomes if "KeyError" in o.message]
    assert crashed and all(o.status is Status.error for o in crashed)
    assert rule in after.error_rules() and rule in after.failed_rules()
    assert not any(o.status is Status.passed for o in res.outcomes)
    assert after.overall is not None and before.overall is not None
    assert after.overall < before.overall


def test_an_error_is_never_waived(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    from pesdc.audit.result import Waiver

    topo = validate([ROOT / "topologies"]).topology
    monkeypatch.setitem(registry.CHECKS, "AUD-CN-08", _boom)
    opts = AuditOptions(mode="static", waivers=[Waiver("AUD-CN-08", "accepted", "王工",
                                                       "2099-01-01")])
    res = run_audit(topo, "jinan", catalog, opts).rules["AUD-CN-08"]
    assert not res.waived and res.effective is Status.error
