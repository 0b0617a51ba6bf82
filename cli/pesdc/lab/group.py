"""Several centers in one lab, joined by their real uplinks.

A multi-center lab NAME holds one member lab per center, ``NAME-CENTER``: its own
namespaces, switch, keys and state, exactly what a single-center lab is, so that
apply, verify, net push and audit work on a member as they do on any lab. The group
adds what joins the members: each business-private-network uplink between two of its
centers becomes a point-to-point link with the uplink's latency and bandwidth between
the lower center's uplink interface and the upper center's interface for it (its
``downlink`` interface, or its own uplink of the same subnet for a ministry-city link
both ends declare). An uplink to a center outside the lab keeps its stand-in peer.

``--lab NAME --dc CENTER`` on any command means the member of that center
(:func:`resolve`). A far center may be brought up with only some of its servers
(``servers``); the group records it and ``lab status`` says so.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pesdc.i18n import N_
from pesdc.lab import netns
from pesdc.lab.errors import LabError
from pesdc.lab.paths import lab_dir, state_dir
from pesdc.localized import LocalizedText
from pesdc.model.schema import DataCenter, Interface, Uplink
from pesdc.model.tree import Topology

GROUP_FILE = "group.json"
MEMBER_FILE = "member-of"  # in a member's folder: the group's name
LAB_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,23}$")


def member_lab(group: str, center: str) -> str:
    return f"{group}-{center}"


@dataclass
class Group:
    name: str
    centers: list[str]
    # center -> the only servers of it the lab runs (a far center kept light); a center
    # not named here runs all its servers.
    servers: dict[str, list[str]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    delayline_pid: int | None = None

    @property
    def dir(self) -> Path:
        return lab_dir(self.name)

    def member(self, center: str) -> str:
        if center not in self.centers:
            raise LabError(N_("lab {name} holds {centers}, not {center}: bring it up with --dc "
                              "{center} too"), name=self.name,
                           centers=", ".join(self.centers), center=center)
        return member_lab(self.name, center)

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / (GROUP_FILE + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True))
        tmp.replace(self.dir / GROUP_FILE)
        for center in self.centers:
            d = lab_dir(self.member(center))
            d.mkdir(parents=True, exist_ok=True)
            (d / MEMBER_FILE).write_text(self.name + "\n")

    @classmethod
    def load(cls, name: str) -> Group | None:
        f = lab_dir(name) / GROUP_FILE
        if not f.is_file():
            return None
        return cls(**json.loads(f.read_text()))


def group_of(lab: str) -> Group | None:
    """The group a lab belongs to: itself (a group name) or its parent (a member)."""
    g = Group.load(lab)
    if g is not None:
        return g
    marker = lab_dir(lab) / MEMBER_FILE
    return Group.load(marker.read_text().strip()) if marker.is_file() else None


def resolve(lab: str, center: str) -> tuple[str, Group | None]:
    """The lab a center runs in (a group's member, or the lab itself) and its group."""
    g = group_of(lab)
    if g is None:
        return lab, None
    return g.member(center), g


# -- the links between members ---------------------------------------------------------
@dataclass
class CrossLink:
    """One uplink between two centers of the lab, from the lower center's end."""

    uplink: str
    kind: str
    lower: str  # center
    lower_node: str
    lower_if: str
    lower_addr: str  # CIDR
    upper: str
    upper_node: str
    upper_if: str
    upper_addr: str
    subnet: str
    bandwidth_mbps: float
    latency_ms: float  # round trip; half added each way


def _linux_names(dc: DataCenter) -> dict[tuple[str, str], str]:
    """(device, interface) -> the interface's name in the lab (plan.lab_view's rule)."""
    from pesdc.lab.plan import lab_view

    view = lab_view(dc)
    out = {}
    for real, lab in zip(dc.devices, view.devices, strict=True):
        for a, b in zip(real.interfaces, lab.interfaces, strict=False):
            out[(real.name, a.name)] = b.name
    return out


def _far_end(upper: DataCenter, lower: str, up: Uplink
             ) -> tuple[str, Interface] | None:
    """The upper center's interface for the lower center's uplink: a ``downlink``
    naming it, or an uplink interface of its own uplink of the same subnet."""
    ref = f"{lower}/{up.name}"
    same = {u.name for u in upper.uplinks if u.peer == lower and u.subnet == up.subnet}
    for dev in upper.devices:
        for itf in dev.interfaces:
            if itf.downlink == ref or (itf.uplink and itf.uplink in same):
                return dev.name, itf
    return None


def cross_links(topo: Topology, centers: list[str]) -> list[CrossLink]:
    """Every uplink between two of the centers, once (a link both ends declare is one
    subnet); LabError naming what to add when an upper end has no interface for it."""
    links: list[CrossLink] = []
    seen: set[str] = set()
    problems = []
    for name in centers:
        dc = topo.datacenters[name]
        for up in dc.uplinks:
            if up.downlink_of or up.peer not in centers or not (
                    up.subnet and up.local_address and up.peer_address):
                continue
            if up.subnet in seen:
                continue
            near = next(((d.name, i) for d in dc.devices for i in d.interfaces
                         if i.uplink == up.name), None)
            far = _far_end(topo.datacenters[up.peer], name, up)
            if near is None or far is None:
                problems.append(f"{up.peer if far is None else name} has no interface for "
                                f"{name}'s uplink {up.name}: add "
                                f"{{name: IFNAME, downlink: {name}/{up.name}}} to a router "
                                f"of {up.peer}" if far is None else
                                f"{name} has no interface with uplink: {up.name}")
                continue
            seen.add(up.subnet)
            plen = ipaddress.ip_network(up.subnet).prefixlen
            low_names = _linux_names(dc)
            high_names = _linux_names(topo.datacenters[up.peer])
            links.append(CrossLink(
                up.name, up.kind.value, name, near[0], low_names[(near[0], near[1].name)],
                f"{up.local_address}/{plen}", up.peer, far[0],
                high_names[(far[0], far[1].name)], f"{up.peer_address}/{plen}", up.subnet,
                up.bandwidth_mbps, up.latency_ms))
    if problems:
        raise LabError("cannot join the lab's centers:\n  " + "\n  ".join(problems))
    return links


def _ns(group: Group, center: str, node: str) -> str:
    from pesdc.lab.plan import _ns as node_ns

    return node_ns(group.member(center), node)


def links_healthy(group: Group, links: list[CrossLink]) -> bool:
    from pesdc.lab.runtime import NodeState

    if group.delayline_pid is None or not NodeState("", "", "", "", None,
                                                    group.delayline_pid).alive():
        return not links
    live = netns.existing()
    for lk in links:
        for center, node, ifname in ((lk.lower, lk.lower_node, lk.lower_if),
                                     (lk.upper, lk.upper_node, lk.upper_if)):
            ns = _ns(group, center, node)
            if ns not in live or ifname not in netns.links(ns):
                return False
    return True


def ensure_links(group: Group, links: list[CrossLink]) -> None:
    """The uplinks between the members through a delay line of the group's own (the
    kernel has no netem: pesdc.lab.delayline), shaped to their bandwidth."""
    if links_healthy(group, links):
        return
    if group.delayline_pid:
        netns.kill_pids([group.delayline_pid])
        group.delayline_pid = None
    ends = [((lk.lower, lk.lower_node, lk.lower_if, lk.lower_addr),
             (lk.upper, lk.upper_node, lk.upper_if, lk.upper_addr)) for lk in links]
    for pair in ends:
        for center, node, ifname, _addr in pair:
            netns.run(["ip", "-n", _ns(group, center, node), "link", "del", ifname],
                      check=False)
    if not links:
        group.save()
        return
    spec = [{"a_ns": _ns(group, a[0], a[1]), "a_if": a[2], "b_ns": _ns(group, b[0], b[1]),
             "b_if": b[2], "delay_ms": lk.latency_ms / 2.0}
            for (a, b), lk in zip(ends, links, strict=True)]
    spec_file = group.dir / "links.json"
    spec_file.write_text(json.dumps(spec, indent=1))
    host_ns = _ns(group, group.centers[0], "sw")
    log = (group.dir / "delayline.log").open("ab")
    proc = subprocess.Popen(
        netns.ns_exec(host_ns, sys.executable, "-m", "pesdc.lab.delayline", str(spec_file)),
        stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
        start_new_session=True, text=True)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise LabError(N_("the uplinks' delay line did not start (see {log})"),
                       log=f"{group.dir}/delayline.log")
    group.delayline_pid = proc.pid
    group.save()
    for (a, b), lk in zip(ends, links, strict=True):
        for center, node, ifname, addr in (a, b):
            ns = _ns(group, center, node)
            netns.configure_if(ns, ifname, [addr])
            netns.shape(ns, ifname, lk.bandwidth_mbps)


def set_uplink(group: Group, link: CrossLink, up: bool) -> None:
    """Cut (or restore) one uplink between two members, at both ends: a fault."""
    state = "up" if up else "down"
    for center, node, ifname in ((link.lower, link.lower_node, link.lower_if),
                                 (link.upper, link.upper_node, link.upper_if)):
        netns.run(["ip", "-n", _ns(group, center, node), "link", "set", ifname, state])


def find_link(topo: Topology, group: Group, ref: str) -> CrossLink:
    """The lab's uplink "center/uplink", named from either end (the lower center's name
    of it, or the upper center's own uplink or downlink mirror of it)."""
    links = cross_links(topo, group.centers)
    center, _, name = ref.partition("/")
    for lk in links:
        if (center, name) == (lk.lower, lk.uplink):
            return lk
        if center == lk.upper:
            ends = [u for u in topo.datacenters[center].uplinks
                    if u.name == name and u.subnet == lk.subnet]
            if ends:
                return lk
    known = ", ".join(f"{lk.lower}/{lk.uplink}" for lk in links) or "none"
    raise LabError(N_("lab {name} has no uplink {ref} between its centers (its uplinks: "
                      "{known})"), name=group.name, ref=ref, known=known)


# -- up and down -----------------------------------------------------------------------
def _check_request(topo: Topology, name: str, centers: list[str],
                   servers: dict[str, list[str]]) -> None:
    from pesdc.lab.runtime import Lab

    problems = []
    if not LAB_NAME.match(name):
        problems.append(f"lab name {name!r}: lower-case letters, digits, '-' and '_', "
                        "at most 24 characters")
    if len(set(centers)) != len(centers):
        problems.append("a center is named twice")
    for c in centers:
        if c not in topo.datacenters:
            problems.append(f"center {c!r} is not in this tree")
    for c, names in servers.items():
        if c not in centers:
            problems.append(f"--servers {c}:...: {c} is not one of the lab's centers "
                            f"({', '.join(centers)})")
            continue
        known = {s.name for s in topo.datacenters[c].servers} if c in topo.datacenters \
            else set()
        problems += [f"--servers {c}:{n}: {c} has no server {n}" for n in names
                     if n not in known]
    if Lab(name).exists():
        problems.append(f"lab {name} is a single-center lab already: take it down first "
                        "or choose another --name")
    for c in centers:
        member = member_lab(name, c)
        if Lab(member).exists() and group_of(member) is None:
            problems.append(f"a single-center lab {member} exists: its name is the one "
                            f"the member for {c} takes; take it down first")
    old = Group.load(name)
    if old is not None and (old.centers != centers or old.servers != servers):
        problems.append(f"lab {name} holds {', '.join(old.centers)}"
                        f"{' (servers ' + str(old.servers) + ')' if old.servers else ''}; "
                        "take it down first to change what it holds")
    if problems:
        raise LabError("cannot bring up the lab:\n  " + "\n  ".join(problems))


def up(topo: Topology, name: str, centers: list[str], servers: dict[str, list[str]],
       sources: list[str], log: Callable[[str], None], progress: Any = None
       ) -> dict[str, Any]:
    """Bring every center up as a member, then the uplinks between them (idempotent);
    ``progress`` (a :class:`pesdc.progress.Progress`) hears of each member's nodes."""
    import time

    from pesdc.lab.plan import build_plan
    from pesdc.lab.runtime import Lab

    started = time.monotonic()
    _check_request(topo, name, centers, servers)
    links = cross_links(topo, centers)  # before anything starts: a missing end is an error
    old = Group.load(name)
    group = Group(name, list(centers), dict(servers), list(sources),
                  old.delayline_pid if old else None)
    group.save()
    members = {}
    for c in centers:
        plan = build_plan(topo, c, name)
        members[c] = Lab(plan.lab).up(plan, sources, log, progress)
    if progress is not None:
        progress.note(f"lab {name}: joining {len(links)} uplinks between the centers")
    ensure_links(group, links)
    wait_routed(topo, group, links, log)
    return {"members": members, "uplinks": [f"{lk.lower}/{lk.uplink}" for lk in links],
            "seconds": round(time.monotonic() - started, 2)}


def _unrouted(topo: Topology, group: Group, links: list[CrossLink]) -> list[str]:
    """Each end router of an uplink without a route to a zone of the center at the other
    end (OSPF has not converged, or an end does not announce it)."""
    from pesdc.backbone import center_prefixes

    out = []
    for lk in links:
        for here, node, far in ((lk.lower, lk.lower_node, lk.upper),
                                (lk.upper, lk.upper_node, lk.lower)):
            ns = _ns(group, here, node)
            for prefix in center_prefixes(topo.datacenters[far]):
                res = subprocess.run(["ip", "-n", ns, "route", "show", prefix],
                                     capture_output=True, text=True)
                if not res.stdout.strip():
                    out.append(f"{here}/{node}: no route to {far}'s {prefix}")
    return out


def wait_routed(topo: Topology, group: Group, links: list[CrossLink], log: Callable[[str], None],
                timeout: float = 60) -> None:
    """Until every uplink's routers route the far center's zones: a lab is up when its
    centers reach each other, not when its processes run (probes sent earlier would
    read a route still missing as a blocked flow)."""
    import time

    deadline = time.monotonic() + timeout
    missing = _unrouted(topo, group, links)
    while missing and time.monotonic() < deadline:
        time.sleep(0.5)
        missing = _unrouted(topo, group, links)
    if missing:
        raise LabError(f"lab {group.name}: the centers are up but not routed to each other "
                       f"after {timeout:.0f} s (OSPF over the uplinks):\n  "
                       + "\n  ".join(missing[:12]))
    log(LocalizedText(N_("lab {name}: every uplink's routers route the far center's zones"),
                      name=group.name))


def down(name: str) -> dict[str, Any]:
    """The uplinks' delay line, then every member; then the group's folder."""
    import shutil
    import time

    from pesdc.lab.runtime import Lab

    started = time.monotonic()
    group = Group.load(name)
    if group is None:
        raise LabError(N_("no multi-center lab {name}"), name=name)
    if group.delayline_pid:
        netns.kill_pids([group.delayline_pid])
    nodes = 0
    for c in group.centers:
        member = Lab(group.member(c))
        if member.exists():
            nodes += int(member.down()["nodes"])
        shutil.rmtree(member.dir, ignore_errors=True)
    shutil.rmtree(group.dir, ignore_errors=True)
    return {"nodes": nodes, "ms": round((time.monotonic() - started) * 1000)}


def delayline_alive(group: Group) -> bool:
    from pesdc.lab.runtime import NodeState

    return group.delayline_pid is not None and \
        NodeState("", "", "", "", None, group.delayline_pid).alive()


def labs_up() -> dict[str, list[str]]:
    """Each lab with state on this machine and the centers it holds: a multi-center lab
    by its name (its members folded in), a single-center lab by its own."""
    root = state_dir() / "labs"
    out: dict[str, list[str]] = {}
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        grp = Group.load(d.name)
        if grp is not None:
            out[d.name] = list(grp.centers)
        elif (d / "state.json").is_file() and not (d / MEMBER_FILE).is_file():
            out[d.name] = [c for c in [_held(d.name)] if c]
    return out


def _held(lab: str) -> str | None:
    """The center a single-center lab's state says it runs (None: no state, or none
    recorded)."""
    f = lab_dir(lab) / "state.json"
    try:
        dc = json.loads(f.read_text()).get("dc") if f.is_file() else None
    except (OSError, ValueError):
        return None
    return dc if isinstance(dc, str) else None


def _listed(labs: dict[str, list[str]]) -> str:
    return ", ".join(f"{n} ({', '.join(c) or '?'})" for n, c in labs.items())


def _only_lab_up(center: str) -> str:
    """``--lab`` without a name: the only lab up; LabError when none or several are."""
    labs = labs_up()
    if len(labs) == 1:
        return next(iter(labs))
    if not labs:
        raise LabError(N_("--lab without a name: no lab is up; bring {center} up (pesdc lab "
                          "up PATH --dc {center}) and give --lab NAME; nothing was "
                          "contacted"), center=center)
    holders = [n for n, cs in labs.items() if center in cs]
    if holders:
        raise LabError(N_("--lab without a name: several labs are up: {labs}; say which "
                          "with --lab NAME ({center} is in {holders}); nothing was "
                          "contacted"), labs=_listed(labs), center=center,
                       holders=", ".join(holders))
    raise LabError(N_("--lab without a name: several labs are up: {labs}; none holds "
                      "{center}: bring it up (pesdc lab up PATH --dc {center} --name NAME) "
                      "and give --lab NAME; nothing was contacted"),
                   labs=_listed(labs), center=center)


def lab_for(lab: str | None, center: str) -> str:
    """What ``--lab [LAB] --dc CENTER`` names, for every command that takes ``--lab``:
    the member of a multi-center lab, or the lab itself; no name (``--lab`` alone): the
    only lab up. A LabError, raised before anything is contacted or journaled, when that
    lab does not hold the center (a lab of another city: every host would be
    unreachable), or when no lab or several are up and none is named. A lab without
    state is left to the command (:func:`pesdc.lab.enter.access` says it is not up)."""
    name = lab or _only_lab_up(center)
    member, group = resolve(name, center)  # a group's: LabError when not one of its own
    held = _held(member) if group is None else center
    if held is not None and held != center:
        others = [n for n, cs in labs_up().items() if center in cs]
        if others:
            raise LabError(N_("lab {name} holds {held}, not {center}; {center} is in "
                              "{others}: give --lab {first}; nothing was contacted"),
                           name=name, held=held, center=center, others=", ".join(others),
                           first=others[0])
        raise LabError(N_("lab {name} holds {held}, not {center}: bring {center} up (pesdc "
                          "lab up PATH --dc {center} --name NAME) and give --lab NAME; "
                          "nothing was contacted"), name=name, held=held, center=center)
    return member
