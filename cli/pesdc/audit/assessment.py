"""The assessor's form: results per GB/T 28448-2019 test unit (测评单元), the problem
summary (问题汇总) with each finding's risk level, and the conclusion (优/良/中/差).

What decides them is data (pesdc/data/mlps/risk.yaml and gbt28448_units.yaml): which
findings the published high-risk guidance names, the score bands of each grade, and that
a high-risk finding caps the grade whatever the score.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from pesdc.audit.catalog import Catalog
from pesdc.audit.result import NOT_MET, AuditReport, Msg, RuleResult, Status, label

RISK_ORDER = ("high", "medium", "low")

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=4)
def _data(name: str) -> dict[str, Any]:
    text = resources.files("pesdc").joinpath(f"data/mlps/{name}").read_text("utf-8")
    # Bundled data: libyaml reads it (the same data, read once per process, 3x faster).
    data = yaml.load(text, Loader=_LOADER)
    assert isinstance(data, dict), name
    return data


def risk_rules() -> dict[str, Any]:
    """The risk and grading rules (risk.yaml)."""
    return _data("risk.yaml")


def units_list() -> dict[str, Any]:
    """The GB/T 28448-2019 test-unit list with its sources (gbt28448_units.yaml)."""
    return _data("gbt28448_units.yaml")


def risk_of(rule: RuleResult, rules: dict[str, Any] | None = None) -> str:
    """high where the guidance names the rule's case, else from the rule's severity."""
    rules = rules or risk_rules()
    if rule.rule in rules["high_risk"]:
        return "high"
    return str(rules["by_severity"][rule.severity])


def high_risk_findings(report: AuditReport, rules: dict[str, Any] | None = None) -> list[str]:
    """Rules not met after waivers (fail, partial or error) whose case is high risk."""
    rules = rules or risk_rules()
    return sorted(r.rule for r in report.rules.values()
                  if r.effective in NOT_MET and r.rule in rules["high_risk"])


def grade(overall: float | None, high_risk: list[str],
          rules: dict[str, Any] | None = None) -> str:
    """The conclusion's key (excellent, good, fair, poor; none without a score)."""
    rules = rules or risk_rules()
    if overall is None:
        return "none"
    if high_risk:
        return str(rules["with_high_risk"])
    for band in rules["grades"]:
        if overall >= band["min"]:
            return str(band["grade"])
    return str(rules["grades"][-1]["grade"])


def grade_name(key: str, lang: str) -> str:
    names = risk_rules()["names"][key]
    return str(names["zh" if lang == "zh" else "en"])


def risk_name(key: str, lang: str) -> str:
    names = risk_rules()["risk_names"][key]
    return str(names["zh" if lang == "zh" else "en"])


def _evidence_summary(report: AuditReport, rule_ids: tuple[str, ...] | list[str]) -> Msg:
    """Per rule: its result, how many targets were not met, and the first of them."""
    parts = []
    for rid in rule_ids:
        res = report.rules[rid]
        bad = [o for o in res.outcomes if o.status in NOT_MET]
        head = Msg(f"{rid} {label(res.effective, 'en')}", f"{rid} {label(res.effective, 'zh')}")
        if res.outcomes:
            head += Msg(f" ({len(res.outcomes) - len(bad)}/{len(res.outcomes)} targets met)",
                        f"（{len(res.outcomes) - len(bad)}/{len(res.outcomes)} 个对象符合）")
        elif res.note:
            head += Msg(f" ({res.note.en})", f"（{res.note.zh}）")
        if bad:
            first = bad[0]
            head += Msg(f": {first.target}: {first.message}",
                        f"：{first.target_in('zh')}：{first.message_zh}")
        parts.append(head)
    return Msg.join(parts)


@dataclass
class UnitRow:
    """One row of the per-unit result table (the assessment report's order)."""

    unit: str
    item: str
    clause: str
    title: Msg
    status: Status
    evidence: Msg

    def as_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "item": self.item, "clause": self.clause,
                "title": self.title.en, "title_zh": self.title.zh,
                "status": self.status.value, "label": label(self.status, "en"),
                "label_zh": label(self.status, "zh"),
                "evidence": self.evidence.en, "evidence_zh": self.evidence.zh}


def _unit_key(unit: str) -> tuple[int, int]:
    order = ("PES1", "CNS1", "ABS1", "CES1", "SMC1")
    series, number = unit.split("-")[1:3]
    return (order.index(series) if series in order else len(order), int(number))


def unit_rows(report: AuditReport, catalog: Catalog) -> list[UnitRow]:
    """Every item with a test unit, in unit order (PES1, CNS1, ABS1, CES1, SMC1)."""
    rows = [UnitRow(it.indicator, it.id, it.clause, Msg(it.en, it.zh),
                    report.items[it.id].effective, _evidence_summary(report, it.rules))
            for it in catalog.items.values() if it.indicator]
    return sorted(rows, key=lambda r: _unit_key(r.unit))


@dataclass
class Problem:
    """One finding of the problem summary: its risk, where the guidance names it, and
    what to do."""

    rule: str
    units: list[str]
    title: Msg
    status: Status
    risk: str
    basis: Msg  # the guidance entry and case, or "by severity"
    remediation: Msg
    waived: bool

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "units": self.units, "title": self.title.en,
                "title_zh": self.title.zh, "status": self.status.value, "risk": self.risk,
                "risk_zh": risk_name(self.risk, "zh"), "basis": self.basis.en,
                "basis_zh": self.basis.zh, "remediation": self.remediation.en,
                "remediation_zh": self.remediation.zh, "waived": self.waived}


def _basis(rule: RuleResult, rules: dict[str, Any]) -> Msg:
    case = rules["high_risk"].get(rule.rule)
    if case is None:
        return Msg(f"severity {rule.severity}", f"按严重程度（{rule.severity}）")
    guide = rules["guidance"]["id"]
    return Msg(f"{guide} {case['entry']}: {case['en']}", f"{guide} {case['entry']}：{case['zh']}")


def problems(report: AuditReport, catalog: Catalog) -> list[Problem]:
    """The findings (waived ones marked, at the end), high risk first."""
    rules = risk_rules()
    out = []
    for r in report.findings():
        rd = catalog.rules[r.rule]
        units = sorted({catalog.items[i].indicator for i in rd.items
                        if catalog.items[i].indicator}, key=_unit_key)
        out.append(Problem(r.rule, units, Msg(rd.en, rd.zh), r.status, risk_of(r, rules),
                           _basis(r, rules), Msg(rd.fix_en, rd.fix_zh or rd.fix_en),
                           r.waived))
    return sorted(out, key=lambda p: (p.waived, RISK_ORDER.index(p.risk), p.rule))
