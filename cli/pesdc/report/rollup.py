"""The roll-up: each center of the tree with its stage, audit, verify and the age of its
evidence; and the cities that may move to their next stage.

A city may move on when the stage check (:mod:`pesdc.stages.check`, what `pesdc stage
check` runs) says it already meets the stage after the one it declares, and its evidence
holds: verify passed, no high-risk finding, both fresh. A city the topology allows but
the evidence does not is listed as held, with the reasons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pesdc.i18n import N_
from pesdc.model.tree import Topology
from pesdc.model.yamlio import Locator
from pesdc.report.evidence import Evidence, age_days
from pesdc.stages.check import CityStage, check_all

FORMAT_VERSION = 1
TIERS = ("ministry", "province", "city")


@dataclass
class Options:
    stale_days: float = 30.0
    now: float | None = None  # seconds since the epoch (tests); default: the clock


def rollup(topo: Topology, locator: Locator, ev: Evidence, opts: Options) -> dict[str, Any]:
    stages = {s.name: s for s in check_all(topo, locator)}
    centers = {name: _center(topo, name, stages.get(name), ev, opts)
               for name in topo.datacenters}
    roots = sorted(n for n, c in centers.items() if not _parent_of(topo, n, centers))
    for name in sorted(centers):
        parent = _parent_of(topo, name, centers)
        if parent:
            centers[parent]["children"].append(centers[name])
    ready, held = _movers(centers.values())
    return {"format_version": FORMAT_VERSION, "stale_days": opts.stale_days,
            "tree": [centers[n] for n in roots], "ready": ready, "held": held,
            "counts": _counts(centers.values())}


def _parent_of(topo: Topology, name: str, centers: dict[str, Any]) -> str | None:
    dc = topo.datacenters[name]
    parent = dc.hosted_by or dc.parent
    return parent if parent in centers else None


def _center(topo: Topology, name: str, stage: CityStage | None, ev: Evidence,
            opts: Options) -> dict[str, Any]:
    dc = topo.datacenters[name]
    audit, verify = ev.audit.get(name), ev.verify.get(name)
    out: dict[str, Any] = {
        "name": name, "title": {"zh": dc.title.zh, "en": dc.title.en}, "tier": dc.tier.value,
        "hosted_by": dc.hosted_by, "stage": None, "audit": None, "verify": None,
        "evidence": "none" if not dc.hosted else "hosted", "children": []}
    if stage is not None:
        out["stage"] = {"declared": stage.declared, "meets": stage.meets, "next": stage.next,
                        "unmet_for_next": len([r for r in stage.requirements if r.blocking])}
    if audit is not None:
        age = age_days(audit.mtime, opts.now)
        out["audit"] = {"file": audit.file, "overall": audit.overall, "counts": audit.counts,
                        "high_risk": [vars(f) for f in audit.high], "age_days": age,
                        "stale": age > opts.stale_days}
    if verify is not None:
        age = age_days(verify.mtime, opts.now)
        out["verify"] = {"file": verify.file, "state": verify.state, "passed": verify.passed,
                         "failed": verify.failures, "errors": verify.errors,
                         "skipped": verify.skipped, "age_days": age,
                         "stale": age > opts.stale_days}
    if not dc.hosted:
        out["evidence"] = _evidence_state(out["audit"], out["verify"])
    return out


def _evidence_state(audit: dict[str, Any] | None, verify: dict[str, Any] | None) -> str:
    """none (nothing), partial (one of the two), stale (any too old), complete."""
    if audit is None and verify is None:
        return "none"
    if audit is None or verify is None:
        return "partial"
    return "stale" if audit["stale"] or verify["stale"] else "complete"


def held_because(c: dict[str, Any]) -> list[str]:
    """Why the evidence does not let a city move on (empty: it does). Keys, translated
    by the page."""
    why = []
    if c["verify"] is None:
        why.append(N_("no verify result"))
    elif c["verify"]["state"] != "pass":
        why.append(N_("verify failed") if c["verify"]["state"] == "fail"
                   else N_("verify in error"))
    if c["audit"] is None:
        why.append(N_("no audit result"))
    elif c["audit"]["high_risk"]:
        why.append(N_("high-risk findings"))
    if c["evidence"] == "stale":
        why.append(N_("stale evidence"))
    return why


def _movers(centers: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ready, held = [], []
    for c in sorted(centers, key=lambda c: c["name"]):
        st = c["stage"]
        if not st or st["declared"] is None or st["meets"] <= st["declared"]:
            continue
        row = {"name": c["name"], "title": c["title"], "from": st["declared"],
               "to": st["declared"] + 1}
        why = held_because(c)
        if why:
            held.append({**row, "because": why})
        else:
            ready.append(row)
    return ready, held


def _counts(centers: Any) -> dict[str, int]:
    out = {"centers": 0, "none": 0, "partial": 0, "stale": 0, "complete": 0, "hosted": 0}
    for c in centers:
        out["centers"] += 1
        out[c["evidence"]] += 1
    return out
