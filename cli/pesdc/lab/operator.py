"""The operator: the engineer's workstation outside the center, as a lab namespace.

In a level-3 center nothing reaches the hosts but the bastion host (运维审计堡垒机); an
engineer's machine reaches the bastion and nothing else. The lab's controller shares the
bastion's namespace (lab/plan.py `_controller`), so lab runs connect to every host
directly. The operator namespace is the other side: one veth pair to the bastion's
namespace and one route, to the bastion's own address. Every connection from it goes
through the bastion (ProxyJump, ``ssh -W``) or nowhere: any other address of the center
fails locally with "Network is unreachable", and the bastion does not forward.

The operator is a free address of the bastion's management segment (the top one), as
a /32 on ``ops0``: an operations terminal of the security management zone, which the
bastion's hardened sshd admits (``AllowUsers *@<management nets>``); the /32 and the one
route keep it from every other host of that segment. The bastion's end of the pair is
198.18.X.1/32 (RFC 2544 benchmarking, never a real network), X from the lab's name; the
bastion keeps its topology address and routes the operator's /32 back over the pair.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import asdict, dataclass
from typing import Any

from pesdc.i18n import N_
from pesdc.lab import netns
from pesdc.lab.errors import LabError
from pesdc.lab.plan import LabPlan, mac_for, short_hash

OPS_NET = ipaddress.ip_network("198.18.0.0/15")  # RFC 2544: never routed anywhere real
OPS_IF = "ops0"  # the operator's only interface (besides lo)
INSIDE_ENV = "PESDC_INSIDE_OPERATOR"  # set to the lab name for commands run in it


def operator_ns(lab: str) -> str:
    """The operator namespace of a lab: `pesdc-LAB-ops` (the lab's prefix, so `lab down`
    and the leak checks see it)."""
    return f"pesdc-{lab}-ops"


@dataclass(frozen=True)
class OperatorPlan:
    netns: str  # pesdc-LAB-ops
    address: str  # the operator's address (no prefix length: a /32)
    ifname: str  # its interface, ops0
    bastion: str  # the bastion's node name
    bastion_host: str  # NAME.CENTER
    bastion_ns: str  # the bastion's namespace
    bastion_address: str  # its topology address, the operator's one route
    peer_address: str  # the bastion's end of the pair (a /32)
    peer_ifname: str  # that end's name inside the bastion's namespace

    @property
    def route(self) -> str:
        """The operator's one route, as `ip route` shows it."""
        return f"{self.bastion_address} dev {self.ifname} scope link src {self.address}"


def operator_plan(plan: LabPlan) -> OperatorPlan | None:
    """The operator of a lab whose controller sits on a bastion host (a server with the
    bastion role in the security management zone); None when the center has none."""
    ctl = plan.nodes.get("controller")
    if ctl is None or ctl.alias_of is None or ctl.alias_of not in plan.nodes:
        return None
    bastion = plan.nodes[ctl.alias_of]
    if not bastion.mgmt:
        return None
    ns = operator_ns(plan.lab)
    clash = next((n.name for n in plan.nodes.values() if n.netns == ns), None)
    if clash is not None:
        raise LabError(f"node {clash!r} of lab {plan.lab} already uses the namespace {ns} "
                       "the operator needs: rename that node in the topology")
    x = int(short_hash(plan.lab, "operator", n=4), 16) % 256
    peer = f"198.18.{x}.1"
    address = _workstation_address(plan, bastion.mgmt)
    for prefix in plan.center_prefixes:
        if ipaddress.ip_network(prefix).overlaps(OPS_NET):
            raise LabError(f"the center uses {prefix}, inside 198.18.0.0/15 (RFC 2544, "
                           "the lab operator's range): the topology must not use it")
    return OperatorPlan(ns, address, OPS_IF, bastion.name, bastion.host, bastion.netns,
                        bastion.mgmt, peer, "ops" + short_hash(plan.lab, "ops-peer", n=8))


def _workstation_address(plan: LabPlan, bastion_address: str) -> str:
    """The operator's address: a free address of the bastion's management segment, as
    an operations terminal of the security management zone has, so the bastion's
    hardened sshd (``AllowUsers *@<management nets>``) admits it as it would a real
    one. It is a /32 on the veth to the bastion: no other host of that segment is
    reachable from it, whatever its address says."""
    from pesdc.addrspace import iter_free

    addr = ipaddress.ip_address(bastion_address)
    seg = next((s for z in plan.dc.zones for s in z.segments
                if addr in ipaddress.ip_network(s.subnet)), None)
    if seg is None:
        raise LabError(f"the bastion's address {bastion_address} is in no segment of "
                       f"{plan.dc.name}: the operator cannot take an address beside it")
    net = ipaddress.ip_network(seg.subnet)
    used = {ipaddress.ip_address(a.split("/")[0]) for n in plan.nodes.values()
            for i in n.interfaces for a in i.addresses}
    used |= {ipaddress.ip_address(s.address) for s in plan.dc.servers}
    used |= {ipaddress.ip_address(d.mgmt) for d in plan.dc.devices}
    used |= {ipaddress.ip_address(n.mgmt) for n in plan.nodes.values() if n.mgmt}
    if seg.gateway:
        used.add(ipaddress.ip_address(seg.gateway))
    free = next(iter_free(net, used, reverse=True), None)  # the segment's top free one
    if free is None:
        raise LabError(f"the management segment {seg.name} ({seg.subnet}) has no free "
                       "address for the operator's workstation")
    return str(free)


def _healthy(op: OperatorPlan, live: set[str]) -> bool:
    if op.netns not in live or op.bastion_ns not in live:
        return False
    if op.ifname not in netns.links(op.netns) or \
            op.peer_ifname not in netns.links(op.bastion_ns):
        return False
    back = f"{op.address} dev {op.peer_ifname} scope link src {op.bastion_address}"
    return routes(op.netns) == [op.route] and back in routes(op.bastion_ns)


def routes(ns: str) -> list[str]:
    """The namespace's IPv4 routes (main table), one `ip route` line each."""
    res = netns.run(["ip", "-n", ns, "-4", "route", "show"], check=False)
    return [" ".join(line.split()) for line in res.stdout.splitlines() if line.strip()]


def _forwarding(ns: str) -> str:
    res = netns.run(netns.ns_exec(ns, "sysctl", "-n", "net.ipv4.ip_forward"), check=False)
    return res.stdout.strip()


def ensure(plan: LabPlan, old: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Bring the operator namespace up (or repair it) after the lab's nodes: what the
    lab state keeps of it, None when the lab has no bastion (an operator of an earlier
    run, ``old``, is then taken down)."""
    op = operator_plan(plan)
    if op is None:
        take_down(old)
        return None
    if op.bastion_ns not in netns.existing():
        raise LabError(N_("the bastion {bastion}'s namespace {netns} is not up: run `pesdc "
                          "lab up` again to repair it"), bastion=op.bastion,
                       netns=op.bastion_ns)
    if _forwarding(op.bastion_ns) != "0":
        raise LabError(N_("the bastion {bastion} forwards packets (net.ipv4.ip_forward is not "
                          "0 in its namespace): the operator would reach the whole center"),
                       bastion=op.bastion)
    if not _healthy(op, netns.existing()):
        netns.delete(op.netns)
        netns.run(["ip", "-n", op.bastion_ns, "link", "del", op.peer_ifname], check=False)
        netns.create(op.netns)  # lo up
        if os.path.isdir("/proc/sys/net/ipv6"):  # no link-local IPv6 path either
            for scope in ("all", "default"):
                netns.sysctl(op.netns, f"net.ipv6.conf.{scope}.disable_ipv6", "1")
        netns.batch(op.netns, [
            f"link add {op.ifname} type veth peer name {op.peer_ifname} netns {op.bastion_ns}",
            f"link set {op.ifname} address {mac_for(op.address)}",
            f"addr add {op.address}/32 dev {op.ifname}",
            f"link set {op.ifname} up",
            f"route replace {op.bastion_address}/32 dev {op.ifname} scope link "
            f"src {op.address}",
        ])
        netns.batch(op.bastion_ns, [
            f"link set {op.peer_ifname} address {mac_for(op.peer_address)}",
            f"addr add {op.peer_address}/32 dev {op.peer_ifname}",
            f"link set {op.peer_ifname} up",
            f"route replace {op.address}/32 dev {op.peer_ifname} scope link "
            f"src {op.bastion_address}",
        ])
        got = routes(op.netns)
        if got != [op.route]:
            raise LabError(f"the operator namespace {op.netns} has routes {got}, expected "
                           f"only {op.route}")
    return asdict(op)


def take_down(state: dict[str, Any] | None) -> None:
    """Remove the operator namespace (its veth pair goes with it)."""
    if state and state.get("netns"):
        netns.delete(state["netns"])


def _state(lab_name: str) -> dict[str, Any]:
    from pesdc.lab.runtime import Lab

    lab = Lab(lab_name)
    if not lab.exists():
        raise LabError(N_("lab {name!r} is not up: run `pesdc lab up PATH --name {name}` "
                          "first"), name=lab_name)
    op = lab.load_state().get("operator")
    if not op:
        raise LabError(N_("lab {name} has no operator namespace: its center has no bastion "
                          "host (a server with role bastion in the security management "
                          "zone)"), name=lab_name)
    return dict(op)


def operator_argv(lab_name: str, argv: list[str]) -> list[str]:
    """The argv that runs ``argv`` in the lab's operator namespace (environment, stdin,
    stdout and stderr are the caller's: nothing secret needs to go on the command line)."""
    if not argv:
        raise LabError(N_("no command given: pesdc lab operator --lab NAME -- CMD ARGS..."))
    op = _state(lab_name)
    if op["netns"] not in netns.existing():
        raise LabError(N_("the operator namespace {netns} is gone: run `pesdc lab up` to "
                          "repair it"), netns=op["netns"])
    return netns.ns_exec(op["netns"], *argv)


def status(lab_name: str) -> dict[str, Any] | None:
    """The operator namespace as it is now: its address, its routes, up or not; None when
    the lab has no operator."""
    from pesdc.lab.runtime import Lab

    op = Lab(lab_name).load_state().get("operator")
    if not op:
        return None
    up = op["netns"] in netns.existing()
    got = routes(op["netns"]) if up else []
    expected = OperatorPlan(**op).route
    return {"netns": op["netns"], "address": op["address"], "bastion": op["bastion"],
            "bastion_address": op["bastion_address"], "routes": got,
            "state": "up" if up and got == [expected] and
            op["peer_ifname"] in netns.links(op["bastion_ns"]) else "down"}
