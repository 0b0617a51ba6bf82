"""Which consolidation stage a city meets today, and what the next one still needs.

The stage rules (PES004-PES007 in ``pesdc.rules.source``) judge a city against the
stage it declares. Here they are run against each stage 1, 2 and 3 in turn, whatever
the city declares, on a copy of the center whose ``stage`` is set to the one being
evaluated: the same rule code, so ``stage check`` and ``validate`` cannot disagree.
Every unmet requirement keeps the rule's file/line (the loader's Locator).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pesdc.model.diagnostics import N_, Diagnostic, Severity
from pesdc.model.schema import DataCenter, SiteKind, Tier
from pesdc.model.tree import Topology
from pesdc.model.yamlio import Locator
from pesdc.rules.registry import all_rules

# The rules that make up each stage (source: the city data center's three stages).
STAGE_RULES: dict[int, tuple[str, ...]] = {
    1: ("PES004", "PES007"),  # exchange/decision centralized; rooms on high-speed links
    2: ("PES004", "PES005", "PES007"),  # + unified PES MIS; only talent systems outside
    3: ("PES004", "PES006"),  # everything in the one center
}
WHAT: dict[str, str] = {  # English; the CLI shows them in its language
    "PES004": N_("zone not centralized"),
    "PES005": N_("still in an agency room"),
    "PES006": N_("still in an agency room"),
    "PES007": N_("high-speed link missing"),
    "STAGE001": N_("machine room to decommission"),
}


@dataclass
class Requirement:
    rule: str
    what: str
    message: str
    hint: str
    file: str
    line: int
    column: int
    path: str
    blocking: bool = True
    # the rule's problem it comes from: its message and hint in another language
    source: Diagnostic | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "source"}

    def text(self, lang: str = "en") -> tuple[str, str]:
        """The message and the hint in ``lang``."""
        return self.source.text(lang) if self.source is not None else (self.message,
                                                                        self.hint)

    def diagnostic(self) -> Diagnostic:
        """This requirement as a problem report (an unmet blocking one is an error)."""
        src = self.source
        return Diagnostic(self.rule, self.message, self.file, hint=self.hint,
                          severity=Severity.error if self.blocking else Severity.warning,
                          line=self.line, column=self.column,
                          args=src.args if src else None,
                          template=src.template if src else "",
                          hint_template=src.hint_template if src else "")


@dataclass
class CityStage:
    name: str
    file: str
    declared: int | None
    meets: int  # 0: not even stage 1
    next: int | None
    requirements: list[Requirement] = field(default_factory=list)  # for ``next``
    per_stage: dict[int, list[Requirement]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"city": self.name, "file": self.file, "declared": self.declared,
                "meets": self.meets, "next": self.next,
                "requirements": [r.as_dict() for r in self.requirements],
                "unmet_per_stage": {str(k): len([r for r in v if r.blocking])
                                    for k, v in self.per_stage.items()}}


def staged_copy(dc: DataCenter, stage: int) -> DataCenter:
    """The center as if it declared ``stage`` (items shared, so their _src stays)."""
    copy = dc.model_copy(update={"stage": stage})
    copy._src = dc._src
    return copy


def stage_diagnostics(topo: Topology, dc: DataCenter, stage: int) -> list[Diagnostic]:
    """The stage rules' problems for ``dc`` if it declared ``stage`` (lines not filled)."""
    rules = all_rules()
    view = Topology(files=topo.files, datacenters={dc.name: staged_copy(dc, stage)},
                    dc_file=topo.dc_file, invalid_datacenters=topo.invalid_datacenters,
                    invalid_items=topo.invalid_items)
    out: list[Diagnostic] = []
    for rid in STAGE_RULES[stage]:
        out += list(rules[rid].fn(view))
    if stage == 3:
        # Not a rule (an empty room holds nothing), but the runbook's last step.
        for site in dc.sites:
            if site.kind is SiteKind.agency_machine_room:
                file, path = site._src
                out.append(Diagnostic.marked(
                    "STAGE001", N_("machine room {site} is still declared"), file,
                    (*path, "name"), N_("decommission it: remove the site, its link and "
                                        "the router interface once it is empty"),
                    severity=Severity.warning, site=site.name))
    return out


def cities(topo: Topology) -> list[DataCenter]:
    return sorted((dc for dc in topo.datacenters.values()
                   if dc.tier is Tier.city and not dc.hosted), key=lambda d: d.name)


def evaluate(topo: Topology, locator: Locator, dc: DataCenter) -> CityStage:
    per_stage: dict[int, list[Requirement]] = {}
    for stage in (1, 2, 3):
        diags = stage_diagnostics(topo, dc, stage)
        locator.fill(diags)
        per_stage[stage] = [_requirement(d) for d in sorted(
            diags, key=lambda d: (d.file, d.line, d.column, d.rule))]
    meets = 0
    for stage in (1, 2, 3):
        if any(r.blocking for r in per_stage[stage]):
            break
        meets = stage
    nxt = meets + 1 if meets < 3 else None
    reqs = per_stage[nxt] if nxt else [r for r in per_stage[3] if not r.blocking]
    return CityStage(dc.name, topo.dc_file.get(dc.name, ""), dc.stage, meets, nxt, reqs,
                     per_stage)


def _requirement(d: Diagnostic) -> Requirement:
    return Requirement(d.rule, WHAT.get(d.rule, d.rule), d.message, d.hint, d.file, d.line,
                       d.column, d.dotted_path, d.severity.value == "error", d)


def check_all(topo: Topology, locator: Locator) -> list[CityStage]:
    return [evaluate(topo, locator, dc) for dc in cities(topo)]
