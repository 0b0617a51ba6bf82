"""What changes between two topology versions, object by object.

Objects are matched by name inside each center (segments by zone/segment, isolation
pairs by their two zones, flows by pair and name or shape); a changed object lists
its changed fields old -> new. Values compared are the loaded models' (defaults
applied), so a move of a value into ``defaults:`` is not a change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pesdc.model.diagnostics import N_
from pesdc.model.schema import DataCenter, Flow
from pesdc.model.tree import Topology

SECTIONS = ("zones", "segments", "isolation", "flows", "devices", "servers", "databases",
            "systems", "sites", "links", "uplinks")
NESTED = {"zones": ("segments",), "isolation": ("flows",)}


@dataclass
class Change:
    center: str
    kind: str  # center, zones, segments, isolation, flows, devices, ...
    name: str
    action: str  # added, removed, changed
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"center": self.center, "kind": self.kind, "name": self.name,
                "action": self.action,
                "fields": {k: {"old": o, "new": n} for k, (o, n) in self.fields.items()}}


def _flow_key(flow: Flow) -> str:
    if flow.name:
        return flow.name
    ports = ",".join(map(str, flow.ports)) or "-"
    return f"{flow.src}->{flow.dst} {flow.protocol.value}/{ports}"


def _objects(dc: DataCenter) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in SECTIONS}
    for z in dc.zones:
        out["zones"][z.name] = z.model_dump(mode="json", exclude={"segments"})
        for s in z.segments:
            out["segments"][f"{z.name}/{s.name}"] = s.model_dump(mode="json")
    for iso in dc.isolation:
        pair = "<->".join(sorted(iso.between))
        out["isolation"][pair] = iso.model_dump(mode="json", exclude={"flows", "between"})
        for f in iso.flows:
            out["flows"][f"{pair}: {_flow_key(f)}"] = f.model_dump(mode="json")
    for section in ("devices", "servers", "databases", "systems", "sites", "links",
                    "uplinks"):
        for obj in getattr(dc, section):
            out[section][obj.name] = obj.model_dump(mode="json")
    return out


def _named(value: Any) -> dict[str, Any] | None:
    """A list of named mappings (interfaces, ...) keyed by name, else None."""
    if isinstance(value, list) and value and all(
            isinstance(v, dict) and isinstance(v.get("name"), str) for v in value):
        keyed = {v["name"]: v for v in value}
        return keyed if len(keyed) == len(value) else None
    return None


def _fields(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    out: dict[str, tuple[Any, Any]] = {}
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if a == b:
            continue
        na, nb = _named(a), _named(b)
        if na is not None and nb is not None:
            # Item by item: interfaces[eth2] removed, interfaces[eth1].address changed.
            for item in sorted(set(na) | set(nb)):
                if item not in na or item not in nb:
                    out[f"{k}[{item}]"] = (na.get(item), nb.get(item))
                    continue
                for sub, (x, y) in _fields(na[item], nb[item]).items():
                    out[f"{k}[{item}].{sub}"] = (x, y)
            continue
        out[k] = (a, b)
    return out


def _header(dc: DataCenter) -> dict[str, Any]:
    return dc.model_dump(mode="json", include={
        "name", "tier", "division_code", "title", "parent", "hosted_by", "stage",
        "high_speed_mbps", "security"})


def diff(old: Topology, new: Topology) -> list[Change]:
    changes: list[Change] = []
    for name in sorted(set(old.datacenters) | set(new.datacenters)):
        a, b = old.datacenters.get(name), new.datacenters.get(name)
        if a is None or b is None:
            changes.append(Change(name, "center", name, "added" if a is None else "removed"))
            continue
        head = _fields(_header(a), _header(b))
        if head:
            changes.append(Change(name, "center", name, "changed", head))
        oa, ob = _objects(a), _objects(b)
        for section in SECTIONS:
            xa, xb = oa[section], ob[section]
            for key in sorted(set(xa) | set(xb)):
                if key not in xa:
                    changes.append(Change(name, section, key, "added"))
                elif key not in xb:
                    changes.append(Change(name, section, key, "removed"))
                else:
                    f = _fields(xa[key], xb[key])
                    if f:
                        changes.append(Change(name, section, key, "changed", f))
    return changes


def _short(value: Any) -> str:
    text = str(value) if not isinstance(value, str) else value
    return text if len(text) <= 120 else text[:117] + "..."


# the words of the text, translated where it is shown (format_text's gettext)
ACTIONS = {"added": N_("added"), "removed": N_("removed"), "changed": N_("changed")}
NO_CHANGES = N_("no changes")
SUMMARY = N_("{n} change(s): {added} added, {removed} removed, {changed} changed")


def format_text(changes: list[Change], gettext: Callable[[str], str] = str) -> str:
    """The changes for a reader, one line each; ``gettext`` translates its own words
    (names, kinds and values stay as the topology has them)."""
    if not changes:
        return gettext(NO_CHANGES)
    lines = []
    for c in changes:
        sign = {"added": "+", "removed": "-", "changed": "~"}[c.action]
        lines.append(f"{sign} {c.center} {c.kind[:-1] if c.kind.endswith('s') else c.kind} "
                     f"{c.name} {gettext(ACTIONS[c.action])}")
        for k, (o, n) in c.fields.items():
            lines.append(f"    {k}: {_short(o)} -> {_short(n)}")
    counts = {a: sum(c.action == a for c in changes) for a in ("added", "removed", "changed")}
    lines.append(gettext(SUMMARY).format(n=len(changes), **counts))
    return "\n".join(lines)
