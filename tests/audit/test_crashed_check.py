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
    registry.all_checks()  # the check modules register first, then one is replaced
    monkeypatch.setitem(registry.CHECKS, "AUD-CN-08", _boom)
    opts = AuditOptions(mode="static", waivers=[Waiver("AUD-CN-08", "accepted", "王工",
                                                       "2099-01-01")])
    res = run_audit(topo, "jinan", catalog, opts).rules["AUD-CN-08"]
    assert not res.waived and res.effective is Status.error


def test_an_error_shows_as_error_in_junit_html_and_the_exit_code(
        monkeypatch: pytest.MonkeyPatch, catalog: Catalog) -> None:
    from xml.etree import ElementTree as ET

    from pesdc.audit import report as rp

    topo = validate([ROOT / "topologies"]).topology
    registry.all_checks()  # the check modules register first, then one is replaced
    monkeypatch.setitem(registry.CHECKS, "AUD-CN-08", _boom)
    report = run_audit(topo, "jinan", catalog, AuditOptions(mode="static"))
    root = ET.fromstring(rp.junit_report(report, catalog))
    assert root.get("errors") == "1"
    case = next(c for c in root.iter("testcase") if c.get("name", "").startswith("AUD-CN-08"))
    assert case.find("failure") is None and "KeyError" in case.find("error").get("message")
    page = rp.html_report(report, catalog, topo, "en")
    assert f".s-error {{ background: {rp.COLORS['error']}; }}" in page
    assert rp.COLORS["error"] not in (rp.COLORS["fail"], rp.COLORS["partial"])
    assert 'class="badge s-error"' in page
    assert report.as_dict()["error_rules"] == ["AUD-CN-08"]


def test_the_audit_command_fails_on_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from pesdc.cli.main import main

    registry.all_checks()
    monkeypatch.setitem(registry.CHECKS, "AUD-CN-08", _boom)
    res = CliRunner().invoke(main, ["audit", str(ROOT / "topologies"), "--dc", "jinan",
                                    "--format", "json"])
    assert res.exit_code == 1, res.output
    assert "1 rule(s) could not be judged" in res.output and "AUD-CN-08" in res.output
