"""What crosses from one center to another over the business private network (业务专网):
the far ends of cross-center flows and the off-site database copies, resolved once.

A flow whose one side is a center's private-network zone may name that side's servers
in other centers (``src_remote`` / ``dst_remote``: "center/server" or "center/system");
the policy (pesdc.policy) turns them into host addresses. A database's
``offsite_backup`` names a backup server of another center that pulls its dumps
(GB/T 22239-2019 8.1.4.9, 异地备份); its ``offsite_standby`` names a database server
of another center that streams the primary's cluster in real time (异地实时备份,
8.1.4.9 b). Provisioning, render and verify read them from :func:`offsite_backups` and
:func:`offsite_standbys`; rules XC001-XC003 (pesdc.rules.crosscenter) say what does not
resolve.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pesdc.backbone import reachable
from pesdc.model.schema import Database, DataCenter, DbEngine, Server, ServerRole
from pesdc.model.tree import Topology

SSH_PORT = 22  # the pull runs the dump over ssh (pesdc-pg-dump, a forced command)


def remote_servers(topo: Topology, ref: str) -> list[Server] | None:
    """The servers "center/name" stands for (a server, or every server of a system);
    None when the center or the name does not exist."""
    center, _, name = ref.partition("/")
    dc = topo.datacenters.get(center)
    if dc is None:
        return None
    idx = topo.index(dc)
    if name in idx.servers:
        return [idx.servers[name]]
    if name in idx.systems:
        return [idx.servers[s] for s in idx.systems[name].servers if s in idx.servers]
    return None


def remote_nets(topo: Topology, refs: list[str]) -> tuple[str, ...]:
    """The host networks (/32) of the servers the references stand for, sorted, once."""
    addrs = {s.address for ref in refs for s in (remote_servers(topo, ref) or [])}
    return tuple(f"{a}/32" for a in sorted(addrs, key=ipaddress.ip_address))


@dataclass(frozen=True)
class OffsiteCopy:
    """One database's off-site copy: who holds it and where it comes from."""

    db_center: str
    database: str
    primary: str
    primary_address: str
    primary_zone: str
    backup_center: str
    backup_server: str
    backup_address: str
    backup_zone: str
    path: tuple[str, ...]  # the centers the pull crosses, backup center first


def _copy(topo: Topology, dc: DataCenter, db: Database) -> OffsiteCopy | None:
    want = db.offsite_backup
    if want is None or want.center == dc.name:
        return None
    far = topo.datacenters.get(want.center)
    primary = topo.index(dc).servers.get(db.primary)
    if far is None or primary is None:
        return None
    backup = topo.index(far).servers.get(want.server)
    if backup is None or ServerRole.backup not in backup.roles:
        return None
    path = reachable(topo, far.name, dc.name)
    if path is None:
        return None
    return OffsiteCopy(dc.name, db.name, primary.name, primary.address, primary.zone,
                       far.name, backup.name, backup.address, backup.zone, tuple(path))


def offsite_backups(topo: Topology) -> list[OffsiteCopy]:
    """Every off-site copy of the tree that resolves (a backup server of another center,
    joined over the uplinks), in tree order; what does not resolve is XC002's."""
    out = []
    for dc in topo.in_tier_order():
        for db in dc.databases:
            c = _copy(topo, dc, db)
            if c is not None:
                out.append(c)
    return out


@dataclass(frozen=True)
class OffsiteStandby:
    """A primary's off-site streaming standby: a database server of another center that
    replicates the primary's whole cluster (every database on it) over the uplinks."""

    db_center: str
    primary: str
    primary_address: str
    primary_zone: str
    port: int
    version: str
    databases: tuple[str, ...]  # the databases that declare it (the cluster's)
    standby_center: str
    standby_server: str
    standby_address: str
    standby_zone: str
    path: tuple[str, ...]  # the centers the stream crosses, standby center first


def _standby(topo: Topology, dc: DataCenter, primary: str, dbs: list[Database]
             ) -> OffsiteStandby | None:
    want = dbs[0].offsite_standby
    if want is None or want.center == dc.name or \
            any(d.offsite_standby != want or d.engine is not DbEngine.postgresql for d in dbs):
        return None
    far = topo.datacenters.get(want.center)
    src = topo.index(dc).servers.get(primary)
    if far is None or src is None:
        return None
    standby = topo.index(far).servers.get(want.server)
    if standby is None or ServerRole.database not in standby.roles or \
            any(standby.name in (d.primary, d.standby) for d in far.databases):
        return None
    path = reachable(topo, far.name, dc.name)
    if path is None:
        return None
    version = next((d.version for d in dbs if d.version), None) or "15"
    return OffsiteStandby(dc.name, src.name, src.address, src.zone, dbs[0].port, version,
                          tuple(d.name for d in dbs), far.name, standby.name,
                          standby.address, standby.zone, tuple(path))


def offsite_standbys(topo: Topology) -> list[OffsiteStandby]:
    """Every off-site standby of the tree that resolves: one per primary whose databases
    all name the same database server of another center (one not serving its own
    center's databases, streaming one primary), joined over the uplinks; in tree order.
    What does not resolve is XC003's."""
    out: list[OffsiteStandby] = []
    for dc in topo.in_tier_order():
        by_primary: dict[str, list[Database]] = {}
        for db in dc.databases:
            if db.offsite_standby is not None:
                by_primary.setdefault(db.primary, []).append(db)
        for primary, dbs in by_primary.items():
            s = _standby(topo, dc, primary, dbs)
            if s is not None:
                out.append(s)
    # A server streams one primary: two primaries naming it resolve to neither.
    held: dict[tuple[str, str], int] = {}
    for s in out:
        held[(s.standby_center, s.standby_server)] = \
            held.get((s.standby_center, s.standby_server), 0) + 1
    return [s for s in out if held[(s.standby_center, s.standby_server)] == 1]
