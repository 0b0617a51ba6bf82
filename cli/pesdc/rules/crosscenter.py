"""Between centers: the upper ends of uplinks, the far ends of cross-center flows, the
off-site backups and the off-site standbys all resolve, over a business private network
that joins them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pesdc.backbone import reachable
from pesdc.crosscenter import SSH_PORT, remote_servers
from pesdc.i18n import N_
from pesdc.model.diagnostics import Diagnostic, Severity
from pesdc.model.downlinks import target
from pesdc.model.schema import (
    Database,
    DataCenter,
    DbEngine,
    Interface,
    Server,
    ServerRole,
    ZoneKind,
)
from pesdc.model.tree import Topology
from pesdc.rules.registry import at, problem, rule


@rule("NET005", "downlink", "an upper center's downlink names a lower center's uplink "
      "to it, once; a lower uplink has an upper end")
def downlinks(topo: Topology) -> Iterator[Diagnostic]:
    ends: dict[str, set[str]] = {}  # lower center -> its uplinks some upper end names
    for dc in topo.datacenters.values():
        seen: set[str] = set()
        for dev in dc.devices:
            for itf in dev.interfaces:
                if itf.downlink is None:
                    continue
                yield from _downlink(topo, dc, itf, seen)
                center, _, name = itf.downlink.partition("/")
                ends.setdefault(center, set()).add(name)
    for dc in topo.datacenters.values():
        for up in dc.uplinks:
            peer = topo.datacenters.get(up.peer)
            if up.downlink_of or peer is None or peer is dc or up.subnet is None:
                continue
            theirs = any(u.peer == dc.name and u.subnet == up.subnet and not u.downlink_of
                         for u in peer.uplinks)
            if not theirs and up.name not in ends.get(dc.name, set()):
                yield problem("NET005", at(up, "name"),
                              N_("uplink {uplink} of {dc} has no end in {peer}: {peer}'s "
                                 "routers do not carry it"),
                              N_("add {{name: IFNAME, downlink: {dc}/{uplink}}} to the "
                                 "interfaces of a router of {peer}"), Severity.warning,
                              uplink=up.name, dc=dc.name, peer=peer.name)


def _downlink(topo: Topology, dc: DataCenter, itf: Interface, seen: set[str]
              ) -> Iterator[Diagnostic]:
    ref = itf.downlink or ""
    where = at(itf, "downlink")
    center, _, name = ref.partition("/")
    lower = topo.datacenters.get(center)
    if lower is None or lower is dc:
        yield problem("NET005", where,
                      N_("downlink {ref}: center {center!r} is this center") if lower is dc
                      else N_("downlink {ref}: center {center!r} is not in this tree"),
                      N_("write the lower center's name, then its uplink: CITY/UPLINK"),
                      ref=ref, center=center)
        return
    found = target(topo, ref)
    if found is None:
        names = ", ".join(u.name for u in lower.uplinks) or "none"
        yield problem("NET005", where, N_("downlink {ref}: {center} has no uplink {name!r} (its "
                                          "uplinks: {names})"),
                      N_("name one of its uplinks"),
                      ref=ref, center=center, name=name, names=names)
        return
    up = found[1]
    if up.peer != dc.name:
        yield problem("NET005", where, N_("downlink {ref}: that uplink goes to {up_peer}, not to "
                                          "{dc}"),
                      N_("set its peer: {dc}, or name another uplink"),
                      ref=ref, up_peer=up.peer, dc=dc.name)
        return
    if ref in seen:
        yield problem("NET005", where, N_("downlink {ref} is held by two interfaces of {dc}"),
                      N_("one interface holds an uplink's upper end"),
                      ref=ref, dc=dc.name)
        return
    seen.add(ref)
    if not (up.subnet and up.local_address and up.peer_address):
        yield problem("NET005", where, N_("downlink {ref}: the uplink has no subnet and "
                                          "addresses to take"),
                      N_("give {center}'s uplink {name} subnet:, local_address: and peer_address:"),
                      ref=ref, center=center, name=name)
    elif itf.address not in (None, up.peer_address):
        yield problem("NET005", at(itf, "address"),
                      N_("address {itf_address} is not {up_peer_address}, the peer_address of "
                         "{ref}"),
                      N_("drop the address (it is taken from the uplink) or write "
                         "{up_peer_address}"),
                      itf_address=itf.address, up_peer_address=up.peer_address, ref=ref)


def _pn_zones(dc: DataCenter) -> set[str]:
    return {z.name for z in dc.zones if z.kind is ZoneKind.private_network}


@rule("XC001", "remote-endpoint", "a flow's far side in another center resolves, on its "
      "private-network side, over uplinks that join the two centers")
def remote_endpoints(topo: Topology) -> Iterator[Diagnostic]:
    for dc in topo.datacenters.values():
        pn: set[str] | None = None  # read when a flow names another center: most do not
        for iso in dc.isolation:
            for i, flow in enumerate(iso.flows):
                for side, zone in (("src", flow.src), ("dst", flow.dst)):
                    refs = getattr(flow, f"{side}_remote")
                    key = f"{side}_remote"
                    if refs and pn is None:
                        pn = _pn_zones(dc)
                    if refs and zone not in (pn or set()):
                        yield problem("XC001", at(iso, "flows", i, key),
                                      N_("{key} names servers of other centers, but {side} "
                                         "{zone} is not {dc}'s private-network zone"),
                                      N_("other centers are reached through the private-network "
                                         "zone: make it the flow's {side}, or drop {key}"),
                                      key=key, side=side, zone=zone, dc=dc.name)
                        continue
                    for j, ref in enumerate(refs):
                        yield from _remote(topo, dc, ref, at(iso, "flows", i, key, j))


def _remote(topo: Topology, dc: DataCenter, ref: str, where: tuple[str, tuple[Any, ...]]
            ) -> Iterator[Diagnostic]:
    center = ref.partition("/")[0]
    if center == dc.name:
        yield problem("XC001", where, N_("{ref} is in this center"),
                      N_("name it in src_systems/dst_systems of a flow inside the center"),
                      ref=ref)
        return
    if remote_servers(topo, ref) is None:
        where_to = "a center of the tree" if center not in topo.datacenters else \
            f"a server or a system of {center}"
        yield problem("XC001", where, N_("{ref} does not exist"),
                      N_("name {where_to}"),
                      ref=ref, where_to=where_to)
        return
    if reachable(topo, dc.name, center) is None:
        yield problem("XC001", where, N_("{dc} and {center} are not joined over the business "
                                         "private network (no uplink path with both ends held)"),
                      N_("add the uplinks between them, and their upper ends (downlink:)"),
                      dc=dc.name, center=center)


def _far_end(rule_id: str, topo: Topology, dc: DataCenter, db: Database, field: str,
             role: ServerRole) -> tuple[DataCenter, Server] | Diagnostic:
    """The other center and its server a database's ``field`` ({center, server}) names,
    or the problem at the line to fix: the center is not another one of the tree, or
    the server has not the role."""
    want = getattr(db, field)
    noun = "copy" if field == "offsite_backup" else "standby"
    far = topo.datacenters.get(want.center)
    if far is None or far is dc:
        itself = (N_("{field} center {want_center!r} is this center: an off-site copy is in "
                     "another") if noun == "copy" else
                  N_("{field} center {want_center!r} is this center: an off-site standby is "
                     "in another"))
        return problem(rule_id, at(db, field, "center"),
                       itself if far is dc else
                       N_("{field} center {want_center!r} is not in this tree"),
                       N_("name another center of the tree"),
                       field=field, want_center=want.center)
    server = topo.index(far).servers.get(want.server)
    if server is None or role not in server.roles:
        return problem(rule_id, at(db, field, "server"),
                       N_("{want_center} has no {role} server {want_server!r}"),
                       N_("name a server of {want_center} with the {role} role"),
                       want_center=want.center, role=role.value, want_server=want.server)
    return far, server


@rule("XC002", "offsite-backup", "a database's off-site copy is held by a backup server "
      "of another center, reached over the uplinks and admitted by both centers")
def offsite(topo: Topology) -> Iterator[Diagnostic]:
    for dc in topo.datacenters.values():
        for db in dc.databases:
            want = db.offsite_backup
            if want is None:
                continue
            where = at(db, "offsite_backup")
            found = _far_end("XC002", topo, dc, db, "offsite_backup", ServerRole.backup)
            if isinstance(found, Diagnostic):
                yield found
                continue
            far, backup = found
            primary = topo.index(dc).servers.get(db.primary)
            if primary is None:
                continue  # REF001's
            if any(any(topo.invalid_items.get(c, {}).values()) for c in (dc.name, far.name)):
                continue  # a center with schema errors has no policy to judge by yet
            if reachable(topo, far.name, dc.name) is None:
                yield problem("XC002", where, N_("{far} and {dc} are not joined over the "
                                                 "business private network"),
                              N_("add the uplinks between them, and their upper ends"),
                              far=far.name, dc=dc.name)
                continue
            yield from _admitted("XC002", topo, far, backup, dc, primary, SSH_PORT, where,
                                 "pull from")


def _admitted(rule_id: str, topo: Topology, far: DataCenter, client: Server, dc: DataCenter,
              server: Server, port: int, where: tuple[str, tuple[Any, ...]], verb: str
              ) -> Iterator[Diagnostic]:
    """Both centers' isolation lets ``client`` (a server of ``far``) open tcp/``port``
    to ``server`` (of ``dc``): out of its zone into far's private network, and from
    dc's private network into the server's zone."""
    from pesdc.policy import build

    for pol_dc, src_z, dst_z, side in ((far, client.zone, None, "out of"),
                                       (dc, None, server.zone, "into")):
        pol = build(topo, pol_dc)
        pn = next(iter(sorted(_pn_zones(pol_dc))), None)
        if pn is not None and pol.allows(src_z or pn, dst_z or pn, "tcp", port,
                                         client.address, server.address):
            continue
        zone = src_z or dst_z
        yield problem(
            rule_id, where, _NOT_ADMITTED[verb, side],
            N_("add a tcp/{port} flow between {zone} and {pn} in {center} naming "
               "{far}/{client} and {dc}/{server}") if pn else
            N_("add a tcp/{port} flow between {zone} and a private-network zone in {center} "
               "naming {far}/{client} and {dc}/{server}"),
            center=pol_dc.name, client=client.name, far=far.name, client_address=client.address,
            server=server.name, dc=dc.name, server_address=server.address, port=port,
            zone=zone, pn=pn or "")


# What _admitted says, per verb and side (whole sentences, for the catalog).
_NOT_ADMITTED = {
    ("pull from", "out of"): N_(
        "{center}'s isolation does not let {client}.{far} ({client_address}) pull from "
        "{server}.{dc} ({server_address}) over tcp/{port} out of zone {zone}"),
    ("pull from", "into"): N_(
        "{center}'s isolation does not let {client}.{far} ({client_address}) pull from "
        "{server}.{dc} ({server_address}) over tcp/{port} into zone {zone}"),
    ("stream from", "out of"): N_(
        "{center}'s isolation does not let {client}.{far} ({client_address}) stream from "
        "{server}.{dc} ({server_address}) over tcp/{port} out of zone {zone}"),
    ("stream from", "into"): N_(
        "{center}'s isolation does not let {client}.{far} ({client_address}) stream from "
        "{server}.{dc} ({server_address}) over tcp/{port} into zone {zone}"),
}


@rule("XC003", "offsite-standby", "a database's off-site standby is a database server of "
      "another center streaming that one primary, reached over the uplinks and admitted "
      "by both centers")
def offsite_standby(topo: Topology) -> Iterator[Diagnostic]:
    streams: dict[tuple[str, str], tuple[str, str]] = {}  # standby -> (center, primary)
    for dc in topo.datacenters.values():
        named: dict[str, Database] = {}  # primary -> the first database naming a standby
        for db in dc.databases:
            if db.offsite_standby is not None:
                yield from _standby(topo, dc, db, named, streams)


def _standby(topo: Topology, dc: DataCenter, db: Database, named: dict[str, Database],
             streams: dict[tuple[str, str], tuple[str, str]]) -> Iterator[Diagnostic]:
    want = db.offsite_standby
    assert want is not None
    where = at(db, "offsite_standby")
    found = _far_end("XC003", topo, dc, db, "offsite_standby", ServerRole.database)
    if isinstance(found, Diagnostic):
        yield found
        return
    far, standby = found
    if db.engine is not DbEngine.postgresql:
        yield problem("XC003", at(db, "engine"), N_("an off-site standby streams PostgreSQL "
                                                    "(physical replication); {db} is {db_engine}"),
                      N_("use the engine's own replication and drop offsite_standby"),
                      db=db.name, db_engine=db.engine.value)
        return
    own = [d.name for d in far.databases if standby.name in (d.primary, d.standby)]
    if own:
        yield problem("XC003", at(db, "offsite_standby", "server"),
                      N_("{center}/{server} serves {center}'s own {databases}: a standby is a "
                         "copy of the whole primary cluster"),
                      N_("give the off-site standby a database server of its own in {center}"),
                      center=want.center, server=want.server, databases=", ".join(own))
        return
    first = named.setdefault(db.primary, db)
    other = first.offsite_standby
    if other is not None and other != want:
        yield problem("XC003", where, N_("{db_primary} holds {first} and {db}, whose off-site "
                                         "standbys differ ({other_center}/{other_server} and "
                                         "{want_center}/{want_server}): a standby copies the "
                                         "whole cluster"),
                      N_("name the same off-site standby for every database on the primary"),
                      db_primary=db.primary, first=first.name, db=db.name,
                      other_center=other.center, other_server=other.server,
                      want_center=want.center, want_server=want.server)
        return
    mine = (dc.name, db.primary)
    held = streams.setdefault((far.name, standby.name), mine)
    if held != mine:
        yield problem("XC003", where, N_("{want_center}/{want_server} already streams "
                                         "{held_1}.{held_0}: a standby follows one primary"),
                      N_("give {dc}/{db_primary} another database server of {want_center}"),
                      want_center=want.center, want_server=want.server, held_1=held[1],
                      held_0=held[0], dc=dc.name, db_primary=db.primary)
        return
    primary = topo.index(dc).servers.get(db.primary)
    if primary is None or first is not db:
        return  # REF001's, or judged at the primary's first database
    if any(any(topo.invalid_items.get(c, {}).values()) for c in (dc.name, far.name)):
        return  # a center with schema errors has no policy to judge by yet
    if reachable(topo, far.name, dc.name) is None:
        yield problem("XC003", where, N_("{far} and {dc} are not joined over the business "
                                         "private network"),
                      N_("add the uplinks between them, and their upper ends"),
                      far=far.name, dc=dc.name)
        return
    yield from _admitted("XC003", topo, far, standby, dc, primary, db.port, where,
                         "stream from")
