"""Verify's backup check against a backup host that cannot be reached (issue 13: the
error text once counted as "backup found"). The SSH connection goes to a closed port
on 127.0.0.1, so it fails for real and nothing leaves the machine."""

from __future__ import annotations

from pathlib import Path

from pesdc.model import validate
from pesdc.verify.hosts import check_backups
from tests.conftest import MINI


def test_an_unreachable_backup_host_is_no_backup(closed_port: Path) -> None:
    topo = validate([MINI]).topology
    dc = next(d for d in topo.datacenters.values()
              if any(db.backup_target for db in d.databases))
    checks = check_backups(topo, dc.name, closed_port)
    assert checks
    for c in checks:
        assert c.category == "backups" and not c.ok, c
        assert c.observed.startswith("cannot read the backup host"), c.observed
