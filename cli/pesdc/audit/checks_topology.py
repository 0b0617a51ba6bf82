"""Audit checks on the topology model (kind: topology)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pesdc.audit.registry import AuditContext, bad, check, na, ok, part
from pesdc.audit.result import Evidence, Outcome
from pesdc.model.schema import (
    DeviceKind,
    Encryption,
    IsolationType,
    ServerRole,
    SiteKind,
    ZoneKind,
)

IMPORTANT = (ZoneKind.production, ZoneKind.decision, ZoneKind.security_management)


def _ev(label: str, text: str) -> Evidence:
    return Evidence(label, text, "topology")


def _iso_text(ctx: AuditContext, a: str, b: str) -> str:
    kind = ctx.policy.isolation(a, b)
    if kind is None:
        return f"{a} <-> {b}: not declared (denied)"
    text = f"{a} <-> {b}: {kind.value}"
    way = ctx.policy.directions.get(frozenset((a, b)))
    if way:
        text += f" ({way[0]} -> {way[1]})"
    rules = ctx.policy.rules_between(a, b) + ctx.policy.rules_between(b, a)
    for r in rules:
        text += f"\n  {r.name}: {r.src_zone} -> {r.dst_zone} {r.protocol} " \
                f"{','.join(map(str, r.ports)) or 'any'}"
    return text


def _zones(ctx: AuditContext, kind: ZoneKind) -> list[str]:
    return [z.name for z in ctx.dc.zones if z.kind is kind]


@check("AUD-CN-01")
def zones_present(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    listing = "\n".join(f"{z.name} ({z.kind.value}): " +
                        ", ".join(f"{s.name} {s.subnet}" for s in z.segments)
                        for z in ctx.dc.zones) or "(no zones)"
    out = []
    for kind in p.get("required_zones", []):
        zs = [z for z in ctx.dc.zones if z.kind.value == kind]
        with_seg = [z for z in zs if z.segments]
        target = f"{ctx.dc.name} zone {kind}"
        if with_seg:
            out.append(ok(target, f"{kind} zone {with_seg[0].name} with "
                          f"{len(with_seg[0].segments)} segment(s)", _ev("zones", listing)))
        elif zs:
            out.append(bad(target, f"{kind} zone {zs[0].name} has no segment (no address "
                           "space of its own)", _ev("zones", listing)))
        else:
            out.append(bad(target, f"no {kind} zone", _ev("zones", listing)))
    return out


@check("AUD-CN-02")
def bandwidth(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    sites = ctx.idx.sites
    for lk in ctx.dc.links:
        need = float(p.get("min_link_mbps", 2))
        site = sites.get(lk.b)
        why = f"at least {need:g} Mbit/s"
        if site is not None and site.kind is SiteKind.agency_machine_room:
            need = max(need, ctx.dc.high_speed_mbps)
            why = f"an agency machine room needs high speed (>= {need:g} Mbit/s)"
        text = f"link {lk.name} {lk.a} - {lk.b}: {lk.bandwidth_mbps:g} Mbit/s"
        out.append((ok if lk.bandwidth_mbps >= need else bad)(
            f"link {lk.name}", f"{lk.bandwidth_mbps:g} Mbit/s; {why}", _ev("link", text)))
    for up in ctx.dc.uplinks:
        need = float(p.get("min_uplink_mbps", 10))
        text = f"uplink {up.name} to {up.peer}: {up.bandwidth_mbps:g} Mbit/s"
        out.append((ok if up.bandwidth_mbps >= need else bad)(
            f"uplink {up.name}", f"{up.bandwidth_mbps:g} Mbit/s; at least {need:g} Mbit/s",
            _ev("uplink", text)))
    return out


@check("AUD-CN-03")
def important_not_at_boundary(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    outside = _zones(ctx, ZoneKind.internet)
    if not outside:
        return [na(ctx.dc.name, "no internet area")]
    for z in ctx.dc.zones:
        if z.kind not in IMPORTANT:
            continue
        problems = []
        texts = []
        for o in outside:
            texts.append(_iso_text(ctx, o, z.name))
            kind = ctx.policy.isolation(o, z.name)
            way = ctx.policy.directions.get(frozenset((o, z.name)))
            if kind is IsolationType.none:
                problems.append(f"{o} <-> {z.name} is not isolated (none)")
            if way == (o, z.name):
                problems.append(f"gatekeeper {o} -> {z.name} points inward")
            for r in ctx.policy.rules_between(o, z.name):
                collector = z.kind is ZoneKind.security_management and all(
                    n.endswith("/32") for n in r.dst_nets)
                if not collector:
                    problems.append(f"flow {r.name} from {o} into {z.name}")
        target = f"zone {z.name}"
        ev = _ev("isolation", "\n".join(texts))
        out.append(bad(target, "; ".join(problems), ev) if problems else
                   ok(target, f"{z.kind.value} zone not reachable from the internet area", ev))
    return out


@check("AUD-CN-04")
def private_network_physical(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    inet, priv = _zones(ctx, ZoneKind.internet), _zones(ctx, ZoneKind.private_network)
    if not inet or not priv:
        return [na(ctx.dc.name, "no internet area or no private network zone")]
    for a in inet:
        for b in priv:
            kind = ctx.policy.isolation(a, b)
            ev = _ev("isolation", _iso_text(ctx, a, b))
            t = f"{a} <-> {b}"
            if kind is IsolationType.physical:
                out.append(ok(t, "physically isolated", ev))
            elif kind is None:
                out.append(part(t, "not declared: denied by the firewall, but not declared "
                                "physical", ev))
            else:
                out.append(bad(t, f"isolation is {kind.value}, not physical", ev))
    return out


@check("AUD-CN-05")
def exchange_gatekeeper(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    ex, prod = _zones(ctx, ZoneKind.exchange), _zones(ctx, ZoneKind.production)
    if not ex or not prod:
        return [na(ctx.dc.name, "no exchange or no production zone")]
    for a in ex:
        for b in prod:
            kind = ctx.policy.isolation(a, b)
            way = ctx.policy.directions.get(frozenset((a, b)))
            ev = _ev("isolation", _iso_text(ctx, a, b))
            t = f"{a} -> {b}"
            if kind is IsolationType.gatekeeper and way == (a, b):
                out.append(ok(t, "one-way gatekeeper exchange -> production", ev))
            elif kind in (IsolationType.physical, None):
                out.append(ok(t, "nothing crosses", ev))
            elif kind is IsolationType.gatekeeper:
                out.append(bad(t, "the gatekeeper points from production to exchange", ev))
            elif kind is IsolationType.firewall:
                out.append(part(t, "a firewall, not a one-way gatekeeper", ev))
            else:
                out.append(bad(t, "not isolated (none)", ev))
    return out


@check("AUD-CN-06")
def device_redundancy(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    devs = ctx.idx.devices
    for dev in ctx.dc.devices:
        if not (dev.kind is DeviceKind.core_switch or
                (dev.kind is DeviceKind.firewall and dev.border)):
            continue
        what = "core switch" if dev.kind is DeviceKind.core_switch else "border firewall"
        partner = devs.get(dev.redundancy) if dev.redundancy else None
        ev = _ev("device", f"{dev.name} kind {dev.kind.value} redundancy {dev.redundancy}")
        if partner is None:
            out.append(bad(dev.name, f"{what} without a redundancy partner", ev))
        elif partner.kind is not dev.kind or partner.redundancy != dev.name:
            out.append(bad(dev.name, f"{what}'s partner {partner.name} is not a mutual "
                           f"{dev.kind.value} partner", ev))
        else:
            out.append(ok(dev.name, f"{what} paired with {partner.name}", ev))
    if not out:
        out.append(bad(ctx.dc.name, "no core switch or border firewall to pair"))
    return out


@check("AUD-CN-07")
def system_redundancy(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    kinds = set(p.get("important_systems", []))
    need = int(p.get("min_system_servers", 2))
    for system in ctx.dc.systems:
        if system.kind.value not in kinds:
            continue
        n = len(system.servers)
        ev = _ev("system", f"{system.name} ({system.kind.value}): {', '.join(system.servers)}")
        out.append((ok if n >= need else bad)(
            f"system {system.name}", f"{n} server(s), at least {need}", ev))
    if ctx.dc.uplinks:
        n = len(ctx.dc.uplinks)
        ev = _ev("uplinks", "\n".join(f"{u.name} -> {u.peer} ({u.kind.value})"
                                       for u in ctx.dc.uplinks))
        out.append(ok(f"{ctx.dc.name} uplinks", f"{n} uplinks", ev) if n >= 2 else
                   part(f"{ctx.dc.name} uplinks", "a single uplink: no redundant line to "
                        "the business private network", ev))
    return out


@check("AUD-CN-08")
def link_encryption(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    for lk in ctx.dc.links:
        ev = _ev("link", f"link {lk.name} {lk.a} - {lk.b}: encryption {lk.encryption.value}")
        out.append(bad(f"link {lk.name}", "not encrypted", ev)
                   if lk.encryption is Encryption.none else
                   ok(f"link {lk.name}", f"encrypted ({lk.encryption.value})", ev))
    for up in ctx.dc.uplinks:
        ev = _ev("uplink", f"uplink {up.name} -> {up.peer}: encryption {up.encryption.value}")
        out.append(bad(f"uplink {up.name}", "not encrypted", ev)
                   if up.encryption is Encryption.none else
                   ok(f"uplink {up.name}", f"encrypted ({up.encryption.value})", ev))
    return out


@check("AUD-CN-09")
def public_tls(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    tls = set(p.get("tls_ports", [443, 8443]))
    out = []
    for system in ctx.dc.systems:
        if not system.public:
            continue
        ports = [s.port for s in system.ports if s.protocol == "tcp"]
        plain = [x for x in ports if x not in tls]
        ev = _ev("system", f"{system.name} public, tcp ports {ports}")
        out.append(bad(f"system {system.name}", f"serves the public on non-TLS port(s) "
                       f"{plain}", ev) if plain or not ports else
                   ok(f"system {system.name}", f"TLS only ({ports})", ev))
    return out


@check("AUD-AB-01")
def boundary_controlled(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    for iso in ctx.dc.isolation:
        if iso.type is IsolationType.none:
            a, b = iso.between
            out.append(bad(f"{a} <-> {b}", "zones not isolated (type none)",
                           _ev("isolation", _iso_text(ctx, a, b))))
    border = [d for d in ctx.dc.devices if d.kind is DeviceKind.firewall and d.border]
    if not border:
        return [*out, bad(ctx.dc.name, "no border firewall holds the zone gateways")]
    covered = {itf.segment for d in border for itf in d.interfaces if itf.segment}
    for z in ctx.dc.zones:
        if not z.segments:
            continue
        missing = [s.name for s in z.segments if s.name not in covered]
        ev = _ev("border firewalls", ", ".join(d.name for d in border) +
                 f"; segments with an interface: {', '.join(sorted(covered))}")
        out.append(bad(f"zone {z.name}", f"segment(s) {', '.join(missing)} not behind the "
                       "border firewalls", ev) if missing else
                   ok(f"zone {z.name}", "every segment's gateway on the border firewalls", ev))
    return out


@check("AUD-AB-02")
def flows_minimal(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    most = int(p.get("max_ports_per_flow", 8))
    for iso in ctx.dc.isolation:
        if not iso.flows:
            continue
        a, b = iso.between
        problems = []
        seen: Counter[tuple[Any, ...]] = Counter()
        for f in iso.flows:
            key = (f.src, f.dst, f.protocol, tuple(sorted(f.ports)), tuple(sorted(
                f.src_systems)), tuple(sorted(f.dst_systems)))
            seen[key] += 1
            if len(f.ports) > most:
                problems.append(f"flow {f.name or f.src + '->' + f.dst} opens {len(f.ports)} "
                                f"ports (more than {most})")
        problems += [f"duplicate flow {k[0]}->{k[1]} {k[2].value} {list(k[3])}"
                     for k, n in seen.items() if n > 1]
        ev = _ev("isolation", _iso_text(ctx, a, b))
        out.append(bad(f"{a} <-> {b}", "; ".join(problems), ev) if problems else
                   ok(f"{a} <-> {b}", f"{len(iso.flows)} specific flow(s)", ev))
    return out


@check("AUD-AB-03")
def flows_name_systems(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    kinds = ctx.zone_kind
    for iso in ctx.dc.isolation:
        for f in iso.flows:
            if kinds.get(f.dst) not in (ZoneKind.production, ZoneKind.decision):
                continue
            if kinds.get(f.src) is ZoneKind.security_management:
                continue  # management reaches every host of a zone by design
            t = f"flow {f.name or f.src + '->' + f.dst}"
            ev = _ev("flow", f"{f.src} -> {f.dst} {f.protocol.value} {f.ports} "
                     f"dst_systems={f.dst_systems}")
            out.append(ok(t, f"to systems {', '.join(f.dst_systems)}", ev) if f.dst_systems
                       else bad(t, f"opens the whole {f.dst} zone", ev))
    return out


def _has_device(ctx: AuditContext, *kinds: DeviceKind) -> list[str]:
    return [d.name for d in ctx.dc.devices if d.kind in kinds]


@check("AUD-AB-04")
def intrusion_prevention(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    devs = _has_device(ctx, DeviceKind.ips, DeviceKind.ids)
    ev = _ev("devices", ", ".join(f"{d.name} ({d.kind.value})" for d in ctx.dc.devices))
    return [ok(ctx.dc.name, f"IDS/IPS: {', '.join(devs)}", ev) if devs else
            bad(ctx.dc.name, "no IDS or IPS device", ev)]


@check("AUD-AB-05")
def antivirus(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    devs = _has_device(ctx, DeviceKind.antivirus)
    srvs = [s.name for s in ctx.dc.servers if ServerRole.antivirus in s.roles]
    ev = _ev("devices and servers", ", ".join(f"{d.name} ({d.kind.value})"
                                              for d in ctx.dc.devices) +
             "; antivirus servers: " + (", ".join(srvs) or "none"))
    return [ok(ctx.dc.name, f"antivirus: {', '.join(devs + srvs)}", ev) if devs or srvs else
            bad(ctx.dc.name, "no antivirus gateway or console", ev)]


@check("AUD-AB-06")
def boundary_audit(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    devs = _has_device(ctx, DeviceKind.log_audit)
    logs = [s.name for s in ctx.servers_with(ServerRole.logserver)]
    ev = _ev("log collection", f"log audit devices: {devs}; log servers: {logs}")
    return [ok(ctx.dc.name, f"audit collection: {', '.join(devs + logs)}", ev)
            if devs or logs else bad(ctx.dc.name, "no log audit device or log server in the "
                                     "security management zone", ev)]


@check("AUD-MC-01")
def management_zone(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    mgmt = _zones(ctx, ZoneKind.security_management)
    if not mgmt:
        return [bad(ctx.dc.name, "no security management zone")]
    out = []
    listing = "\n".join(f"{s.name}: {', '.join(r.value for r in s.roles)} (zone {s.zone})"
                        for s in ctx.dc.servers if s.zone in mgmt) or "(no servers)"
    for role in p.get("required_roles", []):
        have = [s.name for s in ctx.dc.servers if s.zone in mgmt and
                any(r.value == role for r in s.roles)]
        if role == "bastion":
            have += [d.name for d in ctx.dc.devices if d.kind is DeviceKind.bastion]
        t = f"{ctx.dc.name} {role}"
        out.append(ok(t, f"{role}: {', '.join(have)}", _ev("management zone", listing))
                   if have else bad(t, f"no {role} in the security management zone",
                                    _ev("management zone", listing)))
    return out


@check("AUD-MC-02")
def device_mgmt_in_zone(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    from pesdc.audit.registry import in_nets

    nets = ctx.mgmt_nets
    out = []
    for dev in ctx.dc.devices:
        ev = _ev("device", f"{dev.name} mgmt {dev.mgmt}; management nets {nets}")
        out.append(ok(dev.name, f"managed at {dev.mgmt}", ev) if in_nets(dev.mgmt, nets)
                   else bad(dev.name, f"management address {dev.mgmt} outside the security "
                            "management zone", ev))
    return out


@check("AUD-MC-03")
def monitoring(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    mons = [s.name for s in ctx.dc.servers if ServerRole.monitoring in s.roles]
    logs = [s.name for s in ctx.servers_with(ServerRole.logserver)]
    ev = _ev("servers", f"monitoring: {mons}; log servers: {logs}")
    if mons:
        return [ok(ctx.dc.name, f"monitoring: {', '.join(mons)}", ev)]
    if logs:
        return [part(ctx.dc.name, "logs are central, but no monitoring system watches links, "
                     "devices and servers", ev)]
    return [bad(ctx.dc.name, "no monitoring system and no log server", ev)]


@check("AUD-MC-04")
def retention(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    need = int(p.get("log_retention_days", 180))
    have = ctx.dc.security.log_retention_days
    ev = _ev("security", f"log_retention_days: {have}")
    return [(ok if have >= need else bad)(ctx.dc.name, f"{have} days (at least {need})", ev)]


@check("AUD-MC-05")
def three_admins(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    a = ctx.dc.security.admins
    names = [a.system, a.audit, a.security]
    ev = _ev("security.admins", f"system: {a.system}, audit: {a.audit}, security: {a.security}")
    if len(set(names)) < 3:
        return [bad(ctx.dc.name, "the three administrator roles share an account", ev)]
    if {"root", "pesdc", "admin"} & set(names):
        return [bad(ctx.dc.name, "an administrator role uses a shared or default account", ev)]
    return [ok(ctx.dc.name, "three distinct administrator accounts", ev)]


@check("AUD-MC-06")
def logs_and_time_reachable(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    logs = ctx.servers_with(ServerRole.logserver)
    times = ctx.servers_with(ServerRole.timesource)
    out = []
    zones_with_servers = sorted({s.zone for s in ctx.dc.servers
                                 if s.location == "datacenter"})
    for zname in zones_with_servers:
        if ctx.zone_kind.get(zname) is ZoneKind.security_management:
            continue
        missing = []
        for what, servers, proto, port in (("log server", logs, "tcp", 514),
                                           ("time source", times, "udp", 123)):
            reach = [s for s in servers if ctx.policy.allows(zname, s.zone, proto, port,
                                                             dst_addr=s.address)]
            if not reach:
                udp_only = proto == "tcp" and any(ctx.policy.allows(
                    zname, s.zone, "udp", port, dst_addr=s.address) for s in servers)
                missing.append(f"{what} ({proto}/{port}" + (
                    "; the policy allows only udp, hosts forward over tcp" if udp_only
                    else "") + ")")
        ev = _ev("policy", "\n".join(_iso_text(ctx, zname, z) for z in
                                     {s.zone for s in logs + times}) or "no collectors")
        t = f"zone {zname}"
        out.append(bad(t, f"cannot reach the {', '.join(missing)}", ev) if missing else
                   ok(t, "may reach the log server and the time source", ev))
    return out


@check("AUD-CE-20")
def db_standby(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    for db in ctx.dc.databases:
        ev = _ev("database", f"{db.name}: primary {db.primary}, standby {db.standby}")
        t = f"database {db.name}"
        out.append(ok(t, f"standby {db.standby}", ev) if db.standby and
                   db.standby != db.primary else bad(t, "no hot standby on another server", ev))
    return out


@check("AUD-CE-21")
def db_backup(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    srv = ctx.idx.servers
    for db in ctx.dc.databases:
        t = f"database {db.name}"
        ev = _ev("database", f"{db.name}: backup_target {db.backup_target}")
        tgt = srv.get(db.backup_target) if db.backup_target else None
        if tgt is None:
            out.append(bad(t, "no backup target", ev))
        elif ServerRole.backup not in tgt.roles:
            out.append(part(t, f"backup target {tgt.name} has no backup role", ev))
        else:
            out.append(ok(t, f"backed up to {tgt.name}", ev))
    return out


@check("AUD-CE-22")
def offsite_backup(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    srv = ctx.idx.servers
    for db in ctx.dc.databases:
        t = f"database {db.name}"
        tgt = srv.get(db.backup_target) if db.backup_target else None
        ev = _ev("backup", f"{db.name}: backup_target {db.backup_target} location "
                 f"{tgt.location if tgt else '-'}; uplinks: "
                 f"{', '.join(u.peer for u in ctx.dc.uplinks) or 'none'}")
        if tgt is None:
            out.append(bad(t, "no backup at all", ev))
        elif tgt.location != "datacenter":
            out.append(ok(t, f"backup kept off site at {tgt.location}", ev))
        elif ctx.dc.uplinks:
            out.append(part(t, "backups stay in the center; an uplink could carry an off-site "
                            "copy but none is declared", ev))
        else:
            out.append(bad(t, "backups stay in the center's machine room", ev))
    return out


@check("AUD-CE-23")
def personal_data_zone(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    kinds = set(p.get("personal_data_systems", []))
    srv = ctx.idx.servers
    out = []
    for system in ctx.dc.systems:
        if system.kind.value not in kinds:
            continue
        names = list(system.servers)
        for db in ctx.dc.databases:
            if db.name == system.database:
                names += [n for n in (db.primary, db.standby) if n]
        exposed = [n for n in names if n in srv and ctx.zone_kind.get(srv[n].zone) in
                   (ZoneKind.internet, ZoneKind.exchange)]
        ev = _ev("system", "\n".join(f"{n}: zone {srv[n].zone}" for n in names if n in srv))
        t = f"system {system.name}"
        out.append(bad(t, f"personal data on {', '.join(exposed)} outside production", ev)
                   if exposed else ok(t, "personal data kept in protected zones", ev))
    return out
