"""A device that render refused is a failed finding that says why, never a pass on no
text (issue 12: the static audit judges what would be written to the device)."""

from __future__ import annotations

import shutil
from pathlib import Path

from pesdc.audit.catalog import Catalog
from pesdc.audit.engine import AuditOptions, run_audit
from pesdc.audit.result import Status
from pesdc.model import validate
from tests.conftest import ROOT


def test_a_firewall_render_refused_fails_the_policy_check(tmp_path: Path,
                                                          catalog: Catalog) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "topologies", tree)
    topo = validate([tree]).topology
    dc = topo.datacenters["jinan"]
    fw = next(d for d in dc.devices if d.kind.value == "firewall")
    # One printable line the schema accepts, which a vendor CLI reads as help.
    fw.interfaces[0].description = "which uplink?"
    report = run_audit(topo, "jinan", catalog, AuditOptions(mode="static"))
    rule = report.rules["AUD-AB-13"]
    mine = [o for o in rule.outcomes if o.target.startswith(f"{fw.name}.")]
    assert [o.status for o in mine] == [Status.failed]
    assert "render refused this device" in mine[0].message
    assert "RENDER005" in mine[0].message and "'?'" in mine[0].message
