"""What a lab of one center is: nodes, bridges, links and addresses, computed from the
topology without touching the machine (so it is testable, and `up` only executes it).

Vendor gear cannot run here, so the lab runs a Linux stand-in of each device, rendered
from the same policy: a firewall or gatekeeper becomes an nftables namespace, a router
an FRR instance; switches are the bridges themselves plus a management-only node.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field

from pesdc.addrspace import iter_free
from pesdc.model.schema import DataCenter, Device, DeviceKind, Interface, Platform, ZoneKind
from pesdc.model.tree import CENTER, Topology
from pesdc.render.context import SWITCHES, CenterFacts, hostname, primary_center_links

LINUX_IFNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$")
GEAR_KINDS = (DeviceKind.firewall, DeviceKind.gatekeeper, DeviceKind.router)


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
class LabPlan:
    lab: str
    dc: DataCenter
    switch_ns: str
    bridges: dict[str, str]  # segment -> bridge name
    nodes: dict[str, Node]
    links: list[P2PLink]
    lab_dc: DataCenter  # the center with Linux stand-ins, what the lab renders
    center_prefixes: list[str]

    def node(self, name: str) -> Node:
        return self.nodes[name]


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


def _prefixes(dc: DataCenter) -> list[str]:
    nets = [s.subnet for z in dc.zones for s in z.segments]
    nets += [s.subnet for s in dc.sites if s.subnet]
    nets += [lk.subnet for lk in dc.links if lk.subnet]
    return sorted(set(nets), key=lambda n: ipaddress.ip_network(n))


def build_plan(topo: Topology, dc_name: str, lab: str | None = None) -> LabPlan:
    dc = topo.datacenters[dc_name]
    lab = lab or dc.name
    view = lab_view(dc)
    # Index the stand-in view under the same name so the renderer sees it.
    view_topo = Topology(files=topo.files, datacenters={**topo.datacenters, dc.name: view},
                         dc_file=topo.dc_file)
    facts = CenterFacts.of(view_topo, view)
    idx = facts.idx
    prefixes = _prefixes(dc)
    bridges = {seg: f"br{short_hash(lab, seg, n=8)}" for seg in idx.segments}
    nodes: dict[str, Node] = {}
    mgmt_segments = [s for z in idx.zones_of_kind(ZoneKind.security_management)
                     for s in z.segments]

    def routes_from(segment: str | None, gateway: str | None) -> list[tuple[str, str]]:
        if not gateway:
            return []
        own = idx.segments[segment].subnet if segment else None
        return [(p, gateway) for p in prefixes if p != own]

    # An agency-room server (no segment, location: ROOM) sits on its room's LAN: that
    # LAN becomes a bridge of its own, the room's site router and servers plug into it,
    # and the servers route through the site router.
    room_lans: dict[str, tuple[str, str, str]] = {}  # room -> (bridge, subnet, router)
    for srv in view.servers:
        room = idx.sites.get(srv.location) if srv.segment is None else None
        if room is not None and room.subnet and room.router and room.name not in room_lans:
            room_lans[room.name] = (f"br{short_hash(lab, 'site', room.name, n=8)}",
                                    room.subnet, room.router)
    bridges.update({"site:" + room: lan[0] for room, lan in room_lans.items()})

    for srv in view.servers:
        if srv.segment is None:
            if srv.location in room_lans:
                br, subnet, router = room_lans[srv.location]
                plen = ipaddress.ip_network(subnet).prefixlen
                nodes[srv.name] = Node(srv.name, hostname(dc, srv.name), _ns(lab, srv.name),
                                       "server", srv.address,
                                       [NodeIf("eth0", br, [f"{srv.address}/{plen}"],
                                               mac_for(srv.address))],
                                       [(p, router) for p in prefixes if p != subnet])
            continue  # a server in no segment and no emulated room: not in the lab
        seg = idx.segments[srv.segment]
        net = ipaddress.ip_network(seg.subnet)
        addr = f"{srv.address}/{net.prefixlen}"
        nodes[srv.name] = Node(srv.name, hostname(dc, srv.name), _ns(lab, srv.name),
                               "server", srv.address,
                               [NodeIf("eth0", bridges[srv.segment], [addr],
                                       mac_for(srv.address))],
                               routes_from(srv.segment, seg.gateway))

    for dev in view.devices:
        role = {DeviceKind.firewall: "firewall", DeviceKind.gatekeeper: "firewall",
                DeviceKind.router: "router"}.get(dev.kind, "mgmt")
        node = Node(dev.name, hostname(dc, dev.name), _ns(lab, dev.name), role, dev.mgmt,
                    device=dev, forwarding=role in ("firewall", "router"))
        own_addrs: set[str] = set()
        for itf in dev.interfaces:
            if not (itf.segment and itf.address):
                continue
            seg = idx.segments[itf.segment]
            plen = ipaddress.ip_network(seg.subnet).prefixlen
            addrs = [f"{itf.address}/{plen}"]
            partner = idx.devices.get(dev.redundancy) if dev.redundancy else None
            if itf.vrrp_group is not None and seg.gateway and _vrrp_master(dev, itf, partner):
                addrs.append(f"{seg.gateway}/{plen}")  # the master holds the VIP
            node.interfaces.append(NodeIf(itf.name, bridges[itf.segment], addrs,
                                          mac_for(itf.address)))
            own_addrs.add(itf.address)
        mgmt_bridges = {bridges[m.name] for m in mgmt_segments}
        if role == "router":
            node.oob = [i.name for i in node.interfaces if i.bridge in mgmt_bridges]
            gw = facts.transit_gateway()
            if gw:
                node.oob_routes = [(m.subnet, gw) for m in mgmt_segments]
        if dev.mgmt not in own_addrs:
            mseg = next((s for s in mgmt_segments
                         if ipaddress.ip_address(dev.mgmt) in ipaddress.ip_network(s.subnet)),
                        None)
            if mseg is not None:
                plen = ipaddress.ip_network(mseg.subnet).prefixlen
                node.interfaces.append(NodeIf("mgmt0", bridges[mseg.name],
                                              [f"{dev.mgmt}/{plen}"], mac_for(dev.mgmt)))
                if role == "router":
                    node.oob.append("mgmt0")
                if role == "mgmt":
                    node.routes = routes_from(mseg.name, mseg.gateway)
        nodes[dev.name] = node

    links: list[P2PLink] = []
    site_nodes: dict[str, Node] = {}
    for site in view.sites:
        if not site.subnet or not site.router:
            continue
        plen = ipaddress.ip_network(site.subnet).prefixlen
        lan_bridge = room_lans[site.name][0] if site.name in room_lans else None
        n = Node(site.name, f"{site.name}.{dc.name}", _ns(lab, "site-" + site.name), "site",
                 site.router, [NodeIf("lan0", lan_bridge, [f"{site.router}/{plen}"],
                                      mac_for(site.router))], forwarding=True,
                 key="site:" + site.name)
        site_nodes[site.name] = n
        nodes["site:" + site.name] = n

    view_sites = {s.name: s.subnet for s in view.sites}
    center_ends = {}  # link name -> (router node, interface name)
    for dev in view.devices:
        for itf in dev.interfaces:
            if itf.link:
                center_ends[itf.link] = (dev.name, itf.name)
    counters: dict[str, int] = {}
    primary = primary_center_links(view)
    for lk in view.links:
        if not (lk.subnet and lk.a_address and lk.b_address):
            continue
        plen = ipaddress.ip_network(lk.subnet).prefixlen
        if lk.a == CENTER or lk.b == CENTER:
            far = lk.b if lk.a == CENTER else lk.a
            if lk.name not in center_ends or far not in site_nodes:
                continue
            rnode, rif = center_ends[lk.name]
            a_node, a_if = rnode, rif
        else:
            parent, far = (lk.a, lk.b)
            if parent not in site_nodes or far not in site_nodes:
                continue
            counters[parent] = counters.get(parent, 0) + 1
            a_node, a_if = "site:" + parent, f"down{counters[parent]}"
        a_addr = lk.a_address if lk.a != far else lk.b_address
        b_addr = lk.b_address if lk.b == far else lk.a_address
        uplinks_of_site = sum(x.b_node == "site:" + far for x in links)
        links.append(P2PLink(lk.name, a_node, a_if, f"{a_addr}/{plen}", "site:" + far,
                             f"wan{uplinks_of_site}", f"{b_addr}/{plen}",
                             lk.bandwidth_mbps, lk.latency_ms))
        is_backup = (CENTER in (lk.a, lk.b) and primary.get(far) is not None
                     and primary[far].name != lk.name)
        if is_backup:  # the primary link carries the routes (symmetric paths)
            continue
        # A site reaches everything of the center through its parent's end of the link.
        site_nodes[far].routes = [(p, a_addr) for p in prefixes
                                   if p not in (view_sites[far], lk.subnet)]
    # Stations hang off districts (and villages off stations): a site reaches every site
    # below it over the down link toward it; the links between them are connected or
    # reached the same way.
    down_links: dict[str, list[P2PLink]] = {}
    for link in links:
        if link.a_node.startswith("site:"):
            down_links.setdefault(link.a_node, []).append(link)

    def below(key: str) -> list[str]:
        """Subnets of everything below a site: its LAN and the links beneath it."""
        out = [str(ipaddress.ip_network(nodes[key].interfaces[0].addresses[0],
                                        strict=False))]
        for lk in down_links.get(key, []):
            out.append(str(ipaddress.ip_network(lk.a_addr, strict=False)))
            out += below(lk.b_node)
        return out

    for parent, downs in down_links.items():
        node = nodes[parent]
        for link in downs:
            hop = link.b_addr.split("/")[0]
            connected = str(ipaddress.ip_network(link.a_addr, strict=False))
            nets = set(below(link.b_node))
            node.routes = [(p, v) for p, v in node.routes
                           if p not in nets and p != connected]
            node.routes += [(n, hop) for n in sorted(nets) if n != connected]

    # The business-private-network uplinks: the far center's border router as a small
    # FRR node behind the uplink (its latency and bandwidth), speaking OSPF to ours.
    for uplink in view.uplinks:
        end = next(((dev, itf) for dev in view.devices for itf in dev.interfaces
                    if itf.uplink == uplink.name), None)
        if end is None or not (uplink.subnet and uplink.local_address and uplink.peer_address):
            continue
        dev, itf = end
        plen = ipaddress.ip_network(uplink.subnet).prefixlen
        fast = dev.ospf is None or dev.ospf.fast_timers
        timers = " ip ospf hello-interval 1\n ip ospf dead-interval 4\n" if fast else ""
        frr = (f"frr version 8.4\nfrr defaults traditional\nhostname {uplink.peer}\n!\n"
               f"interface wan0\n description {uplink.kind.value} uplink to {dc.name}\n"
               f" ip address {uplink.peer_address}/{plen}\n{timers}exit\n!\n"
               f"router ospf\n ospf router-id {uplink.peer_address}\n"
               f" network {uplink.subnet} area {dev.ospf.area if dev.ospf else '0.0.0.0'}\n"
               "exit\n!\nend\n")
        key = "uplink:" + uplink.name
        nodes[key] = Node(uplink.peer, f"{uplink.peer}.{uplink.name}.uplink",
                          _ns(lab, "up-" + uplink.name), "peer", uplink.peer_address, [],
                          key=key, peer_config=frr)
        links.append(P2PLink(uplink.name, dev.name, itf.name,
                             f"{uplink.local_address}/{plen}", key, "wan0",
                             f"{uplink.peer_address}/{plen}", uplink.bandwidth_mbps,
                             uplink.latency_ms))

    # Routers and firewalls route with what render derived (static routes).
    from pesdc.render.context import device_context  # here: avoids an import cycle

    for dev in view.devices:
        node = nodes[dev.name]
        if node.role in ("firewall", "router"):
            ctx = device_context(facts, dev)
            node.routes = [(r["cidr"], r["next_hop"]) for r in ctx["static_routes"]]

    # The controller: pesdc runs on the center's bastion host (运维审计堡垒机) when there
    # is one, as operations do in a level-3 center: a policy that admits SSH only from
    # the bastion admits the lab's tools too. The controller shares the bastion's
    # network namespace. Without a bastion it gets its own management address.
    mgmt_names = {z.name for z in idx.zones_of_kind(ZoneKind.security_management)}
    bastion = next((s for s in view.servers if s.zone in mgmt_names and s.name in nodes
                    and any(r.value == "bastion" for r in s.roles)), None)
    ctl_seg = mgmt_segments[0] if mgmt_segments else None
    if bastion is not None:
        host = nodes[bastion.name]
        nodes["controller"] = Node("controller", f"controller.{dc.name}", host.netns,
                                   "controller", bastion.address, [], [],
                                   alias_of=bastion.name)
    elif ctl_seg is not None:
        net = ipaddress.ip_network(ctl_seg.subnet)
        used = {ipaddress.ip_address(a.split("/")[0]) for n in nodes.values()
                for i in n.interfaces for a in i.addresses}
        used |= {ipaddress.ip_address(s.gateway) for s in mgmt_segments if s.gateway}
        ctl_addr = str(next(iter_free(net, used, reverse=True)))  # the segment's top free
        nodes["controller"] = Node("controller", f"controller.{dc.name}", _ns(lab, "ctl"),
                                   "controller", ctl_addr,
                                   [NodeIf("eth0", bridges[ctl_seg.name],
                                           [f"{ctl_addr}/{net.prefixlen}"],
                                           mac_for(ctl_addr))],
                                   routes_from(ctl_seg.name, ctl_seg.gateway))
    return LabPlan(lab, dc, _ns(lab, "sw"), bridges, nodes, links, view, prefixes)


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
