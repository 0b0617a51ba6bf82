"""Audit checks on the topology model (kind: topology)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pesdc import norms
from pesdc.audit.registry import AuditContext, bad, check, na, ok, part
from pesdc.audit.result import Evidence, Msg, Outcome, zh_list
from pesdc.model.schema import (
    DeviceKind,
    Encryption,
    IsolationType,
    ServerRole,
    SiteKind,
    ZoneKind,
)
from pesdc.norms import Exposure, Opening, Pairing

# zone kinds, isolation types and server roles as the assessor names them (the catalog's
# wording); the English keeps the topology's own value
ZONE_ZH = {"production": "生产区", "exchange": "交换区", "decision": "决策区",
           "security_management": "安全管理区", "internet": "互联网区",
           "private_network": "业务专网接入区"}
ISO_ZH = {"physical": "物理隔离", "gatekeeper": "网闸", "firewall": "防火墙",
          "none": "不隔离"}
ROLE_ZH = {"bastion": "堡垒机", "logserver": "日志服务器", "timesource": "时间源",
           "monitoring": "监控系统", "backup": "备份服务器", "antivirus": "防病毒服务器",
           "database": "数据库服务器", "appserver": "应用服务器", "web": "Web 服务器"}


def _zone_zh(kind: str) -> str:
    return ZONE_ZH.get(kind, f"{kind} 区域")


def _t(en: str, zh: str, name: str) -> Msg:
    """A target named by a word and an identifier: ``zone mgmt`` / ``区域 mgmt``."""
    return Msg(f"{en} {name}", f"{zh} {name}")


def _ev(label: str, text: str | Msg) -> Evidence:
    if isinstance(text, Msg):
        return Evidence(label, text.en, "topology", text.zh if text.zh != text.en else "")
    return Evidence(label, text, "topology")


def _iso_text(ctx: AuditContext, a: str, b: str) -> Msg:
    kind = ctx.policy.isolation(a, b)
    if kind is None:
        return Msg(f"{a} <-> {b}: not declared (denied)", f"{a} <-> {b}：未声明（默认拒绝）")
    en = f"{a} <-> {b}: {kind.value}"
    zh = f"{a} <-> {b}：{kind.value}（{ISO_ZH.get(kind.value, kind.value)}）"
    way = ctx.policy.directions.get(frozenset((a, b)))
    if way:
        en += f" ({way[0]} -> {way[1]})"
        zh += f"，单向 {way[0]} -> {way[1]}"
    rules = ctx.policy.rules_between(a, b) + ctx.policy.rules_between(b, a)
    for r in rules:
        line = f"\n  {r.name}: {r.src_zone} -> {r.dst_zone} {r.protocol} " \
               f"{','.join(map(str, r.ports)) or 'any'}"
        en += line
        zh += line
    return Msg(en, zh)


def _zones(ctx: AuditContext, kind: ZoneKind) -> list[str]:
    return [z.name for z in ctx.dc.zones if z.kind is kind]


@check("AUD-CN-01")
def zones_present(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    listing = "\n".join(f"{z.name} ({z.kind.value}): " +
                        ", ".join(f"{s.name} {s.subnet}" for s in z.segments)
                        for z in ctx.dc.zones)
    zones = Msg(listing or "(no zones)", listing or "（未划分区域）")
    out = []
    for kind in p.get("required_zones", []):
        zs = [z for z in ctx.dc.zones if z.kind.value == kind]
        with_seg = [z for z in zs if z.segments]
        zh = _zone_zh(kind)
        target = Msg(f"{ctx.dc.name} zone {kind}", f"{ctx.dc.name} {zh}")
        if with_seg:
            n = len(with_seg[0].segments)
            out.append(ok(target, Msg(f"{kind} zone {with_seg[0].name} with {n} segment(s)",
                                      f"已划分{zh} {with_seg[0].name}，含 {n} 个网段"),
                          _ev("zones", zones)))
        elif zs:
            out.append(bad(target, Msg(f"{kind} zone {zs[0].name} has no segment (no address "
                                       "space of its own)",
                                       f"{zh} {zs[0].name} 未配置网段（无独立地址段）"),
                           _ev("zones", zones)))
        else:
            out.append(bad(target, Msg(f"no {kind} zone", f"未划分{zh}"), _ev("zones", zones)))
    return out


@check("AUD-CN-02")
def bandwidth(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    sites = ctx.idx.sites
    for lk in ctx.dc.links:
        need = float(p.get("min_link_mbps", 2))
        site = sites.get(lk.b)
        why = Msg(f"at least {need:g} Mbit/s", f"要求不低于 {need:g} Mbit/s")
        if site is not None and site.kind is SiteKind.agency_machine_room:
            need = max(need, ctx.dc.high_speed_mbps)
            why = Msg(f"an agency machine room needs high speed (>= {need:g} Mbit/s)",
                      f"服务机构机房须高速接入（不低于 {need:g} Mbit/s）")
        bw = f"{lk.bandwidth_mbps:g} Mbit/s"
        text = Msg(f"link {lk.name} {lk.a} - {lk.b}: {bw}",
                   f"链路 {lk.name} {lk.a} - {lk.b}：{bw}")
        out.append((ok if lk.bandwidth_mbps >= need else bad)(
            _t("link", "链路", lk.name), Msg(f"{bw}; ", f"带宽 {bw}；") + why,
            _ev("link", text)))
    for up in ctx.dc.uplinks:
        need = float(p.get("min_uplink_mbps", 10))
        bw = f"{up.bandwidth_mbps:g} Mbit/s"
        text = Msg(f"uplink {up.name} to {up.peer}: {bw}", f"上联 {up.name} 至 {up.peer}：{bw}")
        out.append((ok if up.bandwidth_mbps >= need else bad)(
            _t("uplink", "上联链路", up.name),
            Msg(f"{bw}; at least {need:g} Mbit/s", f"带宽 {bw}；要求不低于 {need:g} Mbit/s"),
            _ev("uplink", text)))
    return out


def _exposure(exp: Exposure) -> Msg:
    o, z = exp.outside, exp.inside
    if exp.how is Opening.not_isolated:
        return Msg(f"{o} <-> {z} is not isolated (none)", f"{o} <-> {z} 之间未隔离（none）")
    if exp.how is Opening.inward:
        return Msg(f"gatekeeper {o} -> {z} points inward",
                   f"网闸 {o} -> {z} 的摆渡方向指向内部区域")
    f = exp.isolation.flows[exp.flow or 0]
    name = f.name or f.src + "->" + f.dst
    return Msg(f"flow {name} from {o} into {z}", f"策略 {name} 允许 {o} 访问 {z}")


@check("AUD-CN-03")
def important_not_at_boundary(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    """The judgement is :func:`pesdc.norms.exposures`, validation's MLPS003 as well."""
    out = []
    outside = _zones(ctx, ZoneKind.internet)
    if not outside:
        return [na(ctx.dc.name, Msg("no internet area", "未划分互联网区"))]
    found = list(norms.exposures(ctx.dc))
    for z in ctx.dc.zones:
        if z.kind not in norms.IMPORTANT_ZONES:
            continue
        problems = [_exposure(e) for o in outside for e in found
                    if (e.outside, e.inside) == (o, z.name)]
        texts = [_iso_text(ctx, o, z.name) for o in outside]
        target = _t("zone", "区域", z.name)
        ev = _ev("isolation", Msg.join(texts, "\n", "\n"))
        out.append(bad(target, Msg.join(problems), ev) if problems else
                   ok(target, Msg(f"{z.kind.value} zone not reachable from the internet area",
                                  f"{_zone_zh(z.kind.value)}不可从互联网区访问"), ev))
    return out


@check("AUD-CN-04")
def private_network_physical(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    inet, priv = _zones(ctx, ZoneKind.internet), _zones(ctx, ZoneKind.private_network)
    if not inet or not priv:
        return [na(ctx.dc.name, Msg("no internet area or no private network zone",
                                    "未划分互联网区或业务专网接入区"))]
    for a in inet:
        for b in priv:
            kind = ctx.policy.isolation(a, b)
            ev = _ev("isolation", _iso_text(ctx, a, b))
            t = f"{a} <-> {b}"
            if kind is IsolationType.physical:
                out.append(ok(t, Msg("physically isolated", "已物理隔离"), ev))
            elif kind is None:
                out.append(part(t, Msg("not declared: denied by the firewall, but not declared "
                                       "physical", "未声明隔离方式：防火墙默认拒绝，但未声明为"
                                       "物理隔离（physical）"), ev))
            else:
                out.append(bad(t, Msg(f"isolation is {kind.value}, not physical",
                                      f"隔离方式为 {kind.value}（{ISO_ZH[kind.value]}），"
                                      "而非物理隔离"), ev))
    return out


@check("AUD-CN-05")
def exchange_gatekeeper(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    ex, prod = _zones(ctx, ZoneKind.exchange), _zones(ctx, ZoneKind.production)
    if not ex or not prod:
        return [na(ctx.dc.name, Msg("no exchange or no production zone",
                                    "未划分交换区或生产区"))]
    for a in ex:
        for b in prod:
            kind = ctx.policy.isolation(a, b)
            way = ctx.policy.directions.get(frozenset((a, b)))
            ev = _ev("isolation", _iso_text(ctx, a, b))
            t = f"{a} -> {b}"
            if kind is IsolationType.gatekeeper and way == (a, b):
                out.append(ok(t, Msg("one-way gatekeeper exchange -> production",
                                     "交换区经单向网闸摆渡至生产区"), ev))
            elif kind in (IsolationType.physical, None):
                out.append(ok(t, Msg("nothing crosses", "两区之间无任何流量穿越"), ev))
            elif kind is IsolationType.gatekeeper:
                out.append(bad(t, Msg("the gatekeeper points from production to exchange",
                                      "网闸摆渡方向为生产区至交换区，方向错误"), ev))
            elif kind is IsolationType.firewall:
                out.append(part(t, Msg("a firewall, not a one-way gatekeeper",
                                       "以防火墙隔离，而非单向网闸"), ev))
            else:
                out.append(bad(t, Msg("not isolated (none)", "未隔离（none）"), ev))
    return out


@check("AUD-CN-06")
def device_redundancy(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    devs = ctx.idx.devices
    for dev in ctx.dc.devices:
        if not norms.needs_partner(dev):
            continue
        what = Msg("core switch", "核心交换机") if dev.kind is DeviceKind.core_switch \
            else Msg("border firewall", "边界防火墙")
        pairing = norms.pairing(dev, devs)
        ev = _ev("device", f"{dev.name} kind {dev.kind.value} redundancy {dev.redundancy}")
        if pairing in (Pairing.none, Pairing.unknown):
            out.append(bad(dev.name, what + Msg(" without a redundancy partner",
                                                "未配置冗余（主备）设备"), ev))
        elif pairing is not Pairing.mutual:
            out.append(bad(dev.name, what + Msg(
                f"'s partner {dev.redundancy} is not a mutual {dev.kind.value} partner",
                f"的冗余设备 {dev.redundancy} 不是与其互为主备的同类设备（{dev.kind.value}）"),
                ev))
        else:
            out.append(ok(dev.name, what + Msg(f" paired with {dev.redundancy}",
                                               f"与 {dev.redundancy} 互为主备"), ev))
    if not out:
        out.append(bad(ctx.dc.name, Msg("no core switch or border firewall to pair",
                                        "未部署核心交换机或边界防火墙，无从实现设备冗余")))
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
            _t("system", "系统", system.name),
            Msg(f"{n} server(s), at least {need}", f"部署 {n} 台服务器，要求至少 {need} 台"),
            ev))
    if ctx.dc.uplinks:
        n = len(ctx.dc.uplinks)
        ev = _ev("uplinks", "\n".join(f"{u.name} -> {u.peer} ({u.kind.value})"
                                       for u in ctx.dc.uplinks))
        t = Msg(f"{ctx.dc.name} uplinks", f"{ctx.dc.name} 上联链路")
        out.append(ok(t, Msg(f"{n} uplinks", f"{n} 条上联链路，线路冗余"), ev) if n >= 2 else
                   part(t, Msg("a single uplink: no redundant line to the business private "
                               "network", "仅一条上联链路：至业务专网无冗余线路"), ev))
    return out


@check("AUD-CN-08")
def link_encryption(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    plain = Msg("not encrypted", "未加密传输")
    # municipal links and private-network uplinks are judged alike
    lines = [("link", "链路", lk.name, f"{lk.a} - {lk.b}", lk.encryption)
             for lk in ctx.dc.links]
    lines += [("uplink", "上联链路", up.name, f"-> {up.peer}", up.encryption)
              for up in ctx.dc.uplinks]
    for kind, kind_zh, name, ends, encryption in lines:
        enc = encryption.value
        label_zh = "链路" if kind == "link" else "上联"
        ev = _ev(kind, Msg(f"{kind} {name} {ends}: encryption {enc}",
                           f"{label_zh} {name} {ends}：encryption {enc}"))
        t = _t(kind, kind_zh, name)
        out.append(bad(t, plain, ev) if encryption is Encryption.none else
                   ok(t, Msg(f"encrypted ({enc})", f"已加密（{enc}）"), ev))
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
        ev = _ev("system", Msg(f"{system.name} public, tcp ports {ports}",
                               f"{system.name} 面向公众（public），tcp 端口 {ports}"))
        t = _t("system", "系统", system.name)
        out.append(bad(t, Msg(f"serves the public on non-TLS port(s) {plain}",
                              f"经非 TLS 端口 {plain} 面向公众提供服务"), ev)
                   if plain or not ports else
                   ok(t, Msg(f"TLS only ({ports})", f"仅经 TLS 提供服务（{ports}）"), ev))
    return out


@check("AUD-AB-01")
def boundary_controlled(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    for iso in ctx.dc.isolation:
        if iso.type is IsolationType.none:
            a, b = iso.between
            out.append(bad(f"{a} <-> {b}", Msg("zones not isolated (type none)",
                                               "区域之间未隔离（type none）"),
                           _ev("isolation", _iso_text(ctx, a, b))))
    border = [d for d in ctx.dc.devices if d.kind is DeviceKind.firewall and d.border]
    if not border:
        return [*out, bad(ctx.dc.name, Msg("no border firewall holds the zone gateways",
                                           "无承载各区域网关的边界防火墙"))]
    covered = {itf.segment for d in border for itf in d.interfaces if itf.segment}
    names = ", ".join(d.name for d in border)
    segs = ", ".join(sorted(covered))
    ev = _ev("border firewalls", Msg(f"{names}; segments with an interface: {segs}",
                                     f"{names}；设有接口的网段：{segs}"))
    for z in ctx.dc.zones:
        if not z.segments:
            continue
        missing = [s.name for s in z.segments if s.name not in covered]
        t = _t("zone", "区域", z.name)
        out.append(bad(t, Msg(f"segment(s) {', '.join(missing)} not behind the border "
                              "firewalls", f"网段 {zh_list(missing)} 未置于边界防火墙之后"),
                       ev) if missing else
                   ok(t, Msg("every segment's gateway on the border firewalls",
                             "各网段的网关均设在边界防火墙上"), ev))
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
                name = f.name or f.src + "->" + f.dst
                problems.append(Msg(f"flow {name} opens {len(f.ports)} ports (more than {most})",
                                    f"策略 {name} 开放 {len(f.ports)} 个端口（超过 {most} 个）"))
        for k, n in seen.items():
            if n > 1:
                what = f"{k[0]}->{k[1]} {k[2].value} {list(k[3])}"
                problems.append(Msg(f"duplicate flow {what}", f"重复策略 {what}"))
        ev = _ev("isolation", _iso_text(ctx, a, b))
        out.append(bad(f"{a} <-> {b}", Msg.join(problems), ev) if problems else
                   ok(f"{a} <-> {b}", Msg(f"{len(iso.flows)} specific flow(s)",
                                          f"{len(iso.flows)} 条具体策略"), ev))
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
            t = _t("flow", "策略", f.name or f.src + "->" + f.dst)
            ev = _ev("flow", f"{f.src} -> {f.dst} {f.protocol.value} {f.ports} "
                     f"dst_systems={f.dst_systems}")
            out.append(ok(t, Msg(f"to systems {', '.join(f.dst_systems)}",
                                 f"目标限定为系统 {zh_list(f.dst_systems)}"), ev)
                       if f.dst_systems else
                       bad(t, Msg(f"opens the whole {f.dst} zone",
                                  f"向整个 {f.dst} 区域开放"), ev))
    return out


def _has_device(ctx: AuditContext, *kinds: DeviceKind) -> list[str]:
    return [d.name for d in ctx.dc.devices if d.kind in kinds]


@check("AUD-AB-04")
def intrusion_prevention(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    devs = _has_device(ctx, DeviceKind.ips, DeviceKind.ids)
    ev = _ev("devices", ", ".join(f"{d.name} ({d.kind.value})" for d in ctx.dc.devices))
    return [ok(ctx.dc.name, Msg(f"IDS/IPS: {', '.join(devs)}",
                                f"已部署入侵检测/防御设备：{zh_list(devs)}"), ev) if devs else
            bad(ctx.dc.name, Msg("no IDS or IPS device",
                                 "未部署入侵检测（IDS）或入侵防御（IPS）设备"), ev)]


@check("AUD-AB-05")
def antivirus(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    devs = _has_device(ctx, DeviceKind.antivirus)
    srvs = [s.name for s in ctx.dc.servers if ServerRole.antivirus in s.roles]
    listing = ", ".join(f"{d.name} ({d.kind.value})" for d in ctx.dc.devices)
    ev = _ev("devices and servers", Msg(
        f"{listing}; antivirus servers: {', '.join(srvs) or 'none'}",
        f"{listing}；防病毒服务器：{', '.join(srvs) or '无'}"))
    return [ok(ctx.dc.name, Msg(f"antivirus: {', '.join(devs + srvs)}",
                                f"已部署恶意代码防护：{zh_list(devs + srvs)}"), ev)
            if devs or srvs else
            bad(ctx.dc.name, Msg("no antivirus gateway or console",
                                 "未部署防病毒网关或防病毒管理端"), ev)]


@check("AUD-AB-06")
def boundary_audit(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    devs = _has_device(ctx, DeviceKind.log_audit)
    logs = [s.name for s in ctx.servers_with(ServerRole.logserver)]
    ev = _ev("log collection", Msg(f"log audit devices: {devs}; log servers: {logs}",
                                   f"日志审计设备：{devs}；日志服务器：{logs}"))
    return [ok(ctx.dc.name, Msg(f"audit collection: {', '.join(devs + logs)}",
                                f"审计记录集中收集于 {zh_list(devs + logs)}"), ev)
            if devs or logs else
            bad(ctx.dc.name, Msg("no log audit device or log server in the security "
                                 "management zone", "安全管理区内无日志审计设备或日志服务器"),
                ev)]


@check("AUD-MC-01")
def management_zone(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    mgmt = [z.name for z in norms.management_zones(ctx.dc)]
    if not mgmt:
        return [bad(ctx.dc.name, Msg("no security management zone", "未划分安全管理区"))]
    out = []
    lines = "\n".join(f"{s.name}: {', '.join(r.value for r in s.roles)} (zone {s.zone})"
                      for s in ctx.dc.servers if s.zone in mgmt)
    listing = Msg(lines or "(no servers)", lines or "（无服务器）")
    for role in p.get("required_roles", []):
        have = norms.managers(ctx.dc, ServerRole(role))
        zh = ROLE_ZH.get(role, f"{role} 角色服务器")
        t = Msg(f"{ctx.dc.name} {role}", f"{ctx.dc.name} {zh}")
        out.append(ok(t, Msg(f"{role}: {', '.join(have)}", f"{zh}：{zh_list(have)}"),
                      _ev("management zone", listing))
                   if have else bad(t, Msg(f"no {role} in the security management zone",
                                           f"安全管理区内未部署{zh}"),
                                    _ev("management zone", listing)))
    return out


@check("AUD-MC-02")
def device_mgmt_in_zone(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    from pesdc.audit.registry import in_nets

    nets = ctx.mgmt_nets
    out = []
    for dev in ctx.dc.devices:
        ev = _ev("device", Msg(f"{dev.name} mgmt {dev.mgmt}; management nets {nets}",
                               f"{dev.name} mgmt {dev.mgmt}；安全管理区网段 {nets}"))
        out.append(ok(dev.name, Msg(f"managed at {dev.mgmt}",
                                    f"管理地址 {dev.mgmt} 位于安全管理区"), ev)
                   if in_nets(dev.mgmt, nets) else
                   bad(dev.name, Msg(f"management address {dev.mgmt} outside the security "
                                     "management zone", f"管理地址 {dev.mgmt} 不在安全管理区内"),
                       ev))
    return out


@check("AUD-MC-03")
def monitoring(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    mons = [s.name for s in ctx.dc.servers if ServerRole.monitoring in s.roles]
    logs = [s.name for s in ctx.servers_with(ServerRole.logserver)]
    ev = _ev("servers", Msg(f"monitoring: {mons}; log servers: {logs}",
                            f"监控系统：{mons}；日志服务器：{logs}"))
    if mons:
        return [ok(ctx.dc.name, Msg(f"monitoring: {', '.join(mons)}",
                                    f"已部署集中监控：{zh_list(mons)}"), ev)]
    if logs:
        return [part(ctx.dc.name, Msg("logs are central, but no monitoring system watches "
                                      "links, devices and servers",
                                      "日志已集中收集，但无监控系统对链路、设备和服务器的运行状况"
                                      "进行集中监测"), ev)]
    return [bad(ctx.dc.name, Msg("no monitoring system and no log server",
                                 "既无监控系统，也无日志服务器"), ev)]


@check("AUD-MC-04")
def retention(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    need = int(p.get("log_retention_days", 180))
    have = ctx.dc.security.log_retention_days
    ev = _ev("security", f"log_retention_days: {have}")
    return [(ok if have >= need else bad)(ctx.dc.name, Msg(
        f"{have} days (at least {need})", f"日志保存 {have} 天（要求不少于 {need} 天）"), ev)]


@check("AUD-MC-05")
def three_admins(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    a = ctx.dc.security.admins
    names = [a.system, a.audit, a.security]
    ev = _ev("security.admins", f"system: {a.system}, audit: {a.audit}, security: {a.security}")
    if len(set(names)) < 3:
        return [bad(ctx.dc.name, Msg("the three administrator roles share an account",
                                     "系统管理员、审计管理员、安全管理员共用账户，未实现三权分立"),
                    ev)]
    if {"root", "pesdc", "admin"} & set(names):
        return [bad(ctx.dc.name, Msg("an administrator role uses a shared or default account",
                                     "有管理员角色使用共享账户或默认账户"), ev)]
    return [ok(ctx.dc.name, Msg("three distinct administrator accounts",
                                "系统管理员、审计管理员、安全管理员使用三个互不相同的账户"), ev)]


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
        for what, servers, proto, port in (
                (Msg("log server", "日志服务器"), logs, "tcp", 514),
                (Msg("time source", "时间源"), times, "udp", 123)):
            reach = [s for s in servers if ctx.policy.allows(zname, s.zone, proto, port,
                                                             dst_addr=s.address)]
            if not reach:
                udp_only = proto == "tcp" and any(ctx.policy.allows(
                    zname, s.zone, "udp", port, dst_addr=s.address) for s in servers)
                why = Msg("; the policy allows only udp, hosts forward over tcp",
                          "；策略仅放行 udp，而主机经 tcp 转发") if udp_only else Msg("", "")
                missing.append(what + Msg(f" ({proto}/{port}", f"（{proto}/{port}") + why
                               + Msg(")", "）"))
        collectors = sorted({s.zone for s in logs + times})
        ev = _ev("policy", Msg.join([_iso_text(ctx, zname, z) for z in collectors], "\n", "\n")
                 if collectors else Msg("no collectors", "（无日志服务器或时间源）"))
        t = _t("zone", "区域", zname)
        out.append(bad(t, Msg("cannot reach the ", "无法访问") + Msg.join(missing, ", ", "、"),
                       ev) if missing else
                   ok(t, Msg("may reach the log server and the time source",
                             "可访问日志服务器和时间源"), ev))
    return out


@check("AUD-CE-20")
def db_standby(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    for db in ctx.dc.databases:
        ev = _ev("database", f"{db.name}: primary {db.primary}, standby {db.standby}")
        t = _t("database", "数据库", db.name)
        out.append(ok(t, Msg(f"standby {db.standby}", f"热备库位于 {db.standby}（主备）"), ev)
                   if norms.has_standby(db) else
                   bad(t, Msg("no hot standby on another server", "未在另一台服务器上部署热备库"),
                       ev))
    return out


@check("AUD-CE-21")
def db_backup(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    srv = ctx.idx.servers
    for db in ctx.dc.databases:
        t = _t("database", "数据库", db.name)
        ev = _ev("database", f"{db.name}: backup_target {db.backup_target}")
        tgt = srv.get(db.backup_target) if db.backup_target else None
        if tgt is None:
            out.append(bad(t, Msg("no backup target", "未配置备份目标（backup_target）"), ev))
        elif ServerRole.backup not in tgt.roles:
            out.append(part(t, Msg(f"backup target {tgt.name} has no backup role",
                                   f"备份目标 {tgt.name} 未承担 backup（备份）角色"), ev))
        else:
            out.append(ok(t, Msg(f"backed up to {tgt.name}", f"备份至 {tgt.name}"), ev))
    return out


@check("AUD-CE-22")
def offsite_backup(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    """8.1.4.9 b asks for a real-time copy off site: a standby in another center that
    streams the primary passes; dumps pulled off site (daily) are a copy off site but
    not in real time, partial; nothing off site fails."""
    from pesdc.backbone import offsite_replicas

    me = ctx.dc.name
    copies = {c.database: c for c in ctx.offsite_backups() if c.db_center == me}
    streams = {d: s for s in offsite_replicas(ctx.topo) if s.db_center == me
               for d in s.databases}
    out = []
    srv = ctx.idx.servers
    for db in ctx.dc.databases:
        t = _t("database", "数据库", db.name)
        tgt = srv.get(db.backup_target) if db.backup_target else None
        far, live = copies.get(db.name), streams.get(db.name)
        head = f"{db.name}: backup_target {db.backup_target} location " \
               f"{tgt.location if tgt else '-'}"
        if live is not None:
            head += f"; offsite_standby {live.standby_center}/{live.standby_server} " \
                    f"({live.standby_address}) streams {live.primary}, over " \
                    f"{' -> '.join(live.path)}"
        elif db.offsite_standby is not None:
            head += f"; offsite_standby {db.offsite_standby.center}/" \
                    f"{db.offsite_standby.server} (does not resolve: XC003)"
        if far is not None:
            head += f"; offsite_backup {far.backup_center}/{far.backup_server} " \
                    f"({far.backup_address}), over {' -> '.join(far.path)}"
        elif db.offsite_backup is not None:
            head += f"; offsite_backup {db.offsite_backup.center}/" \
                    f"{db.offsite_backup.server} (does not resolve: XC002)"
        ev = _ev("backup", head)
        if live is not None:
            out.append(ok(t, Msg(f"streamed in real time to {live.standby_center}/"
                                 f"{live.standby_server} over the business private network",
                                 f"经业务专网实时备份至 {live.standby_center}/"
                                 f"{live.standby_server}（异地备库）"), ev))
        elif db.offsite_standby is not None or (db.offsite_backup is not None and far is None):
            what = "XC003" if db.offsite_standby is not None else "XC002"
            out.append(bad(t, Msg(f"the declared off-site copy does not resolve (see "
                                  f"pesdc validate, {what})",
                                  f"声明的异地备份无法成立（见 pesdc validate，{what}）"), ev))
        elif far is not None:
            out.append(part(t, Msg(f"dumps copied off site to {far.backup_center}/"
                                   f"{far.backup_server}, but not in real time (no off-site "
                                   "standby)",
                                   f"备份异地保存于 {far.backup_center}/{far.backup_server}，"
                                   "但非实时（无异地备库）"), ev))
        elif tgt is not None and tgt.location != "datacenter":
            out.append(part(t, Msg(f"backup kept off site at {tgt.location}, but not in "
                                   "real time", f"备份异地保存于 {tgt.location}，但非实时"),
                            ev))
        else:
            out.append(bad(t, Msg("no off-site copy: backups stay in the center",
                                  "无异地备份：备份仅保存在本中心"), ev))
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
        t = _t("system", "系统", system.name)
        out.append(bad(t, Msg(f"personal data on {', '.join(exposed)} outside production",
                              f"个人信息存放在生产区以外的 {zh_list(exposed)} 上"), ev)
                   if exposed else
                   ok(t, Msg("personal data kept in protected zones",
                             "个人信息存放在受保护区域内"), ev))
    return out
