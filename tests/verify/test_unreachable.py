"""Verify's backup check against a backup host that cannot be reached (issue 13: the
error text once counted as "backup found"). The SSH connection goes to a closed port
on 127.0.0.1, so it fails for real and nothing leaves the machine."""

from __future__ import annotations

from pathlib import Path

from pesdc.model import validate
from pesdc.verify.hosts import check_backups
from tests.conftest import MINI


def test_an_unreachable_backup_host_is_no_backup(tmp_path: Path) -> None:
    topo = validate([MINI]).topology
    dc = next(d for d in topo.datacenters.values()
              if any(db.backup_target for db in d.databases))
    config = tmp_path / "ssh_config"
    # Port 1 on loopback: nothing listens there, the connect is refused at once.
    config.write_text("Host *\n  Hostname 127.0.0.1\n  Port 1\n  ConnectTimeout 3\n"
                      "  BatchMode yes\n  StrictHostKeyChecking no\n"
                      "  UserKnownHostsFile /dev/null\n", "utf-8")
    checks = check_backups(topo, dc.name, config)
    assert checks
    for c in checks:
        assert c.category == "backups" and not c.ok, c
        assert c.observed.startswith("cannot read the backup host"), c.observed
