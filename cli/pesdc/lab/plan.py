"""What a lab of one center is: nodes, bridges, links and addresses, computed from the
topology without touching the machine (so it is testable, and `up` only executes it).

Vendor gear cannot run here, so the lab runs a Linux stand-in of each device: a firewall
or gatekeeper becomes an nftables namespace (a vendor firewall's ruleset translated from
its rendered vendor configuration: lab/vendor_policy.py), a router an FRR instance;
switches are the bridges themselves plus a management-only node.

A plan is made once per run and handed around: it carries the center facts of its view
(the stand-in tree, its index and zone policy) and renders the stand-ins' configurations
the first time they are asked for, so that `lab up`, verify, net push, the probe and the
audit's lab evidence never work them out again.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field

from pesdc.addrspace import iter_free
from pesdc.backbone import center_prefixes
from pesdc.lab.errors import LabError
from pesdc.lab.vendor_policy import translate_vendor_gear
from pesdc.model.diagnostics import Diagnostic
from pesdc.model.schema import (
    DataCenter,
    Device,
    DeviceKind,
    Interface,
    Platform,
    Segment,
    ZoneKind,
)
from pesdc.model.tree import CENTER, DCIndex, Topology
from pesdc.render import render_device_files
from pesdc.render.context import (
    SWITCHES,
    CenterFacts,
    device_context,
    hostname,
    primary_center_links,
)

LINUX_IFNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$")
GEAR_KINDS = (DeviceKind.firewall, DeviceKind.gatekeeper, DeviceKind.router)
GEAR_ROLES = ("firewall", "router")  # the nodes that run a rendered configuration


def short_hash(*parts: str, n: int = 6) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:n]


def mac_for(address: str) -> str:
    """A stable MAC from the address (LAB-NOTES: random MACs left stale neighbours)."""
    h = hashlib.sha1(address.encode()).digest()
    return "02:" + ":".join(f"{b:02x}" for b in h[:5])


@dataclass
class NodeIf:
    name: str  # interface name inside the node
    bridge: str | None  # the segment bridge it plugs into (None: a point-to-point link)
    addresses: list[str]  # CIDR strings; the first is primary
    mac: str = ""


@dataclass
class Node:
    name: str  # topology name
    host: str  # NAME.CENTER
    netns: str
    role: str  # server, firewall, router, mgmt, site, controller
    mgmt: str | None
    interfaces: list[NodeIf] = field(default_factory=list)
    routes: list[tuple[str, str]] = field(default_factory=list)  # (prefix, via)
    forwarding: bool = False
    device: Device | None = None
    key: str = ""  # the key in LabPlan.nodes (sites are "site:NAME")
    # Management-only interfaces of a router: out of band, never a transit path (on
    # real gear a management VRF; here an nftables forward drop, as the kernel has no
    # VRF).
    oob: list[str] = field(default_factory=list)
    # Forwarded traffic toward the management zone still goes through the firewall:
    # (prefix, via) in a policy-routing table used for packets not from the oob ports.
    oob_routes: list[tuple[str, str]] = field(default_factory=list)
    peer_config: str = ""  # frr.conf of an uplink peer (the far center's border router)
    alias_of: str | None = None  # shares this node's namespace (the controller on a bastion)

    def __post_init__(self) -> None:
        self.key = self.key or self.name


@dataclass
class P2PLink:
    name: str
    a_node: str
    a_if: str
    a_addr: str
    b_node: str
    b_if: str
    b_addr: str
    bandwidth_mbps: float
    latency_ms: float  # round trip, as ping measures it: half is added on each end


@dataclass
class RenderedGear:
    files: dict[str, dict[str, str]]  # node -> file name -> text
    problems: list[Diagnostic]


@dataclass
class LabPlan:
    lab: str
    dc: DataCenter
    switch_ns: str
    bridges: dict[str, str]  # segment -> bridge name
    nodes: dict[str, Node]
    links: list[P2PLink]
    lab_dc: DataCenter  # the center with Linux stand-ins, what the lab renders
    center_prefixes: list[str]
    # The center facts of the lab's view (its topology, index and zone policy), made
    # once here: the gear is rendered from them, verify derives its HostSpecs with
    # them, the probe takes the policy.
    facts: CenterFacts
    # A member of a multi-center lab (pesdc.lab.group): the group's name, the other
    # centers it is joined to by their real uplinks, and the servers left out of it.
    group: str | None = None
    joined: frozenset[str] = frozenset()
    left_out: tuple[str, ...] = ()
    _rendered: RenderedGear | None = field(default=None, repr=False)

    @property
    def view(self) -> Topology:
        """The tree with this center as the lab runs it (its Linux stand-ins)."""
        return self.facts.topo

    def node(self, name: str) -> Node:
        return self.nodes[name]

    def rendered_gear(self) -> RenderedGear:
        """The stand-ins' configurations (firewalls' nftables, routers' FRR), rendered
        the first time they are asked for, then kept with the plan."""
        if self._rendered is None:
            problems: list[Diagnostic] = []
            files = {n.name: render_device_files(self.facts, n.name, problems)
                     for n in self.nodes.values()
                     if n.device is not None and n.role in GEAR_ROLES}
            # A vendor firewall's stand-in runs its vendor configuration's policy.
            translate_vendor_gear(self, files, problems)
            self._rendered = RenderedGear(files, problems)
        return self._rendered

    def gear(self) -> dict[str, dict[str, str]]:
        """The rendered stand-in configurations; LabError when any cannot be rendered."""
        rendered = self.rendered_gear()
        if rendered.problems:
            raise LabError("cannot render the lab's stand-in gear:\n  " +
                           "\n  ".join(p.message for p in rendered.problems))
        return rendered.files


def _ns(lab: str, node: str) -> str:
    return f"pesdc-{lab}-{node}"


def lab_view(dc: DataCenter) -> DataCenter:
    """The center as the lab runs it: every device a Linux stand-in, interface names
    Linux can hold, switches and appliances reduced to their management port."""
    devices = []
    for dev in dc.devices:
        itfs: list[Interface] = []
        if dev.kind in GEAR_KINDS:
            for i, itf in enumerate(dev.interfaces):
                name = itf.name if LINUX_IFNAME.match(itf.name) else f"eth{i}"
                itfs.append(itf.model_copy(update={"name": name}))
        new = dev.model_copy(update={"platform": Platform.linux, "interfaces": itfs})
        new._src = dev._src
        devices.append(new)
    view = dc.model_copy(update={"devices": devices})
    view._src = dc._src
    return view


def view_topology(topo: Topology, view: DataCenter) -> Topology:
    """The tree with the center replaced by its lab view, under the same name, so that
    the renderer sees the stand-ins."""
    return Topology(files=topo.files, datacenters={**topo.datacenters, view.name: view},
                    dc_file=topo.dc_file)


def _prefixes(dc: DataCenter) -> list[str]:
    nets = [s.subnet for z in dc.zones for s in z.segments]
    nets += [s.subnet for s in dc.sites if s.subnet]
    nets += [lk.subnet for lk in dc.links if lk.subnet]
    return sorted(set(nets), key=lambda n: ipaddress.ip_network(n))


@dataclass
class _Build:
    """What the steps of build_plan share: the lab, the center's view and what is built."""

    lab: str
    dc: DataCenter
    facts: CenterFacts  # of the lab view
    prefixes: list[str]
    bridges: dict[str, str]  # segment (or "site:ROOM") -> bridge name
    nodes: dict[str, Node] = field(default_factory=dict)
    links: list[P2PLink] = field(default_factory=list)
    # An agency room whose LAN the lab emulates: room -> (bridge, subnet, site router)
    room_lans: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    site_nodes: dict[str, Node] = field(default_factory=dict)
    joined: frozenset[str] = frozenset()  # centers in the same lab (no stand-in peer)
    only_servers: frozenset[str] | None = None  # None: every server

    @property
    def view(self) -> DataCenter:
        return self.facts.dc

    @property
    def idx(self) -> DCIndex:
        return self.facts.idx

    @property
    def mgmt_segments(self) -> list[Segment]:
        return [s for z in self.idx.zones_of_kind(ZoneKind.security_management)
                for s in z.segments]

    def ns(self, node: str) -> str:
        return _ns(self.lab, node)

    def routes_from(self, segment: str | None, gateway: str | None) -> list[tuple[str, str]]:
        """Everything of the center through the segment's gateway (its own net is on-link)."""
        if not gateway:
            return []
        own = self.idx.segments[segment].subnet if segment else None
        return [(p, gateway) for p in self.prefixes if p != own]


def build_plan(topo: Topology, dc_name: str, lab: str | None = None) -> LabPlan:
    """The lab of a center. ``lab`` may name a multi-center lab: the plan is then its
    member for this center (pesdc.lab.group)."""
    from pesdc.lab.group import resolve

    dc = topo.datacenters[dc_name]
    lab, group = resolve(lab or dc.name, dc_name)
    view = lab_view(dc)
    facts = CenterFacts.of(view_topology(topo, view), view)
    b = _Build(lab, dc, facts, _prefixes(dc),
               {seg: f"br{short_hash(lab, seg, n=8)}" for seg in facts.idx.segments})
    if group is not None:
        b.joined = frozenset(group.centers) - {dc_name}
        if dc_name in group.servers:
            b.only_servers = frozenset(group.servers[dc_name])
        # The hosts route the other centers of the lab as they route their own center's
        # zones (through their gateways, the firewalls and routers decide).
        far = {p for c in b.joined for p in center_prefixes(topo.datacenters[c])}
        b.prefixes = sorted(set(b.prefixes) | far, key=lambda n: ipaddress.ip_network(n))
    _room_lans(b)
    _server_nodes(b)
    for dev in view.devices:
        b.nodes[dev.name] = _device_node(b, dev)
    _site_nodes(b)
    _site_links(b)
    _routes_down_the_sites(b)
    _uplink_peers(b)
    _gear_routes(b)
    _controller(b)
    left_out = tuple(s.name for s in dc.servers
                     if b.only_servers is not None and s.name not in b.only_servers)
    return LabPlan(lab, dc, _ns(lab, "sw"), b.bridges, b.nodes, b.links, view, b.prefixes,
                   facts, group.name if group else None, b.joined, left_out)


def _room_lans(b: _Build) -> None:
    """An agency-room server (no segment, location: ROOM) sits on its room's LAN: that
    LAN becomes a bridge of its own, the room's site router and servers plug into it,
    and the servers route through the site router."""
    for srv in b.view.servers:
        room = b.idx.sites.get(srv.location) if srv.segment is None else None
        if room is not None and room.subnet and room.router and room.name not in b.room_lans:
            b.room_lans[room.name] = (f"br{short_hash(b.lab, 'site', room.name, n=8)}",
                                      room.subnet, room.router)
    b.bridges.update({"site:" + room: lan[0] for room, lan in b.room_lans.items()})


def _server_nodes(b: _Build) -> None:
    """A node per server on a segment (routes through its gateway) or in an emulated
    room (routes through the room's site router); any other server is not in the lab."""
    for srv in b.view.servers:
        if b.only_servers is not None and srv.name not in b.only_servers:
            continue  # a far center of a multi-center lab, kept light
        if srv.segment is not None:
            seg = b.idx.segments[srv.segment]
            plen = ipaddress.ip_network(seg.subnet).prefixlen
            bridge, routes = b.bridges[srv.segment], b.routes_from(srv.segment, seg.gateway)
        elif srv.location in b.room_lans:
            bridge, subnet, router = b.room_lans[srv.location]
            plen = ipaddress.ip_network(subnet).prefixlen
            routes = [(p, router) for p in b.prefixes if p != subnet]
        else:
            continue
        b.nodes[srv.name] = Node(srv.name, hostname(b.dc, srv.name), b.ns(srv.name), "server",
                                 srv.address,
                                 [NodeIf("eth0", bridge, [f"{srv.address}/{plen}"],
                                         mac_for(srv.address))], routes)


DEVICE_ROLES = {DeviceKind.firewall: "firewall", DeviceKind.gatekeeper: "firewall",
                DeviceKind.router: "router"}  # any other device: its management port


def _device_node(b: _Build, dev: Device) -> Node:
    """A device's stand-in: its addressed interfaces on their segments (the VRRP master
    holding the gateway), and a management port of its own when none of them carries
    its management address. A router's management ports are out of band."""
    role = DEVICE_ROLES.get(dev.kind, "mgmt")
    node = Node(dev.name, hostname(b.dc, dev.name), b.ns(dev.name), role, dev.mgmt,
                device=dev, forwarding=role in ("firewall", "router"))
    partner = b.idx.devices.get(dev.redundancy) if dev.redundancy else None
    for itf in dev.interfaces:
        if not (itf.segment and itf.address):
            continue
        seg = b.idx.segments[itf.segment]
        plen = ipaddress.ip_network(seg.subnet).prefixlen
        addrs = [f"{itf.address}/{plen}"]
        if itf.vrrp_group is not None and seg.gateway and _vrrp_master(dev, itf, partner):
            addrs.append(f"{seg.gateway}/{plen}")  # the master holds the VIP
        node.interfaces.append(NodeIf(itf.name, b.bridges[itf.segment], addrs,
                                      mac_for(itf.address)))
    mgmt_segments = b.mgmt_segments
    if role == "router":
        mgmt_bridges = {b.bridges[m.name] for m in mgmt_segments}
        node.oob = [i.name for i in node.interfaces if i.bridge in mgmt_bridges]
        gw = b.facts.transit_gateway()
        if gw:
            node.oob_routes = [(m.subnet, gw) for m in mgmt_segments]
    if dev.mgmt in {i.address for i in dev.interfaces if i.segment and i.address}:
        return node
    mseg = next((s for s in mgmt_segments
                 if ipaddress.ip_address(dev.mgmt) in ipaddress.ip_network(s.subnet)), None)
    if mseg is not None:
        plen = ipaddress.ip_network(mseg.subnet).prefixlen
        node.interfaces.append(NodeIf("mgmt0", b.bridges[mseg.name], [f"{dev.mgmt}/{plen}"],
                                      mac_for(dev.mgmt)))
        if role == "router":
            node.oob.append("mgmt0")
        if role == "mgmt":
            node.routes = b.routes_from(mseg.name, mseg.gateway)
    return node


def _site_nodes(b: _Build) -> None:
    """A forwarding node per site with a router: its LAN is the room's bridge when the
    lab emulates the room, else a bridge of its own inside the site."""
    for site in b.view.sites:
        if not site.subnet or not site.router:
            continue
        plen = ipaddress.ip_network(site.subnet).prefixlen
        lan_bridge = b.room_lans[site.name][0] if site.name in b.room_lans else None
        key = "site:" + site.name
        n = Node(site.name, f"{site.name}.{b.dc.name}", b.ns("site-" + site.name), "site",
                 site.router, [NodeIf("lan0", lan_bridge, [f"{site.router}/{plen}"],
                                      mac_for(site.router))], forwarding=True, key=key)
        b.site_nodes[site.name] = n
        b.nodes[key] = n


def _site_links(b: _Build) -> None:
    """A point-to-point link per municipal link between two lab ends: the center's
    router (or the parent site's down port) to the site's next wan port. A site
    reaches everything of the center through its primary link's parent end."""
    view = b.view
    center_ends = {itf.link: (dev.name, itf.name)  # link name -> (router, interface)
                   for dev in view.devices for itf in dev.interfaces if itf.link}
    view_sites = {s.name: s.subnet for s in view.sites}
    counters: dict[str, int] = {}
    primary = primary_center_links(view)
    for lk in view.links:
        if not (lk.subnet and lk.a_address and lk.b_address):
            continue
        plen = ipaddress.ip_network(lk.subnet).prefixlen
        if CENTER in (lk.a, lk.b):
            far = lk.b if lk.a == CENTER else lk.a
            if lk.name not in center_ends or far not in b.site_nodes:
                continue
            a_node, a_if = center_ends[lk.name]
        else:
            parent, far = (lk.a, lk.b)
            if parent not in b.site_nodes or far not in b.site_nodes:
                continue
            counters[parent] = counters.get(parent, 0) + 1
            a_node, a_if = "site:" + parent, f"down{counters[parent]}"
        a_addr = lk.a_address if lk.a != far else lk.b_address
        b_addr = lk.b_address if lk.b == far else lk.a_address
        uplinks_of_site = sum(x.b_node == "site:" + far for x in b.links)
        b.links.append(P2PLink(lk.name, a_node, a_if, f"{a_addr}/{plen}", "site:" + far,
                               f"wan{uplinks_of_site}", f"{b_addr}/{plen}",
                               lk.bandwidth_mbps, lk.latency_ms))
        is_backup = (CENTER in (lk.a, lk.b) and primary.get(far) is not None
                     and primary[far].name != lk.name)
        if is_backup:  # the primary link carries the routes (symmetric paths)
            continue
        b.site_nodes[far].routes = [(p, a_addr) for p in b.prefixes
                                    if p not in (view_sites[far], lk.subnet)]


def _routes_down_the_sites(b: _Build) -> None:
    """Stations hang off districts (and villages off stations): a site reaches every
    site below it over the down link toward it; the links between them are connected
    or reached the same way."""
    down_links: dict[str, list[P2PLink]] = {}
    for link in b.links:
        if link.a_node.startswith("site:"):
            down_links.setdefault(link.a_node, []).append(link)

    def below(key: str) -> list[str]:
        """Subnets of everything below a site: its LAN and the links beneath it."""
        out = [str(ipaddress.ip_network(b.nodes[key].interfaces[0].addresses[0],
                                        strict=False))]
        for lk in down_links.get(key, []):
            out.append(str(ipaddress.ip_network(lk.a_addr, strict=False)))
            out += below(lk.b_node)
        return out

    for parent, downs in down_links.items():
        node = b.nodes[parent]
        for link in downs:
            hop = link.b_addr.split("/")[0]
            connected = str(ipaddress.ip_network(link.a_addr, strict=False))
            nets = set(below(link.b_node))
            node.routes = [(p, v) for p, v in node.routes
                           if p not in nets and p != connected]
            node.routes += [(n, hop) for n in sorted(nets) if n != connected]


def _uplink_peers(b: _Build) -> None:
    """The business-private-network uplinks: the far center's border router as a small
    FRR node behind the uplink (its latency and bandwidth), speaking OSPF to ours."""
    view = b.view
    for uplink in view.uplinks:
        if uplink.peer in b.joined:
            continue  # the far center is in this lab: the group links the real routers
        end = next(((dev, itf) for dev in view.devices for itf in dev.interfaces
                    if itf.uplink == uplink.name), None)
        if end is None or not (uplink.subnet and uplink.local_address and uplink.peer_address):
            continue
        dev, itf = end
        plen = ipaddress.ip_network(uplink.subnet).prefixlen
        fast = dev.ospf is None or dev.ospf.fast_timers
        timers = " ip ospf hello-interval 1\n ip ospf dead-interval 4\n" if fast else ""
        frr = (f"frr version 8.4\nfrr defaults traditional\nhostname {uplink.peer}\n!\n"
               f"interface wan0\n description {uplink.kind.value} uplink to {b.dc.name}\n"
               f" ip address {uplink.peer_address}/{plen}\n{timers}exit\n!\n"
               f"router ospf\n ospf router-id {uplink.peer_address}\n"
               f" network {uplink.subnet} area {dev.ospf.area if dev.ospf else '0.0.0.0'}\n"
               "exit\n!\nend\n")
        key = "uplink:" + uplink.name
        b.nodes[key] = Node(uplink.peer, f"{uplink.peer}.{uplink.name}.uplink",
                            b.ns("up-" + uplink.name), "peer", uplink.peer_address, [],
                            key=key, peer_config=frr)
        b.links.append(P2PLink(uplink.name, dev.name, itf.name,
                               f"{uplink.local_address}/{plen}", key, "wan0",
                               f"{uplink.peer_address}/{plen}", uplink.bandwidth_mbps,
                               uplink.latency_ms))


def _gear_routes(b: _Build) -> None:
    """Routers and firewalls route with what render derived (static routes)."""
    for dev in b.view.devices:
        node = b.nodes[dev.name]
        if node.role in GEAR_ROLES:
            ctx = device_context(b.facts, dev)
            node.routes = [(r["cidr"], r["next_hop"]) for r in ctx["static_routes"]]


def _controller(b: _Build) -> None:
    """The controller: pesdc runs on the center's bastion host (运维审计堡垒机) when there
    is one, as operations do in a level-3 center: a policy that admits SSH only from
    the bastion admits the lab's tools too. The controller shares the bastion's
    network namespace. Without a bastion it gets its own management address."""
    mgmt_segments = b.mgmt_segments
    mgmt_names = {z.name for z in b.idx.zones_of_kind(ZoneKind.security_management)}
    bastion = next((s for s in b.view.servers if s.zone in mgmt_names and s.name in b.nodes
                    and any(r.value == "bastion" for r in s.roles)), None)
    host = f"controller.{b.dc.name}"
    if bastion is not None:
        b.nodes["controller"] = Node("controller", host, b.nodes[bastion.name].netns,
                                     "controller", bastion.address, [], [],
                                     alias_of=bastion.name)
        return
    if not mgmt_segments:
        return
    seg = mgmt_segments[0]
    net = ipaddress.ip_network(seg.subnet)
    used = {ipaddress.ip_address(a.split("/")[0]) for n in b.nodes.values()
            for i in n.interfaces for a in i.addresses}
    used |= {ipaddress.ip_address(s.gateway) for s in mgmt_segments if s.gateway}
    addr = str(next(iter_free(net, used, reverse=True)))  # the segment's top free address
    b.nodes["controller"] = Node("controller", host, b.ns("ctl"), "controller", addr,
                                 [NodeIf("eth0", b.bridges[seg.name],
                                         [f"{addr}/{net.prefixlen}"], mac_for(addr))],
                                 b.routes_from(seg.name, seg.gateway))


def _vrrp_master(dev: Device, itf: Interface, partner: Device | None) -> bool:
    """The member with the higher priority (ties: the lower name) holds the VIP."""
    if partner is None:
        return True
    other = next((i for i in partner.interfaces
                  if i.segment == itf.segment and i.vrrp_group == itf.vrrp_group), None)
    if other is None:
        return True
    return (itf.vrrp_priority, partner.name) > (other.vrrp_priority, dev.name)


def is_switch(dev: Device) -> bool:
    return dev.kind in SWITCHES
