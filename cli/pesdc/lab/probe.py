"""Isolation proved with real packets: TCP, UDP and ICMP probes across every zone pair.

For every flow of the policy (and its reverse), and for a port no policy allows in
every zone pair, a probe goes from a lab node in the source zone to a listener on a
node in the destination; the expected result is what the normalised policy says
(``CenterPolicy.allows``). Listeners and clients are one small agent per namespace,
run with the machine's python3 inside that namespace only.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from dataclasses import dataclass, field

from pesdc.lab import netns
from pesdc.lab.plan import LabPlan, Node
from pesdc.model.schema import ZoneKind
from pesdc.model.tree import Topology
from pesdc.policy import CenterPolicy, build

CLOSED_PORT = 7  # echo: no policy of a center allows it; a probe for "denied"

_LISTENER = r"""
import json, socket, sys, threading, time
specs = json.loads(sys.argv[1])
socks = []
for addr, proto, port in specs:
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((addr, port))
    except OSError:
        continue  # a real service already listens there: probes reach it instead
    if proto == "tcp":
        s.listen(64)
    socks.append((s, proto))
def serve(s, proto):
    while True:
        try:
            if proto == "tcp":
                c, _ = s.accept(); c.close()
            else:
                data, peer = s.recvfrom(512); s.sendto(data, peer)
        except OSError:
            return
for s, proto in socks:
    threading.Thread(target=serve, args=(s, proto), daemon=True).start()
print("ready", flush=True)
time.sleep(float(sys.argv[2]))
"""

_CLIENT = r"""
import json, socket, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
probes = json.loads(sys.argv[1])
def one(p):
    src, dst, proto, port = p["src"], p["dst"], p["protocol"], p["port"]
    try:
        if proto == "icmp":
            r = subprocess.run(["ping", "-n", "-q", "-c", "1", "-W", "1", "-I", src, dst],
                               capture_output=True)
            return r.returncode == 0
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        s = socket.socket(socket.AF_INET, kind)
        s.settimeout(1.0)
        s.bind((src, 0))
        if proto == "tcp":
            s.connect((dst, port)); s.close(); return True
        s.sendto(b"pesdc-probe", (dst, port))
        s.recvfrom(512); return True
    except OSError:
        return False
with ThreadPoolExecutor(32) as ex:
    print(json.dumps(list(ex.map(one, probes))))
"""


@dataclass
class Probe:
    src_zone: str
    dst_zone: str
    src_node: str
    dst_node: str
    src: str
    dst: str  # where the client connects (a gatekeeper's relay address for relayed flows)
    listen_node: str
    listen: str  # where the listener binds
    protocol: str
    port: int
    why: str
    expected: bool
    observed: bool | None = None

    @property
    def ok(self) -> bool:
        return self.observed == self.expected


@dataclass
class ProbeReport:
    dc: str
    probes: list[Probe] = field(default_factory=list)

    @property
    def mismatches(self) -> list[Probe]:
        return [p for p in self.probes if not p.ok]

    def as_dict(self) -> dict[str, object]:
        return {"dc": self.dc, "probes": [vars(p) | {"ok": p.ok} for p in self.probes],
                "mismatches": len(self.mismatches)}


def _addr(node: Node) -> str:
    return node.interfaces[0].addresses[0].split("/")[0]


def zone_members(topo: Topology, plan: LabPlan) -> dict[str, list[Node]]:
    """Lab nodes that stand for each zone: its servers; sites for the private network."""
    idx = topo.index(plan.dc)
    out: dict[str, list[Node]] = {z.name: [] for z in plan.dc.zones}
    for srv in plan.dc.servers:
        # A server in an agency machine room sits on the municipal network, not behind
        # the firewalls: it cannot stand for its zone in a probe.
        if srv.name in plan.nodes and srv.zone in out and srv.location == "datacenter":
            out[srv.zone].append(plan.nodes[srv.name])
    for z in idx.zones_of_kind(ZoneKind.private_network):
        out[z.name] += [n for n in plan.nodes.values() if n.role == "site"]
    return out


def _pick(members: list[Node], nets: tuple[str, ...]) -> Node | None:
    networks = [ipaddress.ip_network(n) for n in nets]
    for node in members:
        ip = ipaddress.ip_address(_addr(node))
        if any(ip in n for n in networks):
            return node
    return None


def plan_probes(topo: Topology, plan: LabPlan, policy: CenterPolicy | None = None
                ) -> list[Probe]:
    policy = policy or build(topo, plan.dc)
    members = zone_members(topo, plan)
    # (source zone, target, port, protocol) -> the gatekeeper address that relays it
    relay_of: dict[tuple[str, str, int, str], str] = {}
    for node in plan.nodes.values():
        dev = node.device
        if dev is None or dev.kind.value != "gatekeeper":
            continue
        for rule in policy.rules:
            for port, target, _tp in rule.relays:
                listen = next((i.address for i in dev.interfaces if i.address and
                               topo.index(plan.dc).segment_zone.get(i.segment or "")
                               is not None and topo.index(plan.dc).segment_zone[
                                   i.segment or ""].name == rule.src_zone), None)
                if listen:
                    relay_of[(rule.src_zone, target, port, rule.protocol)] = listen
    probes: list[Probe] = []
    seen: set[tuple[str, str, str, int]] = set()

    def add(src: Node, dst: Node, sz: str, dz: str, proto: str, port: int, why: str) -> None:
        s, d = _addr(src), _addr(dst)
        key = (s, d, proto, port)
        if key in seen or s == d:
            return
        seen.add(key)
        connect = relay_of.get((sz, d, port, proto), d)
        expected = policy.allows(sz, dz, proto, port if proto != "icmp" else None, s, d)
        probes.append(Probe(sz, dz, src.key, dst.key, s, connect, dst.key, d, proto,
                            port if proto != "icmp" else 0, why, expected))

    for rule in policy.rules:
        src = _pick(members.get(rule.src_zone, []), rule.src_nets)
        dst = _pick(members.get(rule.dst_zone, []), rule.dst_nets)
        if src is None or dst is None:
            continue
        ports = rule.ports or (0,)
        proto = "tcp" if rule.protocol == "any" else rule.protocol
        for port in ports:
            p = port or CLOSED_PORT
            add(src, dst, rule.src_zone, rule.dst_zone, proto, p, f"flow {rule.name}")
            add(dst, src, rule.dst_zone, rule.src_zone, proto, p, f"reverse of {rule.name}")
    zones = [z for z, m in members.items() if m]
    for a in zones:
        for b in zones:
            if a == b:
                continue
            src, dst = members[a][0], members[b][0]
            add(src, dst, a, b, "tcp", CLOSED_PORT, "closed port")
            add(src, dst, a, b, "icmp", 0, "ping")
    return probes


def _ns_of(plan: LabPlan, node: str) -> str:
    return plan.nodes[node].netns


def run_probes(plan: LabPlan, probes: list[Probe], linger: float = 20.0) -> None:
    """Start listeners, run every client batch, fill ``observed``."""
    listeners: dict[str, set[tuple[str, str, int]]] = {}
    for p in probes:
        if p.protocol in ("tcp", "udp"):
            listeners.setdefault(p.listen_node, set()).add((p.listen, p.protocol, p.port))
    procs = []
    try:
        for node, specs in listeners.items():
            proc = subprocess.Popen(
                netns.ns_exec(_ns_of(plan, node), "python3", "-c", _LISTENER,
                              json.dumps(sorted(specs)), str(linger)),
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            procs.append(proc)
        for proc in procs:
            assert proc.stdout is not None
            proc.stdout.readline()  # "ready"
        by_src: dict[str, list[Probe]] = {}
        for p in probes:
            by_src.setdefault(p.src_node, []).append(p)
        clients = []
        for node, batch in by_src.items():
            payload = json.dumps([{"src": p.src, "dst": p.dst, "protocol": p.protocol,
                                   "port": p.port} for p in batch])
            clients.append((batch, subprocess.Popen(
                netns.ns_exec(_ns_of(plan, node), "python3", "-c", _CLIENT, payload),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
        for batch, proc in clients:
            out, _err = proc.communicate(timeout=120)
            results = json.loads(out) if proc.returncode == 0 and out.strip() else \
                [False] * len(batch)
            for p, ok in zip(batch, results, strict=True):
                p.observed = bool(ok)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def probe_lab(topo: Topology, plan: LabPlan) -> ProbeReport:
    report = ProbeReport(plan.dc.name, plan_probes(topo, plan))
    run_probes(plan, report.probes)
    return report
