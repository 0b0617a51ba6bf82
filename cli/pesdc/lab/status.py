"""What ``pesdc lab status`` reports: a lab's nodes and their state, read from the lab's
state file and the namespaces and processes alive on this machine (the command only
formats it). A lab that is not up is a status too (``state: down``), never an empty
success."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pesdc.i18n import N_
from pesdc.lab.errors import LabError
from pesdc.lab.paths import state_dir
from pesdc.localized import LocalizedText

if TYPE_CHECKING:
    from pesdc.lab.runtime import Lab

UP, DOWN, DEGRADED = "up", "down", "degraded"


@dataclass
class LabStatus:
    lab: str | None  # None: no lab is up on this machine
    centers: list[str] | None = None  # a multi-center lab: its centers, in order
    servers: dict[str, list[str]] = field(default_factory=dict)  # center: the only ones up
    nodes: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        """up: every node up; down: none is (or the lab has none); degraded: some are."""
        up = [n for n in self.nodes if n["state"] == UP]
        if self.nodes and len(up) == len(self.nodes):
            return UP
        return DEGRADED if up else DOWN

    @property
    def down_nodes(self) -> list[str]:
        return [n["node"] for n in self.nodes if n["state"] != UP]

    def as_dict(self) -> dict[str, Any]:
        return {"lab": self.lab, "state": self.state, "centers": self.centers,
                "servers": self.servers, "nodes": self.nodes, "notes": self.notes}


def existing_labs() -> list[str]:
    """The labs with a state file on this machine (multi-center members included)."""
    d = state_dir() / "labs"
    return sorted(p.name for p in d.iterdir() if (p / "state.json").is_file()) \
        if d.is_dir() else []


def pick_lab(name: str | None) -> Lab:
    """The lab named, or the only one up; LabError when none or several are up."""
    from pesdc.lab.runtime import Lab

    if name:
        return Lab(name)
    labs = existing_labs()
    if len(labs) == 1:
        return Lab(labs[0])
    if not labs:
        raise LabError(N_("no lab is up (pesdc lab up PATH)"))
    raise LabError(N_("several labs are up: {labs}; choose one with --name"),
                   labs=", ".join(labs))


def lab_status(name: str | None) -> LabStatus:
    """The status of lab ``name`` (default: the only lab up). No lab at all, or one
    without a state file, is ``down`` with a note saying so; several labs up without a
    name is a LabError (which one is meant cannot be guessed)."""
    from pesdc.lab.group import Group

    grp = Group.load(name) if name else None
    if grp is not None:
        return _group_status(grp)
    if name is None and not existing_labs():
        return LabStatus(None, notes=[LocalizedText(N_("no lab is up (pesdc lab up PATH)"))])
    lab = pick_lab(name)
    out = LabStatus(lab.name, nodes=node_rows(lab, None))
    if not lab.exists():
        out.notes.append(LocalizedText(N_("lab {name} is not up: it has no state on this "
                                          "machine (pesdc lab up PATH --name {name})"),
                                       name=lab.name))
    return out


def _group_status(grp: Any) -> LabStatus:
    from pesdc.lab import group as lab_group
    from pesdc.lab.runtime import Lab

    out = LabStatus(grp.name, list(grp.centers), dict(grp.servers))
    for c in grp.centers:
        out.nodes += node_rows(Lab(grp.member(c)), c)
    for c, names in sorted(grp.servers.items()):
        servers = _group_servers(grp, c)  # the tree validated once per center
        left = [s.name for s in servers if s.name not in names]
        out.notes.append(f"{c}: only servers {', '.join(names)} are in this lab; "
                         f"{len(left)} left out ({', '.join(left)}): their checks are "
                         "errors, never passes")
        out.notes += lonely(c, [s for s in servers if s.name in names])
    alive = grp.delayline_pid is not None and lab_group.delayline_alive(grp)
    out.nodes.append({"center": None, "node": "uplinks", "host": grp.name, "role": "link",
                      "state": UP if alive else DOWN, "address": None,
                      "pid": grp.delayline_pid})
    return out


def lonely(center: str, kept: list[Any]) -> list[str]:
    """Zones of a light center where one server is kept: a probe from it that gets no
    answer has no neighbour to show it could send, so it is an error, not a block."""
    zones: dict[str, list[str]] = {}
    for s in kept:
        zones.setdefault(s.zone, []).append(s.name)
    return [f"{center}: zone {z} keeps one server ({names[0]}): its probes that get no "
            "answer cannot be told blocked (no neighbour to answer it); keep two"
            for z, names in sorted(zones.items()) if len(names) == 1]


def _group_servers(grp: Any, center: str) -> list[Any]:
    """The center's servers, from the tree the group was brought up from."""
    from pesdc.model import validate

    topo = validate(grp.sources).topology
    dc = topo.datacenters.get(center)
    return list(dc.servers) if dc else []


def node_rows(lab: Lab, center: str | None) -> list[dict[str, Any]]:
    """One row per node of ``lab`` (and its operator namespace): up when its namespace
    exists and its process is alive. ``center`` only in a multi-center lab."""
    from pesdc.lab import netns
    from pesdc.lab import operator as lab_operator

    nodes = lab.nodes()
    live = netns.existing() if nodes else set()
    rows: list[dict[str, Any]] = []
    for st in nodes.values():
        ok = st.netns in live and st.alive()
        rows.append({"center": center, "node": st.name, "host": st.host, "role": st.role,
                     "state": UP if ok else DOWN, "address": st.mgmt, "pid": st.pid})
    op = lab_operator.status(lab.name) if nodes else None
    if op is not None:  # the workstation outside the center: one route, to the bastion
        rows.append({"center": center, "node": "operator", "host": op["netns"],
                     "role": "operator", "state": op["state"], "address": op["address"],
                     "pid": None, "routes": op["routes"]})
    return rows
