"""Run an audit: evidence -> rule outcomes -> item statuses -> family and overall scores.

Scoring (in the manner of an MLPS assessment, documented in the report and README):
an item scores 符合 pass = 1, 部分符合 partial = 0.5, 不符合 fail = 0; 不适用 (not
applicable, and waived items) and 人工核查 (manual) are not scored but listed. A family's
score is the mean of its scored items x 100; the overall score is the weighted mean of
the family scores that have scored items (catalog weights, 1 each by default). The
conclusion (优/良/中/差) follows the score bands of pesdc/data/mlps/risk.yaml, capped at 差
by any high-risk finding (see pesdc.audit.assessment).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pesdc.audit.assessment import grade, high_risk_findings
from pesdc.audit.catalog import Catalog
from pesdc.audit.registry import AuditContext, all_checks
from pesdc.audit.result import (
    AUDIT_STATES,
    SCORE,
    AuditReport,
    FamilyScore,
    ItemResult,
    Msg,
    Outcome,
    RuleResult,
    Status,
    Waiver,
    combine,
)
from pesdc.i18n import N_
from pesdc.localized import LocalizedText as T
from pesdc.model.tree import Topology
from pesdc.progress import Progress, or_none

NOTE_DISABLED = Msg("disabled by the audit profile", "已在测评参数中停用")
NOTE_MANUAL = Msg("checked by a person (人工核查)", "由测评人员人工核查")
NOTE_NO_CHECK = Msg("no automated check", "无自动化检查，需人工核查")
NOTE_NOTHING = Msg("nothing of this kind in the center", "本中心无此类检查对象")


@dataclass
class AuditOptions:
    mode: str = "static"  # static, lab, live
    lab: str | None = None
    target: Any = None  # live: the Target of a connection profile (pesdc.targets)
    limit: list[str] = field(default_factory=list)
    today: dt.date | None = None
    waivers: list[Waiver] = field(default_factory=list)


def run_audit(topo: Topology, dc_name: str, catalog: Catalog,
              opts: AuditOptions | None = None, progress: Progress | None = None,
              ctx: AuditContext | None = None,
              tree: dict[str, Any] | None = None) -> AuditReport:
    """Audit one center. ``ctx`` may carry prepared evidence (the tests do that);
    ``tree``: what is derived from the whole tree, shared by the centers of one
    ``audit --all`` (AuditContext.tree)."""
    from pesdc.audit import evidence

    opts = opts or AuditOptions()
    say = or_none(progress)
    started = time.monotonic()
    dc = topo.datacenters[dc_name]
    hosts: list[str] = []
    if ctx is None:
        ctx = AuditContext(topo, dc, opts.mode, tree=tree if tree is not None else {})
        say.note(T(N_("audit {center}: rendering the center's configurations"), center=dc_name))
        evidence.static_evidence(ctx)
        if opts.mode == "lab" and opts.lab:
            say.note(f"audit {dc_name}: collecting evidence in lab {opts.lab}")
            hosts = evidence.lab_evidence(ctx, opts.lab, opts.limit or None, progress=say)
        elif opts.mode == "live" and opts.target is not None:
            say.note(f"audit {dc_name}: collecting evidence, {opts.target.label}")
            hosts = evidence.live_evidence(ctx, opts.target, opts.limit or None,
                                           opts.target.parallel, progress=say)
    today = opts.today or dt.date.today()
    report = AuditReport(dc.name, dc.title.zh, dc.title.en, ctx.mode, today.isoformat(),
                         catalog.profile, hosts=hosts)
    checks = all_checks()
    waiver_of = {w.id: w for w in opts.waivers}
    for w in opts.waivers:
        if w.expired:
            report.notes.append(Msg(
                f"waiver for {w.id} (approved by {w.approver}) expired on {w.expires}: "
                "no longer applied",
                f"{w.id} 的豁免（审批人：{w.approver}）已于 {w.expires} 到期，不再适用"))
    # Progress per kind of rule (topology, host, device, ...): begun at its first rule,
    # told with its outcome at its last.
    left = Counter(r.kind for r in catalog.rules.values())
    said: dict[str, Counter[str]] = {}
    say.start(len(left), T(N_("audit {center}: {rules} rules of {kinds} kinds"),
                           center=dc_name, rules=len(catalog.rules), kinds=len(left)))
    for rule in catalog.rules.values():
        if rule.kind not in said:
            said[rule.kind] = Counter()
            say.begin(dc_name, _kind_rules(rule.kind), _kind_rules(rule.kind))
        if not rule.enabled:
            res = RuleResult(rule.id, rule.kind, rule.severity, Status.na,
                             note=NOTE_DISABLED)
        elif rule.kind == "manual":
            res = RuleResult(rule.id, rule.kind, rule.severity, Status.manual,
                             note=NOTE_MANUAL)
        elif rule.id not in checks:
            res = RuleResult(rule.id, rule.kind, rule.severity, Status.manual,
                             note=NOTE_NO_CHECK)
        else:
            try:
                outcomes = checks[rule.id](ctx, rule.params)
            except Exception as exc:  # a check that cannot run is reported, not raised
                # An error, scored as not met: "manual" is not scored, so a crash would
                # raise the score. Nothing was observed, so nothing passes.
                why = f"{type(exc).__name__}: {exc}"
                outcomes = [Outcome(dc.name, Status.error, Msg(
                    f"check crashed, nothing observed (scored as not met): {why}",
                    f"自动检查执行出错，无法判定（按不符合计分）：{why}"))]
            status = combine([o.status for o in outcomes]) if outcomes else Status.na
            res = RuleResult(rule.id, rule.kind, rule.severity, status, outcomes)
            if not outcomes:
                res.note = NOTE_NOTHING
        res.waiver = waiver_of.get(rule.id)
        report.rules[rule.id] = res
        said[rule.kind][res.status.value] += 1
        left[rule.kind] -= 1
        if not left[rule.kind]:
            say.step(dc_name, _kind_rules(rule.kind), _rules_status(said[rule.kind]),
                     _kind_rules(rule.kind))
    for item in catalog.items.values():
        status = combine([report.rules[r].effective for r in item.rules])
        report.items[item.id] = ItemResult(item.id, item.family, status, list(item.rules),
                                           waiver_of.get(item.id))
    score_report(report, catalog)
    report.seconds = round(time.monotonic() - started, 2)
    return report


def _rules_status(counts: Counter[str]) -> str:
    """One kind's rules as a progress status: how many, not met, not judged."""
    n = sum(counts.values())
    not_met = counts.get(Status.failed.value, 0) + counts.get(Status.partial.value, 0)
    errors = counts.get(Status.error.value, 0)
    if errors:
        return T(N_("error: {rules} rules, {not_met} not met, {errors} could not be judged"),
                 rules=n, not_met=not_met, errors=errors)
    return T(N_("ok: {rules} rules, {not_met} not met"), rules=n, not_met=not_met)


def _kind_rules(kind: str) -> str:
    """A kind's step in the progress lines: ``host rules``."""
    return T(N_("{kind} rules"), kind=kind)


def score_report(report: AuditReport, catalog: Catalog) -> None:
    total = 0.0
    weights = 0.0
    for fam in catalog.families.values():
        items = [report.items[i.id] for i in catalog.items_of(fam.id)]
        counts = {s.value: 0 for s in AUDIT_STATES}
        for it in items:
            counts[it.effective.value] += 1
        scored = [SCORE[it.effective] for it in items if it.effective in SCORE]
        score = round(100 * sum(scored) / len(scored), 1) if scored else None
        report.families[fam.id] = FamilyScore(fam.id, score, counts, fam.weight)
        if score is not None:
            total += score * fam.weight
            weights += fam.weight
    report.overall = round(total / weights, 1) if weights else None
    # The one place the conclusion is drawn: a high-risk finding caps it (risk.yaml).
    report.high_risk = high_risk_findings(report)
    report.grade = grade(report.overall, report.high_risk)


def summary(report: AuditReport) -> dict[str, object]:
    """A center's result in a few fields (what --all lists)."""
    return {"dc": report.dc, "overall": report.overall, "counts": report.counts(),
            "grade": report.grade, "high_risk": report.high_risk,
            "families": {k: v.score for k, v in report.families.items()},
            "failed_rules": report.failed_rules(), "seconds": report.seconds}


_SHARED: dict[str, object] = {}


def _audit_chunk(names: list[str]) -> list[dict[str, object]]:
    import gc

    gc.disable()
    topo, catalog, opts = _SHARED["topo"], _SHARED["catalog"], _SHARED["opts"]
    tree = _SHARED["tree"]
    return [summary(run_audit(topo, n, catalog, opts, tree=tree))  # type: ignore[arg-type]
            for n in names]


def audit_all(topo: Topology, catalog: Catalog, opts: AuditOptions | None = None,
              workers: int = 0) -> list[dict[str, object]]:
    """Static audit of every center of a tree (hosted cities have none of their own),
    in ``workers`` forked processes (0: one per CPU); a summary per center."""
    import multiprocessing
    import os

    opts = opts or AuditOptions()
    names = sorted(d.name for d in topo.datacenters.values() if not d.hosted)
    workers = workers or min(os.cpu_count() or 1, 8)
    # The tree's own derivations, once for every center (the tree does not change
    # while it is audited; filled by the first center that asks).
    tree: dict[str, Any] = {}
    import gc

    # The loaded model is a large graph of objects that all stay alive: the cyclic
    # collector would scan it (its first collection after loading takes a third of a
    # second on the national tree) and free nothing of it. Off while the tree is audited.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        if workers <= 1 or len(names) < 4:
            return [summary(run_audit(topo, n, catalog, opts, tree=tree)) for n in names]
        # The first center here, before forking: what every center needs once (the
        # modules the checks import, the compiled templates, the platforms' tables, the
        # catalog's data) is then loaded once and shared, not loaded again by each worker.
        first = summary(run_audit(topo, names[0], catalog, opts, tree=tree))
        rest = names[1:]
        _SHARED.update(topo=topo, catalog=catalog, opts=opts, tree=tree)
        gc.freeze()  # the forked workers must not copy the shared model page by page
        chunks = [rest[i::workers * 4] for i in range(workers * 4)]
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                parts = pool.map(_audit_chunk, chunks)
        finally:
            gc.unfreeze()
            _SHARED.clear()
    finally:
        if was_enabled:
            gc.enable()
    return sorted([first, *(s for part in parts for s in part)], key=lambda s: str(s["dc"]))
