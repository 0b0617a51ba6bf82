"""Validation and audit judge the structure of a center by the same norms (pesdc.norms).

Each case edits the Linux lab city's file; ``pesdc validate``'s rule (MLPS001-003) and
the audit's check of the same clause must then give the same judgement: both clean, or
both not met. The self-named redundancy partner is the case they once disagreed on
(validation refused it, the audit passed a core switch "paired with" itself).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pesdc.audit.registry import CHECKS, AuditContext, all_checks
from pesdc.audit.result import Status, combine
from pesdc.model import validate
from tests.audit.conftest import LABCITY

all_checks()

# case -> (text replaced in weihai.yaml, by, validation rule, audit rule, met after)
CASES = {
    "core-switch-partnered-with-itself": (
        "name: core-1, kind: core_switch, mgmt: 10.50.9.21, redundancy: core-2",
        "name: core-1, kind: core_switch, mgmt: 10.50.9.21, redundancy: core-1",
        "MLPS002", "AUD-CN-06", False),
    "core-switch-partners-mutual": ("", "", "MLPS002", "AUD-CN-06", True),
    "logs-into-the-whole-management-zone": (
        "src: internet, dst: mgmt, dst_systems: [log-collection],",
        "src: internet, dst: mgmt,", "MLPS003", "AUD-CN-03", False),
    "logs-to-the-named-collector": ("", "", "MLPS003", "AUD-CN-03", True),
    "no-time-source-in-the-management-zone": (
        "name: ntp-1, roles: [timesource]", "name: ntp-1, roles: [backup]",
        "MLPS001", "AUD-MC-01", False),
    "standby-on-the-primary": (
        "primary: db-1, standby: db-2", "primary: db-1, standby: db-1",
        "MLPS002", "AUD-CE-20", False),
}


def _judged(tmp_path: Path, old: str, new: str, rule: str, check: str,
            catalog) -> tuple[bool, bool]:
    tree = tmp_path / "tree"
    shutil.copytree(LABCITY, tree)
    city = tree / "weihai.yaml"
    text = city.read_text(encoding="utf-8")
    assert old in text
    city.write_text(text.replace(old, new), encoding="utf-8")
    result = validate([tree])
    valid = not [d for d in result.report.diagnostics if d.rule == rule]
    topo = result.topology
    ctx = AuditContext(topo, topo.datacenters["weihai"])
    status = combine([o.status for o in CHECKS[check](ctx, catalog.rules[check].params)])
    assert status is not Status.error
    return valid, status is Status.passed


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_and_audit_agree(case: str, tmp_path: Path, catalog) -> None:
    old, new, rule, check, met = CASES[case]
    valid, passed = _judged(tmp_path, old, new, rule, check, catalog)
    assert (valid, passed) == (met, met), f"{rule} clean: {valid}, {check} passed: {passed}"
