"""What a template sees: one plain dict per device or server, built from the model.

Templates never walk the topology themselves; everything platform-neutral (addresses
with prefixes, derived routes, the zone policy, hardening values) is computed here
once, so every platform renders the same intent.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pesdc.backbone import center_prefixes, neighbours, offsite_copies
from pesdc.kinds import Feature, Kind, kind_of
from pesdc.model.netparse import _subnet_quad, network
from pesdc.model.schema import (
    DataCenter,
    Device,
    DeviceKind,
    Interface,
    Link,
    Server,
    ServerRole,
    ZoneKind,
)
from pesdc.model.tree import CENTER, DCIndex, Topology
from pesdc.policy import CenterPolicy, PolicyRule, build, device_zones, rules_enforced_by

SWITCHES = (DeviceKind.core_switch, DeviceKind.aggregation_switch, DeviceKind.access_switch)
SECRET_MARKER = "%%PESDC_SECRET:{}%%"


def secret(name: str) -> str:
    """A placeholder the push step replaces from the environment or a secrets file."""
    return SECRET_MARKER.format(name)


def hostname(dc: DataCenter, name: str) -> str:
    """The tree-wide host name of a node: names repeat across centers, this does not."""
    return f"{name}.{dc.name}"


@cache
def _net_facts(cidr: str) -> dict[str, Any]:
    """Facts of a subnet for templates. Cached: a city's private network stands for all
    its sites, so the same subnets recur in every rule (templates never mutate them).
    A canonical IPv4 subnet (netparse's fast path) is written from its integers, as
    ipaddress writes it; anything else through the ipaddress object."""
    quad = _subnet_quad(cidr)
    if quad is not None:
        n, prefix = quad
        host = (1 << (32 - prefix)) - 1
        if not n & host:
            return {"cidr": f"{_quad_text(n)}/{prefix}", "network": _quad_text(n),
                    "prefixlen": prefix, "netmask": _quad_text(0xFFFFFFFF ^ host),
                    "wildcard": _quad_text(host)}
    net = network(cidr)  # parsed when the topology was validated
    return {
        "cidr": str(net),
        "network": str(net.network_address),
        "prefixlen": net.prefixlen,
        "netmask": str(net.netmask),
        "wildcard": str(net.hostmask),
    }


def _quad_text(n: int) -> str:
    """An IPv4 address (an integer) as ipaddress writes it: dotted decimal."""
    return socket.inet_ntoa(n.to_bytes(4, "big"))


@dataclass
class CenterFacts:
    """Per-center facts shared by all its devices and servers (computed once)."""

    topo: Topology
    dc: DataCenter
    idx: DCIndex
    policy: CenterPolicy
    mgmt_nets: list[str]
    log_servers: list[str]
    time_sources: list[str]
    # top-level site (directly linked to the center) -> the router terminating its link
    site_router: dict[str, Device] = field(default_factory=dict)
    # What every server context of the center holds alike (server_context(shared=True)).
    server_facts: dict[str, Any] | None = None

    @classmethod
    def of(cls, topo: Topology, dc: DataCenter) -> CenterFacts:
        idx = topo.index(dc)
        mgmt_zones = {z.name for z in idx.zones_of_kind(ZoneKind.security_management)}
        mgmt_nets = [s.subnet for z in dc.zones if z.name in mgmt_zones for s in z.segments]

        def servers_with(role: ServerRole) -> list[str]:
            return [s.address for s in dc.servers if role in s.roles and s.zone in mgmt_zones]

        facts = cls(topo, dc, idx, build(topo, dc), mgmt_nets,
                    servers_with(ServerRole.logserver), servers_with(ServerRole.timesource))
        router_of = {itf.link: dev for dev in dc.devices for itf in dev.interfaces
                     if itf.link}
        for site, lk in primary_center_links(dc).items():
            if lk.name in router_of:
                facts.site_router[site] = router_of[lk.name]
        return facts

    def subtree_sites(self, top: str) -> list[str]:
        """A top-level site and every site below it (its stations)."""
        out = [top]
        for site in self.dc.sites:
            chain = self.idx.site_path_to_center(site.name)
            if chain and chain[-1] == top and site.name != top:
                out.append(site.name)
        return out

    def transit_address(self, dev: Device) -> str | None:
        for itf in dev.interfaces:
            zone = self.idx.segment_zone.get(itf.segment) if itf.segment else None
            if zone is not None and zone.kind is ZoneKind.private_network and itf.address:
                return itf.address
        return None

    def transit_gateway(self) -> str | None:
        for z in self.idx.zones_of_kind(ZoneKind.private_network):
            for s in z.segments:
                if s.gateway:
                    return s.gateway
        return None


def primary_center_links(dc: DataCenter) -> dict[str, Link]:
    """Each top-level site's primary link to the center: the first in topology order
    that is not a backup (``redundant_with``). Traffic both ways takes it, so routes
    stay symmetric through the stateful firewalls."""
    out: dict[str, Link] = {}
    for lk in sorted(dc.links, key=lambda x: x.redundant_with is not None):
        if CENTER in (lk.a, lk.b):
            out.setdefault(lk.b if lk.a == CENTER else lk.a, lk)
    return out


def _interface(facts: CenterFacts, itf: Interface) -> dict[str, Any]:
    idx = facts.idx
    out: dict[str, Any] = {
        "name": itf.name, "description": itf.description or "", "enabled": itf.enabled,
        "address": itf.address, "segment": itf.segment, "link": itf.link,
        "uplink": itf.uplink, "peer": itf.peer, "zone": None, "zone_kind": None,
        "vlan": None, "vrrp": None, "net": None,
    }
    cidr = None
    if itf.segment and itf.segment in idx.segments:
        seg = idx.segments[itf.segment]
        zone = idx.segment_zone[itf.segment]
        cidr = seg.subnet
        out.update(zone=zone.name, zone_kind=zone.kind.value, vlan=seg.vlan)
        if not out["description"]:
            out["description"] = f"{zone.kind.value} segment {seg.name}"
        if itf.vrrp_group is not None and seg.gateway:
            out["vrrp"] = {"group": itf.vrrp_group, "vip": seg.gateway,
                           "priority": itf.vrrp_priority}
    elif itf.link and itf.link in idx.links:
        lk = idx.links[itf.link]
        cidr = lk.subnet
        if not out["description"]:
            out["description"] = f"municipal link {lk.name} {lk.a}-{lk.b} " \
                                 f"{lk.bandwidth_mbps:g}M"
    elif itf.uplink and itf.uplink in idx.uplinks:
        up = idx.dc.uplinks[[u.name for u in idx.dc.uplinks].index(itf.uplink)]
        cidr = up.subnet
        if not out["description"]:
            out["description"] = f"{up.kind.value} uplink to {up.peer}"
    elif itf.peer and not out["description"]:
        out["description"] = f"to {itf.peer}"
    if cidr:
        out["net"] = _net_facts(cidr)
    return out


def _routes(facts: CenterFacts, dev: Device) -> list[dict[str, Any]]:
    routes: list[tuple[str, str, str]] = []
    idx = facts.idx
    if dev.kind is DeviceKind.router:
        # Sites behind this router's center links, next hop the site's end of the link.
        for itf in dev.interfaces:
            lk = idx.links.get(itf.link) if itf.link else None
            if lk is None or CENTER not in (lk.a, lk.b):
                continue
            site = lk.b if lk.a == CENTER else lk.a
            hop = lk.b_address if lk.a == CENTER else lk.a_address
            if not hop:
                continue
            for name in facts.subtree_sites(site):
                s = idx.sites.get(name)
                if s and s.subnet:
                    routes.append((s.subnet, hop, f"site {name}"))
            for lk2 in facts.dc.links:  # the links below the top-level site
                if lk2 is not lk and lk2.subnet and {lk2.a, lk2.b} & set(
                        facts.subtree_sites(site)):
                    routes.append((lk2.subnet, hop, f"link {lk2.name}"))
        # The center's zones, back through the firewall pair's transit address.
        gw = facts.transit_gateway()
        if gw and facts.transit_address(dev):
            connected = {i.segment for i in dev.interfaces if i.segment}
            for z in facts.dc.zones:
                if z.kind is ZoneKind.private_network:
                    continue
                for seg in z.segments:
                    if seg.name in connected:
                        continue
                    routes.append((seg.subnet, gw, f"{z.kind.value} zone {z.name}"))
    elif dev.kind is DeviceKind.firewall and facts.transit_address(dev):
        for site, router in sorted(facts.site_router.items()):
            hop = facts.transit_address(router)
            if not hop:
                continue
            for name in facts.subtree_sites(site):
                s = idx.sites.get(name)
                if s and s.subnet:
                    routes.append((s.subnet, hop, f"site {name} via {router.name}"))
        # The centers at the far end of the uplinks, through the router that holds
        # each (the routers learn them over OSPF; a firewall has static routes only).
        for nb in neighbours(facts.topo, facts.dc):
            hop = facts.transit_address(nb.device)
            if hop and nb.device.kind is DeviceKind.router:
                for prefix in center_prefixes(facts.topo.datacenters[nb.center]):
                    routes.append((prefix, hop, f"center {nb.center} via {nb.device.name}"))
    derived = len(routes)
    for r in dev.static_routes:
        routes.append((r.prefix, r.next_hop, r.description or "static"))
    seen: set[tuple[str, str]] = set()
    out = []
    for n, (prefix, hop, why) in enumerate(routes):
        if (prefix, hop) in seen:
            continue
        seen.add((prefix, hop))
        # given: the topology's own description, which a template writes as it is or
        # refuses; a derived label is pesdc's own and may be fitted to the platform.
        given = n >= derived and dev.static_routes[n - derived].description is not None
        out.append({**_net_facts(prefix), "next_hop": hop, "description": why,
                    "given": given})
    return out


def _ospf(facts: CenterFacts, dev: Device, interfaces: list[dict[str, Any]]
          ) -> dict[str, Any] | None:
    if dev.ospf is None:
        return None
    nets = []
    for itf in interfaces:
        # OSPF runs toward the business private network (uplinks) and the transit
        # segment; municipal stations are static (they are CPE, not OSPF speakers).
        if itf["net"] and (itf["uplink"] or itf["zone_kind"] == ZoneKind.private_network):
            nets.append({**itf["net"], "interface": itf["name"]})
    if dev.loopback:
        nets.append({**_net_facts(f"{dev.loopback}/32"), "interface": "lo"})
    return {
        "area": dev.ospf.area,
        "router_id": dev.ospf.router_id or dev.loopback or dev.mgmt,
        "networks": nets,
        "fast_timers": dev.ospf.fast_timers,
        "redistribute_static": True,
        "mgmt_nets": _oob_mgmt_nets(facts, dev),
    }


def _oob_mgmt_nets(facts: CenterFacts, dev: Device) -> list[dict[str, Any]]:
    """The management segments a router sits on by its management port. They are
    connected, so no static route toward them through the firewalls is selected and
    none is redistributed: the router announces them itself (the other centers reach
    the management zone through this router, which hands such traffic to the firewalls
    as a management VRF would)."""
    ip = ipaddress.ip_address(dev.mgmt)
    return [_net_facts(n) for n in facts.mgmt_nets if ip in ipaddress.ip_network(n)]


def _rule_ctx(r: PolicyRule, n: int) -> dict[str, Any]:
    return {
        "id": n, "name": r.name, "src_zone": r.src_zone, "dst_zone": r.dst_zone,
        "src_nets": [_net_facts(x) for x in r.src_nets],
        "dst_nets": [_net_facts(x) for x in r.dst_nets],
        "protocol": r.protocol, "ports": list(r.ports), "via": r.via,
        "relays": [{"port": p, "target": t, "target_port": tp} for p, t, tp in r.relays],
        "description": r.description,
    }


def _relays(rules: list[dict[str, Any]], interfaces: list[dict[str, Any]]
            ) -> tuple[list[dict[str, Any]], list[str]]:
    """Gatekeeper relays: the source side connects to the gatekeeper's own address on
    its side, which forwards to one server of the destination system (as a 网闸 proxy).
    Two relays on one port are told apart by their sources; if those overlap too, the
    second could never be reached, which is an error."""
    out: list[dict[str, Any]] = []
    conflicts: list[str] = []
    for r in rules:
        listen = next((i["address"] for i in interfaces
                       if i["zone"] == r["src_zone"] and i["address"]), None)
        if listen is None:
            continue
        src = [n["cidr"] for n in r["src_nets"]]
        for x in r["relays"]:
            for other in out:
                if (other["listen"], other["protocol"], other["port"]) == (
                        listen, r["protocol"], x["port"]) and any(
                        ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b))
                        for a in src for b in other["src"]):
                    conflicts.append(f"flows {other['rule']} and {r['name']} both relay "
                                     f"{r['protocol']}/{x['port']} from the same sources")
            out.append({"listen": listen, "port": x["port"], "target": x["target"],
                        "target_port": x["target_port"], "protocol": r["protocol"],
                        "rule": r["name"], "src": src})
    return out, conflicts


def hardening(facts: CenterFacts) -> dict[str, Any]:
    sec = facts.dc.security
    return {
        "admins": sec.admins.model_dump(),
        "password_min_length": sec.password_min_length,
        "password_max_days": sec.password_max_days,
        "login_fail_attempts": sec.login_fail_attempts,
        "lockout_minutes": sec.lockout_minutes,
        "idle_timeout_minutes": sec.idle_timeout_minutes,
        "log_retention_days": sec.log_retention_days,
        "snmp_user": sec.snmp_user,
        "banner": sec.banner,
        "ssh_sources": [_net_facts(n) for n in facts.mgmt_nets],
        "syslog_servers": facts.log_servers,
        "ntp_servers": facts.time_sources,
    }


def dc_ctx(dc: DataCenter) -> dict[str, Any]:
    return {"name": dc.name, "tier": dc.tier.value, "division_code": dc.division_code,
            "title_zh": dc.title.zh, "title_en": dc.title.en}


def required_features(dev: Device, ctx: dict[str, Any]) -> list[Feature]:
    need = [Feature.mgmt_hardening]
    if ctx["interfaces"]:
        need.append(Feature.interfaces)
    if dev.kind in SWITCHES and ctx["vlans"]:
        need.append(Feature.vlans)
    if ctx["static_routes"]:
        need.append(Feature.static_routes)
    if ctx["ospf"]:
        need.append(Feature.ospf)
    if any(i["vrrp"] for i in ctx["interfaces"]):
        need.append(Feature.vrrp)
    if dev.kind is DeviceKind.firewall:
        need.append(Feature.zone_policy)
    if dev.kind is DeviceKind.gatekeeper:
        need.append(Feature.one_way_policy)
    return need


def _peer(facts: CenterFacts, dev: Device) -> dict[str, Any] | None:
    """The device's redundancy partner as far as a family needs it to pair them (an HA
    heartbeat to the partner's address on a shared segment); None without a partner."""
    other = facts.idx.devices.get(dev.redundancy) if dev.redundancy else None
    if other is None:
        return None
    return {"name": other.name, "hostname": hostname(facts.dc, other.name),
            "mgmt": other.mgmt,
            "interfaces": [{"name": i.name, "address": i.address, "segment": i.segment,
                            "vrrp_group": i.vrrp_group, "vrrp_priority": i.vrrp_priority}
                           for i in other.interfaces]}


def device_context(facts: CenterFacts, dev: Device, kind: Kind | None = None
                   ) -> dict[str, Any]:
    kind = kind or kind_of(dev)
    idx = facts.idx
    interfaces = [_interface(facts, i) for i in dev.interfaces]
    vlans = sorted({(i["vlan"], i["segment"]) for i in interfaces if i["vlan"]})
    zone_names = device_zones(idx, dev)
    zones = []
    for prio, name in enumerate(zone_names):
        z = idx.zones[name]
        zones.append({
            "name": name, "kind": z.kind.value,
            "interfaces": [i["name"] for i in interfaces if i["zone"] == name],
            "nets": [_net_facts(s.subnet) for s in z.segments],
            # Vendor zone priority (USG/Comware): a trust level per zone kind.
            "priority": {"security_management": 90, "production": 85, "decision": 80,
                         "exchange": 60, "private_network": 50, "internet": 5}[z.kind.value]
            - prio % 5,
        })
    rules = [_rule_ctx(r, n) for n, r in
             enumerate(rules_enforced_by(facts.policy, idx, dev), start=1)]
    ctx: dict[str, Any] = {
        "dc": dc_ctx(facts.dc),
        "device": {
            "name": dev.name, "hostname": hostname(facts.dc, dev.name),
            "kind": dev.kind.value, "platform": dev.platform.value, "model": dev.model,
            "family": kind.platform,
            "mgmt": dev.mgmt, "loopback": dev.loopback, "redundancy": dev.redundancy,
            "border": dev.border, "peer": _peer(facts, dev),
        },
        "kind": kind.name,
        "interfaces": interfaces,
        "vlans": [{"id": v, "name": s} for v, s in vlans],
        # Every zone segment's VLAN in the center: what a trunk between switches carries.
        "center_vlans": [{"id": s.vlan, "name": s.name} for s in
                         sorted((s for z in facts.dc.zones for s in z.segments if s.vlan),
                                key=lambda s: s.vlan or 0)],
        "zones": zones,
        "rules": rules,
        "static_routes": _routes(facts, dev),
        "ospf": None,
        "mgmt": hardening(facts),
    }
    ctx["ospf"] = _ospf(facts, dev, interfaces)
    ctx["relays"], ctx["relay_conflicts"] = _relays(rules, interfaces)
    for route in ctx["static_routes"]:
        # The interface the next hop is reached through (Linux needs it for `ip route`).
        hop = ipaddress.ip_address(route["next_hop"])
        route["interface"] = next(
            (i["name"] for i in interfaces
             if i["net"] and hop in network(i["net"]["cidr"])), None)
    if kind.context is not None:  # what only this family derives (HA peers, trunks, ...)
        kind.context(ctx)
    return ctx


def _room_nets(dc: DataCenter) -> list[str]:
    """The subnets of the sites that hold servers of ``dc`` (its agency machine rooms)."""
    held = {s.location for s in dc.servers}
    return sorted({site.subnet for site in dc.sites if site.subnet and site.name in held})


def _center_server_facts(facts: CenterFacts) -> dict[str, Any]:
    """What every server context of the center holds alike."""
    return {
        "dc": dc_ctx(facts.dc),
        "mgmt": hardening(facts),
        "log_clients": sorted({s.subnet for z in facts.dc.zones for s in z.segments}),
        "room_nets": _room_nets(facts.dc),
    }


def server_context(facts: CenterFacts, srv: Server, shared: bool = False
                   ) -> dict[str, Any]:
    """A server's template context. ``shared``: the values every server of the center
    holds alike are the same objects in each context (computed once per center), for a
    caller that only reads them (the renderer); by default each context has its own."""
    idx = facts.idx
    seg = idx.segments.get(srv.segment) if srv.segment else None
    systems = [s for s in facts.dc.systems if srv.name in s.servers]
    if shared:
        if facts.server_facts is None:
            facts.server_facts = _center_server_facts(facts)
        center = facts.server_facts
    else:
        center = _center_server_facts(facts)
    return {
        "dc": center["dc"],
        "server": {
            "name": srv.name, "hostname": hostname(facts.dc, srv.name),
            "roles": [r.value for r in srv.roles], "zone": srv.zone,
            "zone_kind": idx.zones[srv.zone].kind.value if srv.zone in idx.zones else None,
            "address": srv.address, "os": srv.os.value, "os_release": srv.os_release,
            "location": srv.location,
            "net": _net_facts(seg.subnet) if seg else None,
            "gateway": seg.gateway if seg else None,
        },
        "systems": [{"name": s.name, "kind": s.kind.value,
                     "ports": [{"port": p.port, "protocol": p.protocol} for p in s.ports]}
                    for s in systems],
        "mgmt": center["mgmt"],
        "log_clients": center["log_clients"],
        # Agency machine rooms that still hold this center's servers: their hosts log to
        # and take time from the center too (log_clients holds only the zone segments).
        "room_nets": center["room_nets"],
        # The account pyinfra/Ansible log in as (SSH from the management zone only).
        "deploy_user": "pesdc",
        # Another center's backup servers pulling this database host's dumps (off-site
        # backup, 8.1.4.9): the backup account may log in from their addresses too.
        "backup_user": "pesdc-backup",
        "offsite_pullers": sorted({c.backup_address for c in offsite_copies(facts.topo)
                                   if c.db_center == facts.dc.name and c.primary == srv.name}),
        # auditd "-e 2" (rules locked until reboot): level-3 production sets it; the lab
        # must reload rules, so it is off unless a caller turns it on.
        "audit_immutable": False,
    }
