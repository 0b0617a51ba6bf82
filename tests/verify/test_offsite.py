"""Verify's off-site checks without a lab: the scripts it runs on the hosts are Python
(they once shipped with a newline inside a bytes literal, and every check of a standby
errored); a standby that cannot be reached, or a primary in a center this run does not
hold, is an error (not observed), never a pass. The SSH connection goes to a closed port
on 127.0.0.1, so it fails for real and nothing leaves the machine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pesdc.model import validate
from pesdc.verify import offsite
from pesdc.verify.checks import Check
from tests.conftest import ROOT


@pytest.mark.parametrize("script", ["_RESTORE", "_SOURCE", "_TABLES"])
def test_the_scripts_run_on_the_hosts_are_python(script: str) -> None:
    ast.parse(getattr(offsite, script))


def test_unreachable_offsite_standbys_are_errors_not_passes(closed_port: Path) -> None:
    topo = validate([ROOT / "topologies"]).topology
    checks = offsite.check_offsite(topo, "shandong", closed_port,
                                   servers=["jn-misdb-dr", "jn-dw-dr"])
    standbys = [c for c in checks if c.category == "replication"]
    # Only the standbys this run holds: two, each streaming and equal.
    assert sorted(c.target for c in standbys) == ["jn-dw-dr.shandong"] * 2 + \
        ["jn-misdb-dr.shandong"] * 2
    for c in standbys:
        assert isinstance(c, Check) and not c.ok and c.error, c
        assert "cannot read the standby" in c.observed, c.observed
    assert all(not c.ok for c in checks)
    assert offsite.check_offsite(topo, "jinan", closed_port) == []  # holds none


def test_a_primary_this_run_cannot_read_is_not_compared() -> None:
    data, why = offsite._source_read("jinan", "misdb-1", offsite._TABLES, ["5432", "[]"],
                                     None)
    assert data is None and "not reachable from this run" in why
