"""Isolation proved with real packets: TCP, UDP and ICMP probes across every zone pair.

For every flow of the policy (and its reverse), and for a port no policy allows in
every zone pair, a probe goes from a lab node in the source zone to a listener on a
node in the destination; the expected result is what the normalised policy says
(``CenterPolicy.allows``). Listeners and clients are one small agent per namespace,
run with the machine's python3 inside that namespace only.

A probe that got no answer is "blocked" only with evidence from the same run that
both ends worked (pesdc.verdict: otherwise it is an error, naming the side):

- the source can send: a probe from it got an answer (an allowed flow, or a control
  probe to a neighbour on its own segment or to its gateway, run in the same batch);
- the destination answers: its listener connected to itself from inside its own
  namespace before and after the clients ran (for a port a real service holds: that
  service answered, or for UDP, the port is bound), and the destination node has
  itself been seen on the network (a probe to or from it got an answer).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import select
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from pesdc.lab import netns
from pesdc.lab.plan import LabPlan, Node
from pesdc.model.schema import ZoneKind
from pesdc.model.tree import Topology
from pesdc.policy import CenterPolicy
from pesdc.verdict import Verdict, tally

CLOSED_PORT = 7  # echo: no policy of a center allows it; a probe for "denied"
CONTROL_PORT = 9  # discard: a control listener on a source's neighbour (same segment)

# What a client saw for one probe. "pass" is an answer; the next three are what a
# blocked flow looks like (and also a dead listener or a source that cannot send: the
# controls tell them apart); "error" is a probe that could not be sent at all.
SEEN_PASS = "pass"
SEEN_BLOCKED = ("timeout", "refused", "unreachable")
SEEN_ERROR = "error"

_LISTENER = r"""
import errno, json, os, socket, struct, subprocess, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
specs = [tuple(s) for s in json.loads(sys.argv[1])]
def why(e):
    return e.strerror or str(e) or type(e).__name__
state = {}  # spec -> (ours | service | kernel | failed, detail)
socks = []
for spec in specs:
    addr, proto, port = spec
    if proto == "icmp":
        state[spec] = ("kernel", "")
        continue
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((addr, port))
    except OSError as e:
        s.close()
        in_use = e.errno == errno.EADDRINUSE  # a real service holds it: probes reach it
        state[spec] = ("service" if in_use else "failed", "bind: " + why(e))
        continue
    if proto == "tcp":
        s.listen(128)
    socks.append((s, proto))
    state[spec] = ("ours", "")
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
def udp_bound(addr, port):
    with open("/proc/net/udp") as fh:
        for line in fh.read().splitlines()[1:]:
            ip, p = line.split()[1].split(":")
            ip = socket.inet_ntoa(struct.pack("<I", int(ip, 16)))
            if int(p, 16) == port and ip in (addr, "0.0.0.0"):
                return True
    return False
def check(spec):
    addr, proto, port = spec
    how, detail = state[spec]
    row = [addr, proto, port, how]
    if how == "failed":
        return row + [False, detail]
    if proto == "icmp":
        r = subprocess.run(["ping", "-n", "-q", "-c", "1", "-W", "3", addr],
                           capture_output=True, text=True)
        if r.returncode == 0:
            return row + [True, "answered its own ping"]
        return row + [False, "no answer to its own ping " + (r.stderr.strip() or
                                                             "(ping exited %d)" % r.returncode)]
    who = "a service already bound there" if how == "service" else "its listener"
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else
                      socket.SOCK_DGRAM)
    c.settimeout(3.0)  # its own stack: only a failure waits this long
    try:
        c.connect((addr, port))
        if proto == "udp":
            c.send(b"pesdc-probe"); c.recv(512)
        return row + [True, who + " answered its own connect"]
    except OSError as e:
        if proto == "udp" and how == "service" and udp_bound(addr, port):
            return row + [True, "bound by a service already there (it does not echo the "
                                "probe: " + why(e) + ")"]
        return row + [False, "its own connect to %s %s/%d: %s" % (addr, proto, port, why(e))]
    finally:
        c.close()
def report():
    with ThreadPoolExecutor(32) as ex:
        print(json.dumps(list(ex.map(check, specs))), flush=True)
def watchdog():
    time.sleep(float(sys.argv[2])); os._exit(3)
threading.Thread(target=watchdog, daemon=True).start()
report()
for line in sys.stdin:
    if line.strip() == "check":
        report()
"""

_CLIENT = r"""
import errno, json, socket, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
probes = json.loads(sys.argv[1])
UNREACH = (errno.EHOSTUNREACH, errno.ENETUNREACH)
def why(e):
    return e.strerror or str(e) or type(e).__name__
def one(p):
    src, dst, proto, port = p["src"], p["dst"], p["protocol"], p["port"]
    try:
        # The route lookup of a connected UDP socket sends nothing: a source without
        # its address or without a route cannot send, which is not "blocked".
        r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            r.bind((src, 0)); r.connect((dst, port or 9))
        except OSError as e:
            return ["error", "cannot send from %s to %s: %s" % (src, dst, why(e))]
        finally:
            r.close()
        if proto == "icmp":
            res = subprocess.run(["ping", "-n", "-q", "-c", "1", "-W", "1", "-I", src, dst],
                                 capture_output=True, text=True)
            if res.returncode == 0:
                return ["pass", "echo reply"]
            if res.returncode == 1:
                if "error" in res.stdout:
                    return ["unreachable", "destination unreachable"]
                return ["timeout", "no echo reply in 1 s"]
            return ["error", "ping exited %d: %s" % (res.returncode, res.stderr.strip()[-300:])]
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        s = socket.socket(socket.AF_INET, kind)
        s.settimeout(1.0)
        try:
            s.bind((src, 0))
            s.connect((dst, port))
            if proto == "udp":
                s.send(b"pesdc-probe"); s.recv(512)
                return ["pass", "echo reply"]
            return ["pass", "connected"]
        except TimeoutError:
            return ["timeout", "no answer in 1 s"]
        except ConnectionRefusedError:
            return ["refused", "connection refused"]
        except OSError as e:
            return ["unreachable" if e.errno in UNREACH else "error", why(e)]
        finally:
            s.close()
    except Exception as e:
        return ["error", "client: %s: %s" % (type(e).__name__, e)]
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
    observed: bool | None = None  # whether an answer came (None: nothing was sent)
    seen: str = ""  # what the client saw: pass, timeout, refused, unreachable or error
    detail: str = ""  # the client's words for it
    error: str = ""  # why there is no verdict, naming the side that failed
    evidence: str = ""  # what backs the verdict (the controls, for a blocked probe)

    @property
    def verdict(self) -> Verdict:
        if self.error or self.observed is None:
            return Verdict.error
        return Verdict.passed if self.observed == self.expected else Verdict.failed

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.passed

    @property
    def cause(self) -> str:
        if self.verdict is not Verdict.error:
            return ""
        return self.error or "not run"

    def as_dict(self) -> dict[str, object]:
        return vars(self) | {"ok": self.ok, "verdict": self.verdict.value,
                             "cause": self.cause}


@dataclass
class SpecCheck:
    """A listener's own connect to one of its addresses/ports, inside its namespace."""

    bound: str  # ours (the listener bound it) | service (already bound) | kernel (ICMP)
    #             | failed (could not bind)
    answers: bool
    detail: str


@dataclass
class Listener:
    node: str
    error: str = ""  # "did not start: ..." or "exited during the run: ..."
    specs: dict[tuple[str, str, int], SpecCheck] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"error": self.error,
                "specs": [[a, pr, po, c.bound, c.answers, c.detail]
                          for (a, pr, po), c in sorted(self.specs.items())]}


@dataclass
class ProbeReport:
    dc: str
    probes: list[Probe] = field(default_factory=list)
    controls: list[Probe] = field(default_factory=list)  # evidence only, never judged
    listeners: dict[str, Listener] = field(default_factory=dict)

    @property
    def mismatches(self) -> list[Probe]:
        return [p for p in self.probes if p.verdict is Verdict.failed]

    @property
    def errors(self) -> list[Probe]:
        return [p for p in self.probes if p.verdict is Verdict.error]

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.errors

    def counts(self) -> dict[str, int]:
        c = tally(p.verdict for p in self.probes)
        return {v.value: c[v] for v in (Verdict.passed, Verdict.failed, Verdict.error)}

    def as_dict(self) -> dict[str, object]:
        return {"dc": self.dc, "probes": [p.as_dict() for p in self.probes],
                "controls": [dict(vars(c)) for c in self.controls],
                "listeners": {n: lst.as_dict() for n, lst in sorted(self.listeners.items())},
                "counts": self.counts(), "mismatches": len(self.mismatches),
                "errors": len(self.errors)}


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
    policy = policy or plan.facts.policy
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


class Nodes(Protocol):
    """What running probes needs of a plan: its nodes by key (a lab plan, or the
    joined members of a multi-center lab: pesdc.lab.crossprobe)."""

    nodes: dict[str, Node]


def _ns_of(plan: Nodes, node: str) -> str:
    return plan.nodes[node].netns


# Nodes that can hold a control listener: hosts, management ports and sites (gear has
# its own input policy, and the controller shares the bastion's namespace).
_CONTROL_ROLES = ("server", "mgmt", "site")

# How an agent (listener or client) is started on a node: node key, the command
# (python3 -c AGENT ARGS...) -> the argv to run. The default runs it in the node's lab
# namespace; a live run starts it on the server over SSH through the bastion. OSError:
# the agent cannot start there (its probes are errors naming that).
Runner = Callable[[str, list[str]], list[str]]


def plan_controls(plan: Nodes, nodes: set[str],
                  roles: tuple[str, ...] = _CONTROL_ROLES) -> list[Probe]:
    """Control probes from each node: to a neighbour on its own segment (a control
    listener there) and a ping to its gateway. An answer to either shows the node's
    stack and interface can send and receive, so that its probes that got no answer
    can be trusted as blocked; they run in the same batch as the node's probes."""
    owner = {i.addresses[k].split("/")[0]: n.key for n in plan.nodes.values()
             for i in n.interfaces for k in range(len(i.addresses))}
    out: list[Probe] = []
    for key in sorted(nodes):
        node = plan.nodes[key]
        if not node.interfaces or not node.interfaces[0].addresses:
            continue
        mine = ipaddress.ip_interface(node.interfaces[0].addresses[0])
        src = str(mine.ip)
        for other in sorted(plan.nodes.values(), key=lambda n: (n.role != "server", n.key)):
            if other.role not in roles or other.alias_of or \
                    other.netns == node.netns:
                continue
            addr = next((a.split("/")[0] for i in other.interfaces for a in i.addresses
                         if ipaddress.ip_interface(a).ip in mine.network), None)
            if addr is not None:
                out.append(Probe("", "", key, other.key, src, addr, other.key, addr, "tcp",
                                 CONTROL_PORT, f"control: neighbour {other.key}", True))
                break
        gateway = next((via for _prefix, via in node.routes), None)
        if gateway is not None:
            gw_node = owner.get(gateway, "")
            out.append(Probe("", "", key, gw_node, src, gateway, gw_node, gateway, "icmp", 0,
                             f"control: gateway {gateway}", True))
    return out


def _said(p: Probe) -> str:
    port = "" if p.protocol == "icmp" else f"/{p.port}"
    return f"{p.protocol}{port} to {p.dst} ({p.why}): {p.detail or p.seen or 'not run'}"


def judge(probes: list[Probe], controls: list[Probe], listeners: dict[str, Listener]
          ) -> None:
    """Turn what the clients saw into verdicts (``observed``, ``error``, ``evidence``).

    An answer is its own evidence. No answer is "blocked" only when, in the same run,
    the source got an answer to something it sent (a probe or a control) and the
    listener answered its own connect on that address and port (before and after the
    clients ran) and its node got an answer to or from the network; otherwise the
    probe is an error naming the side that failed. A probe already holding an error
    (its client crashed, its listener did not start) keeps it.
    """
    sent: dict[str, Probe] = {}  # node -> a probe from it that got an answer
    on_net: dict[str, Probe] = {}  # node -> a probe from or to it that got an answer
    for p in [*probes, *controls]:
        if p.seen == SEEN_PASS and not p.error:
            sent.setdefault(p.src_node, p)
            on_net.setdefault(p.src_node, p)
            if p.listen_node:
                on_net.setdefault(p.listen_node, p)
    for p in probes:
        if p.error:
            p.observed = None
            continue
        if p.seen == SEEN_PASS:
            p.observed = True
            p.evidence = p.detail
            continue
        if p.seen not in SEEN_BLOCKED:
            p.observed = None
            p.error = f"source {p.src_node} could not send: {p.detail or 'no result'}"
            continue
        p.observed = False
        src_ok = sent.get(p.src_node)
        if src_ok is None:
            tried = [_said(c) for c in [*probes, *controls] if c.src_node == p.src_node
                     and c.why.startswith("control:")]
            p.error = (f"source {p.src_node} could not send: nothing it sent got an answer "
                       f"in this run (controls: {'; '.join(tried) or 'none possible'})")
            continue
        lst = listeners.get(p.listen_node)
        if lst is None or lst.error:
            p.error = f"listener on {p.listen_node} " \
                      f"{lst.error if lst else 'did not start: no listener'}"
            continue
        chk = lst.specs.get((p.listen, p.protocol, p.port))
        what = p.protocol if p.protocol == "icmp" else f"{p.protocol}/{p.port}"
        if chk is None or not chk.answers:
            p.error = f"listener on {p.listen_node} did not answer {what} on {p.listen}: " \
                      f"{chk.detail if chk else 'not set up'}"
            continue
        dst_ok = on_net.get(p.listen_node)
        if dst_ok is None:
            p.error = (f"listener on {p.listen_node} answered only inside its namespace: "
                       f"nothing sent to or from {p.listen_node} got an answer in this run")
            continue
        p.evidence = f"{p.seen}; source {p.src_node} sent: {_said(src_ok)}; listener on " \
                     f"{p.listen_node}: {chk.detail}"


def merge_checks(node: str, before: list[list[object]] | None,
                 after: list[list[object]] | None, cause: str = "") -> Listener:
    """A listener's two rounds of self-checks (before and after the clients): a spec
    answers only if it answered in both."""
    lst = Listener(node)
    if before is None:
        lst.error = f"did not start: {cause or 'no report from the listener'}"
        return lst
    if after is None:
        lst.error = f"exited during the run: {cause or 'no report after the probes'}"
    later = {(str(r[0]), str(r[1]), int(str(r[2]))): r for r in after or []}
    for row in before:
        spec = (str(row[0]), str(row[1]), int(str(row[2])))
        ok, detail = bool(row[4]), str(row[5])
        then = later.get(spec)
        if ok and then is not None and not then[4]:
            ok, detail = False, f"after the probes: {then[5]}"
        lst.specs[spec] = SpecCheck(str(row[3]), ok, detail)
    return lst


def _readline(proc: subprocess.Popen[str], deadline: float) -> str | None:
    """One line from a process's stdout by a deadline; None if it ended or timed out."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        buf += chunk
    return buf.decode()


def _rows(line: str | None) -> list[list[object]] | None:
    try:
        rows = json.loads(line) if line else None
    except ValueError:
        return None
    return rows if isinstance(rows, list) else None


def _stderr_of(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        return ""
    assert proc.stderr is not None
    with contextlib.suppress(OSError, ValueError):
        return proc.stderr.read().strip()[-500:]
    return ""


def run_probes(plan: Nodes, probes: list[Probe], linger: float = 300.0,
               start_timeout: float = 120.0, runner: Runner | None = None,
               control_roles: tuple[str, ...] = _CONTROL_ROLES) -> ProbeReport:
    """Start listeners (which check themselves), run every client batch with its
    source's controls, check the listeners again, and judge. Fills each probe's
    ``observed``, ``error`` and ``evidence``; the report also holds the controls and
    what each listener bound and answered. ``linger`` bounds a listener's life (it also
    ends when its stdin closes). ``runner``: where the agents run (the lab namespaces
    by default); ``control_roles``: the nodes that may hold a control listener."""
    def in_ns(node: str, cmd: list[str]) -> list[str]:
        return netns.ns_exec(_ns_of(plan, node), *cmd)

    run = runner or in_ns
    nodes = {p.src_node for p in probes} | {p.listen_node for p in probes}
    controls = plan_controls(plan, nodes, control_roles)
    # What each listener serves and checks: every probe's address and port (ICMP: the
    # address it pings itself on) and the control port of a neighbour.
    specs: dict[str, set[tuple[str, str, int]]] = {}
    for p in [*probes, *(c for c in controls if c.protocol != "icmp")]:
        specs.setdefault(p.listen_node, set()).add((p.listen, p.protocol, p.port))
    procs: dict[str, subprocess.Popen[str]] = {}
    listeners: dict[str, Listener] = {}
    try:
        for node, node_specs in specs.items():
            try:
                procs[node] = subprocess.Popen(
                    run(node, ["python3", "-c", _LISTENER, json.dumps(sorted(node_specs)),
                               str(linger)]),
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    text=True)
            except OSError as exc:
                listeners[node] = Listener(node, f"did not start: {exc}")
        deadline = time.monotonic() + start_timeout
        before = {node: _rows(_readline(proc, deadline)) for node, proc in procs.items()}
        _run_clients(plan, [*probes, *controls], run)
        deadline = time.monotonic() + start_timeout
        for node, proc in procs.items():
            listeners[node] = _check_again(node, proc, before[node], deadline,
                                           start_timeout)
    finally:
        for proc in procs.values():
            if proc.stdin is not None:  # the listener ends at the end of its stdin
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
    judge(probes, controls, listeners)
    name = plan.dc.name if isinstance(plan, LabPlan) else str(getattr(plan, "name", ""))
    return ProbeReport(name, probes, controls, listeners)


def _run_clients(plan: Nodes, probes: list[Probe], run: Runner) -> None:
    """One client per source node, all at once, each sending its batch of probes; what
    each probe saw is filled in (or the error of a client that did not run through)."""
    by_src: dict[str, list[Probe]] = {}
    for p in probes:
        by_src.setdefault(p.src_node, []).append(p)
    clients = []
    for node, batch in by_src.items():
        payload = json.dumps([{"src": p.src, "dst": p.dst, "protocol": p.protocol,
                               "port": p.port} for p in batch])
        try:
            clients.append((node, batch, subprocess.Popen(
                run(node, ["python3", "-c", _CLIENT, payload]), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
        except OSError as exc:
            for p in batch:
                p.error = f"client on {node} could not start: {exc}"
    for node, batch, proc in clients:
        _client_results(node, batch, proc)


def _client_results(node: str, batch: list[Probe], proc: subprocess.Popen[str]) -> None:
    """A client's answer, one row per probe of its batch; a client that did not finish
    or gave no such answer makes every probe of its batch an error."""
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        crash = f"client on {node} did not finish in 120 s"
    else:
        crash = ""
    results = _rows(out) if proc.returncode == 0 else None
    if not crash and (results is None or len(results) != len(batch)):
        crash = f"client on {node} crashed (exit {proc.returncode}): " \
                f"{err.strip()[-500:] or 'no output'}"
    for i, p in enumerate(batch):
        if crash:
            p.error = crash
            continue
        assert results is not None
        row = results[i]
        ok_row = isinstance(row, list) and len(row) == 2
        p.seen = str(row[0]) if ok_row else SEEN_ERROR
        p.detail = str(row[1]) if ok_row else f"client gave {row!r}"


def _check_again(node: str, proc: subprocess.Popen[str], before: list[list[object]] | None,
                 deadline: float, start_timeout: float) -> Listener:
    """A listener's self-checks after the clients ran, merged with those before."""
    after = None
    if before is not None and proc.poll() is None:
        assert proc.stdin is not None
        with contextlib.suppress(OSError):
            proc.stdin.write("check\n")
            proc.stdin.flush()
        after = _rows(_readline(proc, deadline))
    cause = _stderr_of(proc) or ("" if proc.poll() is None else f"exited {proc.returncode}")
    if before is None and not cause:
        cause = f"no report in {start_timeout:.0f} s"
    return merge_checks(node, before, after, cause)


def probe_lab(topo: Topology, plan: LabPlan) -> ProbeReport:
    return run_probes(plan, plan_probes(topo, plan))
