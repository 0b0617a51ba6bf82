"""Draw one data center like the source's figures: zones, isolation, devices, municipal net.

``center_graph(topology, dc_name, lang)`` returns a ``graphviz.Digraph``; the caller
renders it (``pesdc graph`` picks svg/png/dot by the output suffix). This module does
not import click. ``isolation_cell`` is shared with ``pesdc show``.
"""

from __future__ import annotations

import html
import ipaddress
import itertools
from contextvars import ContextVar
from dataclasses import dataclass

import graphviz

from pesdc.i18n import both, label
from pesdc.model.schema import (
    DataCenter,
    Device,
    DeviceKind,
    Encryption,
    Isolation,
    IsolationType,
    Link,
    Site,
    SiteKind,
    System,
    Zone,
)
from pesdc.model.tree import CENTER, DCIndex, Topology

# A CJK-capable font (Debian fonts-noto-cjk); fontconfig falls back if it is absent.
FONT = "Noto Sans CJK SC"

ZONE_COLORS = {
    "internet": "#fde2e2",
    "exchange": "#fff4d6",
    "production": "#dcefdc",
    "decision": "#dde8f7",
    "security_management": "#ece4f5",
    "private_network": "#e4f2f2",
}
SITE_COLORS = {
    SiteKind.district_agency: "#cfe3ff",
    SiteKind.street_station: "#e6f0ff",
    SiteKind.community_station: "#f3f7ff",
    SiteKind.agency_machine_room: "#ffb347",
}
HORIZONTAL_COLOR = "#e9f7e9"  # the horizontal institutions (job agency, training, ...)
CORE_KINDS = {DeviceKind.core_switch, DeviceKind.aggregation_switch, DeviceKind.router,
              DeviceKind.firewall, DeviceKind.load_balancer, DeviceKind.vpn_gateway}


@dataclass(frozen=True)
class Cell:
    """The isolation between two zones, as declared (or denied because not declared)."""

    kind: str  # an IsolationType value, "denied", or "self"
    isolation: Isolation | None = None

    def text(self, lang: str) -> str:
        iso = self.isolation
        if self.kind == "self":
            return "-"
        if iso is None:
            return label("denied", lang)
        if iso.type is IsolationType.gatekeeper:
            src, dst = iso.one_way or ("?", "?")
            return f"{label(iso.type, lang)} {src}->{dst}"
        if iso.type is IsolationType.firewall:
            return f"{label(iso.type, lang)} ({len(iso.flows)} {_flows_word(lang)})"
        return label(iso.type, lang)


def _flows_word(lang: str) -> str:
    return label("flows", lang) if lang == "zh" else "flows"


def isolation_cell(dc: DataCenter, a: str, b: str) -> Cell:
    if a == b:
        return Cell("self")
    for iso in dc.isolation:
        if set(iso.between) == {a, b}:
            return Cell(iso.type.value, iso)
    return Cell("denied")


# ---------------------------------------------------------------- drawing helpers


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _id(kind: str, name: str) -> str:
    # graphviz reads "a:b" in an edge end as node:port, so ids never contain a colon.
    return f"{kind}__{name}".replace(":", "_")


def _zone_title(zone: Zone, lang: str) -> str:
    """Two lines: the zh/en title (the kind's when the zone has none), name and kind."""
    kind_zh, kind_en = label(zone.kind, "zh"), label(zone.kind, "en")
    if zone.title is None:
        first, second = (kind_zh, kind_en) if lang == "zh" else (kind_en, kind_zh)
        return f"{first} / {second}\n{zone.name}"
    first, second = ((zone.title.zh, zone.title.en) if lang == "zh"
                     else (zone.title.en, zone.title.zh))
    return f"{first} / {second}\n{zone.name} · {label(zone.kind, lang)}"


def _bw(mbps: float) -> str:
    if mbps >= 1000 and mbps % 1000 == 0:
        return f"{int(mbps // 1000)}G"
    return f"{mbps:g}M"


def _link_label(link: Link, lang: str) -> str:
    parts = [f"{_bw(link.bandwidth_mbps)} {link.latency_ms:g}ms"]
    if link.encryption is not Encryption.none:
        parts.append(label(link.encryption, lang))
    if link.shared_with_social_insurance:
        parts.append("共用社保" if lang == "zh" else "shared w/ SI")
    return " ".join(parts)


def _device_zone(ix: DCIndex, dev: Device) -> Zone | None:
    """The one zone a device sits in (all its segments there, or its mgmt address)."""
    zones = {ix.segment_zone[i.segment].name for i in dev.interfaces
             if i.segment and i.segment in ix.segment_zone}
    if len(zones) == 1:
        return ix.zones[zones.pop()]
    if zones:
        return None
    try:
        addr = ipaddress.ip_address(dev.mgmt)
    except ValueError:
        return None
    for seg_name, seg in ix.segments.items():
        if addr in ipaddress.ip_network(seg.subnet):
            return ix.segment_zone[seg_name]
    return None


def _pairs(devices: list[Device]) -> list[list[Device]]:
    """Devices grouped with their redundancy partner, in declaration order."""
    seen: set[str] = set()
    by_name = {d.name: d for d in devices}
    out = []
    for dev in devices:
        if dev.name in seen:
            continue
        group = [dev]
        seen.add(dev.name)
        partner = by_name.get(dev.redundancy or "")
        if partner is not None and partner.name not in seen:
            group.append(partner)
            seen.add(partner.name)
        out.append(group)
    return out


def _device_node(g: graphviz.Digraph, group: list[Device], lang: str) -> str:
    dev = group[0]
    node = _id("dev", dev.name)
    names = " / ".join(d.name for d in group)
    color = {"firewall": "#f4a6a6", "gatekeeper": "#f7c873", "router": "#b9d7f0",
             "core_switch": "#c7e6c7"}.get(dev.kind.value, "#eeeeee")
    extra = " (border)" if dev.border and lang != "zh" else (" 边界" if dev.border else "")
    lbl = (f"<<b>{_e(names)}</b><br/><font point-size='9'>{_e(label(dev.kind, lang))}"
           f"{_e(extra)} · {_e(dev.model)}</font>>")
    shape = "hexagon" if dev.kind in (DeviceKind.firewall, DeviceKind.gatekeeper) else "box"
    verdicts = _STATUS.get() or {}
    if any(verdicts.get(d.name) == "error" for d in group):
        color = _VERDICT_FILL["error"]
    elif any(verdicts.get(d.name) == "fail" for d in group):
        color = _VERDICT_FILL["fail"]
    elif any(d.name in verdicts for d in group):
        color = _VERDICT_FILL["pass"]
    g.node(node, lbl, shape=shape, style="filled,rounded" if shape == "box" else "filled",
           fillcolor=color)
    return node


# ---------------------------------------------------------------- the drawing


def center_graph(topology: Topology, dc_name: str, lang: str = "en",
                 status: dict[str, str] | None = None) -> graphviz.Digraph:
    """The diagram of one data center (raises pesdc.model.tree.CenterError for an unknown
    name).

    ``status`` (node name -> "pass"/"fail"/"error") colours servers, devices and sites, as
    `pesdc verify --html` shows a center's result.
    """
    token = _STATUS.set(status or {})
    try:
        return _center_graph(topology, dc_name, lang)
    finally:
        _STATUS.reset(token)


# The verdict colouring of the drawing being built (set by center_graph only).
_STATUS: ContextVar[dict[str, str] | None] = ContextVar("pesdc_graph_status", default=None)
_VERDICT_FILL = {"pass": "#c8f0c8", "fail": "#ff9a9a", "error": "#d7b4f0"}


def _verdict(name: str, default: str) -> str:
    return _VERDICT_FILL.get((_STATUS.get() or {}).get(name, ""), default)


def _center_graph(topology: Topology, dc_name: str, lang: str) -> graphviz.Digraph:
    dc = topology.pick_center(dc_name)
    ix = topology.index(dc)
    title = dc.title.zh if lang == "zh" else dc.title.en
    heading = f"{title} ({dc.name}, {label(dc.tier, lang)}"
    heading += f", {label('stage', lang)} {dc.stage})" if dc.stage else ")"
    g = graphviz.Digraph(name=dc.name, comment=f"pesdc {dc.name}")
    g.attr(rankdir="TB", compound="true", newrank="true", nodesep="0.3", ranksep="0.5",
           fontname=FONT, fontsize="16", label=heading, labelloc="t", labeljust="l")
    g.attr("node", fontname=FONT, fontsize="10", shape="box", margin="0.08,0.04")
    g.attr("edge", fontname=FONT, fontsize="9", arrowsize="0.7")

    if dc.hosted:
        host = topology.datacenters.get(dc.hosted_by or "")
        host_title = (host.title.zh if lang == "zh" else host.title.en) if host else ""
        g.node("center", f"{label('hosted note', lang) if lang == 'zh' else 'hosted by'}\n"
                         f"{dc.hosted_by} {host_title}", shape="box3d",
               style="filled", fillcolor="#eeeeee")
        _municipal(g, dc, ix, "center", lang)
        return g

    gk_devices = _gatekeepers(dc, ix)
    anchors, bottoms, gatekeepers = _zones(g, dc, ix, gk_devices, lang)
    # The zones side by side in one row (newrank lets a rank span clusters); a
    # gatekeeper hangs just below, between its two zones.
    order = list(anchors.values())
    with g.subgraph() as row:
        row.attr(rank="same")
        for node in order:
            row.node(node)
    for left, right in itertools.pairwise(order):
        g.edge(left, right, style="invis")  # keeps the source's left-to-right zone order
    core = _core(g, dc, ix, lang)
    fw_node = core.get("firewall")
    # Every zone's gateway is on the border firewall pair: a thin line down from each zone.
    for zone_name, bottom in bottoms.items():
        if fw_node is not None:
            g.edge(bottom, fw_node, ltail=f"cluster_{zone_name}", dir="none",
                   color="#aaaaaa", penwidth="0.8", weight="2")
        elif core:
            g.edge(bottom, next(iter(core.values())), style="invis")
    _isolation_edges(g, dc, anchors, gatekeepers, lang)

    center_end = core.get("router") or core.get("core_switch") or fw_node
    if center_end is None:
        center_end = "center"
        g.node("center", label("center", lang), shape="box3d")
    if core.get("router") and fw_node:
        g.edge(fw_node, core["router"], dir="none", color="#555555")
    if core.get("core_switch") and fw_node:
        g.edge(fw_node, core["core_switch"], dir="none", color="#555555")
    _municipal(g, dc, ix, center_end, lang)
    _uplinks(g, dc, topology, center_end, lang)
    return g


ZONE_ORDER = ["internet", "exchange", "production", "decision", "security_management",
              "private_network"]


def _zones(g: graphviz.Digraph, dc: DataCenter, ix: DCIndex,
           gk_devices: dict[tuple[str, str], list[Device]], lang: str,
           ) -> tuple[dict[str, str], dict[str, str], dict[tuple[str, str], str]]:
    """One cluster per zone, its contents stacked top to bottom; gatekeepers drawn
    right after the first of their two zones (so they land between them).

    Returns zone name -> its top node (isolation edges), zone name -> its bottom
    node, and gatekeeper pair (src, dst) -> the gatekeeper's node.
    """
    anchors: dict[str, str] = {}
    bottoms: dict[str, str] = {}
    gk_nodes: dict[tuple[str, str], str] = {}
    placed = {d.name for devices in gk_devices.values() for d in devices}
    zones = sorted(dc.zones, key=lambda z: ZONE_ORDER.index(z.kind.value)
                   if z.kind.value in ZONE_ORDER else 99)
    for zone in zones:
        for pair, devices in gk_devices.items():
            if zone.name in pair and pair not in gk_nodes and any(
                    p in anchors for p in pair):
                # A borderless cluster of its own keeps it in the row between the zones.
                with g.subgraph(name=f"cluster_gk_{devices[0].name}") as gc:
                    gc.attr(label="", peripheries="0", margin="4")
                    gk_nodes[pair] = _device_node(gc, devices, lang)
        with g.subgraph(name=f"cluster_{zone.name}") as c:
            c.attr(label=_zone_title(zone, lang),
                   style="filled,rounded", fillcolor=ZONE_COLORS.get(zone.kind.value, "#f5f5f5"),
                   color="#777777", fontsize="12")
            stack: list[str] = []
            for seg in zone.segments:
                node = _id("seg", seg.name)
                c.node(node, _segment_label(dc, seg.name, ix, lang), shape="plain")
                stack.append(node)
            systems = [s for s in dc.systems
                       if any(ix.servers[n].zone == zone.name and
                              ix.servers[n].location == "datacenter"
                              for n in s.servers if n in ix.servers)]
            if systems:
                node = _id("sys", zone.name)
                c.node(node, _systems_label(systems, lang), shape="plain")
                stack.append(node)
            for group in _pairs([d for d in dc.devices if d.kind not in CORE_KINDS
                                 and d.name not in placed
                                 and _device_zone(ix, d) is zone]):
                stack.append(_device_node(c, group, lang))
            if not stack:
                stack.append(_id("zone", zone.name))
                c.node(stack[0], "", shape="point", width="0.05")
            for upper, lower in itertools.pairwise(stack):
                c.edge(upper, lower, style="invis")
            anchors[zone.name] = stack[0]
            bottoms[zone.name] = stack[-1]
    for pair, devices in gk_devices.items():
        if pair not in gk_nodes:
            gk_nodes[pair] = _device_node(g, devices, lang)
    return anchors, bottoms, gk_nodes


def _segment_label(dc: DataCenter, seg_name: str, ix: DCIndex, lang: str) -> str:
    seg = ix.segments[seg_name]
    head = f"{seg.name}  {seg.subnet}"
    if seg.vlan:
        head += f"  VLAN {seg.vlan}"
    rows = [f"<tr><td colspan='3' bgcolor='#ffffffaa'><b>{_e(head)}</b>"
            + (f"<br/><font point-size='8'>gw {_e(seg.gateway)}</font>" if seg.gateway else "")
            + "</td></tr>"]
    for srv in dc.servers:
        if srv.segment != seg.name or srv.location != "datacenter":
            continue
        roles = ",".join(label(r, lang) for r in srv.roles)
        rows.append(f"<tr><td align='left' bgcolor='{_verdict(srv.name, 'white')}'>"
                    f"{_e(srv.name)}</td><td align='left'>"
                    f"{_e(srv.address)}</td><td align='left'><font point-size='8'>"
                    f"{_e(roles)}</font></td></tr>")
    return ("<<table border='0' cellborder='1' cellspacing='0' cellpadding='2' "
            "bgcolor='white'>" + "".join(rows) + "</table>>")


def _systems_label(systems: list[System], lang: str) -> str:
    rows = [f"<tr><td colspan='2' bgcolor='#333333'><font color='white'><b>"
            f"{_e(label('systems', lang))}</b></font></td></tr>"]
    for s in systems:
        name = s.name + (" ⊕" if s.public else "")
        rows.append(f"<tr><td align='left'><b>{_e(name)}</b></td><td align='left'>"
                    f"<font point-size='8'>{_e(label(s.kind, lang))}<br/>"
                    f"{_e(', '.join(s.servers))}</font></td></tr>")
    return ("<<table border='0' cellborder='1' cellspacing='0' cellpadding='2' "
            "bgcolor='#fffff0'>" + "".join(rows) + "</table>>")


def _core(g: graphviz.Digraph, dc: DataCenter, ix: DCIndex, lang: str) -> dict[str, str]:
    """The core cluster: border firewalls, core switches, routers; kind -> first node."""
    placed = {d.name for devices in _gatekeepers(dc, ix).values() for d in devices}
    core_devices = [d for d in dc.devices
                    if (d.kind in CORE_KINDS or _device_zone(ix, d) is None)
                    and d.name not in placed]
    out: dict[str, str] = {}
    if not core_devices:
        return out
    with g.subgraph(name="cluster__core") as c:
        c.attr(label="核心网络 core network" if lang == "zh" else "core network / 核心网络",
               style="dashed,rounded", color="#555555", fontsize="11")
        for group in _pairs(core_devices):
            node = _device_node(c, group, lang)
            kind = group[0].kind.value
            if kind == "firewall" and not group[0].border and "firewall" in out:
                continue
            out.setdefault(kind, node)
    return out


ISO_STYLE: dict[IsolationType, dict[str, str]] = {
    IsolationType.physical: {"color": "red", "fontcolor": "red", "style": "bold,dashed",
                             "penwidth": "2.2", "dir": "none"},
    IsolationType.gatekeeper: {"color": "#c06000", "fontcolor": "#c06000", "style": "bold",
                               "penwidth": "1.6", "dir": "forward", "arrowhead": "normal"},
    IsolationType.firewall: {"color": "#1f4e9c", "fontcolor": "#1f4e9c", "style": "solid",
                             "dir": "none"},
    IsolationType.none: {"color": "#777777", "style": "solid", "dir": "none"},
}


def _gatekeeper_zones(ix: DCIndex, dev: Device) -> frozenset[str]:
    return frozenset(ix.segment_zone[i.segment].name for i in dev.interfaces
                     if i.segment and i.segment in ix.segment_zone)


def _gatekeepers(dc: DataCenter, ix: DCIndex) -> dict[tuple[str, str], list[Device]]:
    """The gatekeeper devices of each gatekeeper pair, keyed by its (src, dst)."""
    out: dict[tuple[str, str], list[Device]] = {}
    for iso in dc.isolation:
        if iso.type is not IsolationType.gatekeeper or iso.one_way is None:
            continue
        devices = [d for d in dc.devices if d.kind is DeviceKind.gatekeeper and
                   (d.name in iso.enforced_by or
                    _gatekeeper_zones(ix, d) == frozenset(iso.between))]
        if devices:
            out[iso.one_way] = _pairs(devices)[0]
    return out


def _isolation_edges(g: graphviz.Digraph, dc: DataCenter, anchors: dict[str, str],
                     gatekeepers: dict[tuple[str, str], str], lang: str) -> None:
    for iso in dc.isolation:
        a, b = iso.between
        if iso.type is IsolationType.gatekeeper and iso.one_way:
            a, b = iso.one_way
        if a not in anchors or b not in anchors:
            continue
        if iso.type is IsolationType.physical:
            text = "物理隔离 / physical"
        elif iso.type is IsolationType.gatekeeper:
            text = "网闸 gatekeeper"
            gk = gatekeepers.get((a, b))
            if gk is not None:  # a -> gatekeeper -> b, one way
                style = ISO_STYLE[iso.type]
                g.edge(anchors[a], gk, label=text, ltail=f"cluster_{a}",
                       **{**style, "arrowhead": "none"})
                g.edge(gk, anchors[b], lhead=f"cluster_{b}", constraint="false", **style)
                continue
        elif iso.type is IsolationType.firewall:
            text = f"防火墙 firewall: {len(iso.flows)} flows"
        else:
            text = both(iso.type)
        g.edge(anchors[a], anchors[b], label=text, ltail=f"cluster_{a}",
               lhead=f"cluster_{b}", constraint="false", **ISO_STYLE[iso.type])


def _site_label(site: Site, ix: DCIndex, dc: DataCenter, lang: str) -> str:
    ttl = ""
    if site.title is not None:
        ttl = site.title.zh if lang == "zh" else site.title.en
    lines = [f"<b>{_e(site.name)}</b>"]
    if ttl:
        lines.append(_e(ttl))
    lines.append(f"<font point-size='8'>{_e(label(site.kind, lang))}</font>")
    if site.kind is SiteKind.agency_machine_room:
        hosted = [s.name for s in dc.servers if s.location == site.name]
        hosted += [d.name for d in dc.devices if d.location == site.name]
        owner = label(site.owner, lang) if site.owner else ""
        lines.append(f"<font point-size='8'>{_e(owner)}</font>")
        if hosted:
            lines.append(f"<font point-size='8'>{_e(', '.join(hosted))}</font>")
    return "<" + "<br/>".join(lines) + ">"


def _municipal(g: graphviz.Digraph, dc: DataCenter, ix: DCIndex, center_end: str,
               lang: str) -> None:
    """The municipal network as a tree: center -> districts -> streets/communities."""
    if not dc.sites:
        return
    with g.subgraph(name="cluster__municipal") as c:
        c.attr(label=("市域网 municipal network" if lang == "zh"
                      else "municipal network / 市域网"),
               style="rounded", color="#4a7ab5", fontsize="12")
        for site in dc.sites:
            room = site.kind is SiteKind.agency_machine_room
            c.node(_id("site", site.name), _site_label(site, ix, dc, lang),
                   shape="box3d" if room else "box",
                   style="filled,bold" if room else "filled,rounded",
                   color="#d35400" if room else "#4a7ab5",
                   penwidth="2.5" if room else "1",
                   fillcolor=_verdict(site.name,
                                      SITE_COLORS.get(site.kind, HORIZONTAL_COLOR)))
    linked: set[str] = set()
    for link in dc.links:
        a = center_end if link.a == CENTER else _id("site", link.a)
        b = center_end if link.b == CENTER else _id("site", link.b)
        linked.update((link.a, link.b))
        high = link.bandwidth_mbps >= dc.high_speed_mbps
        g.edge(a, b, label=_link_label(link, lang), dir="none",
               color="#2e6db4" if high else "#7f9cc0", penwidth="1.8" if high else "1",
               style="solid")
    for site in dc.sites:
        if site.name in linked:
            continue
        parent = _id("site", site.parent) if site.parent else center_end
        g.edge(parent, _id("site", site.name), label="no link" if lang != "zh" else "无链路",
               dir="none", style="dotted", color="#aa0000")


def _uplinks(g: graphviz.Digraph, dc: DataCenter, topology: Topology, center_end: str,
             lang: str) -> None:
    for up in dc.uplinks:
        peer = topology.datacenters.get(up.peer)
        peer_title = ""
        if peer is not None:
            peer_title = peer.title.zh if lang == "zh" else peer.title.en
        node = _id("peer", up.name)
        g.node(node, f"{label('uplinks', lang)}: {up.peer}\n{peer_title}",
               shape="cds", style="filled", fillcolor="#f0f0f0", margin="0.2,0.05")
        text = f"{_bw(up.bandwidth_mbps)} {up.latency_ms:g}ms {label(up.encryption, lang)}"
        g.edge(center_end, node, label=f"{up.name}\n{text}", dir="none",
               style="bold", color="#6a3d9a")
