"""What an audit produces: outcomes per target, rule and item results, family scores."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from pesdc.redact import Redactor, mask_shapes
from pesdc.results import Result
from pesdc.verdict import Verdict

# The audit's verdicts are pesdc's one set (pesdc.verdict): an error is a check that
# could not observe its target (it crashed, its evidence could not be read). It is
# scored as not met, listed as a finding, and makes `pesdc audit` exit non-zero.
Status = Verdict
# The verdicts an audit gives, in the order reports list them (skipped is verify's).
AUDIT_STATES = (Status.passed, Status.partial, Status.failed, Status.error, Status.na,
                Status.manual, Status.waived)

LABELS = {
    "zh": {Status.passed: "符合", Status.partial: "部分符合", Status.failed: "不符合",
           Status.error: "无法判定", Status.na: "不适用", Status.manual: "人工核查",
           Status.waived: "已豁免", Status.skipped: "跳过"},
    "en": {Status.passed: "pass", Status.partial: "partial", Status.failed: "fail",
           Status.error: "error", Status.na: "not applicable", Status.manual: "manual",
           Status.waived: "waived", Status.skipped: "skipped"},
}
# An error scores as not met: nothing was observed, so it cannot raise the score.
SCORE = {Status.passed: 1.0, Status.partial: 0.5, Status.failed: 0.0, Status.error: 0.0}
# Verdicts that are findings: what the report lists and asks to be fixed.
NOT_MET = (Status.failed, Status.partial, Status.error)


def label(status: Status, lang: str) -> str:
    return LABELS["zh" if lang == "zh" else "en"][status]


@dataclass(frozen=True, slots=True)
class Msg:
    """A text an auditor reads, in English and in Chinese (zh-CN).

    Every verdict, note and fixed caption of a report is one: the report picks the half
    of its ``--lang``. Identifiers, paths, numbers and configuration keys appear verbatim
    in both halves.
    """

    en: str
    zh: str

    def __post_init__(self) -> None:
        if not isinstance(self.en, str) or not isinstance(self.zh, str):
            raise TypeError(f"Msg takes two strings, not {self.en!r}, {self.zh!r}")

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def __add__(self, other: Msg) -> Msg:
        return Msg(self.en + other.en, self.zh + other.zh)

    @staticmethod
    def join(parts: Iterable[Msg], en: str = "; ", zh: str = "；") -> Msg:
        """The parts joined: "; " in English, the full-width "；" in Chinese."""
        items = list(parts)
        return Msg(en.join(p.en for p in items), zh.join(p.zh for p in items))

    def mapped(self, f: Callable[[str], str]) -> Msg:
        return Msg(f(self.en), f(self.zh))


def zh_list(names: Iterable[object]) -> str:
    """Names listed the Chinese way (顿号): ``a、b、c``."""
    return "、".join(str(n) for n in names)


class Evidence:
    """A quote that backs a verdict: ``label`` ("file /etc/ssh/sshd_config", "sshd -T",
    "topology isolation"), ``text``, ``source`` (topology, rendered, lab, live) and
    ``text_zh`` (a caption written by pesdc, in Chinese; "" for what was read).

    Whatever a rule quotes from a host or device is masked (no report shows a password,
    key or hash the text happened to hold): ``text`` and ``text_zh`` only ever give the
    masked text. The masking is done when a quote is first read, not when it is taken:
    ``audit --all`` lists verdicts only and never reads its tens of thousands of quotes,
    each of them a server's own file (masking them cost about a fifth of its time).

    A quote may also be taken later (:meth:`later`): the function that cuts it from the
    evidence (the matching lines of a configuration, say) runs when it is first read,
    once; what it reads is the evidence the verdict was given on (strings, which do not
    change), so the quote is the one that would have been taken at once.
    """

    __slots__ = ("_make", "_masked", "_text", "_text_zh", "label", "source")

    def __init__(self, label: str, text: str, source: str = "topology",
                 text_zh: str = "") -> None:
        self.label = label
        self.source = source
        self._text = text
        self._text_zh = text_zh
        self._masked = False
        self._make: Callable[[], tuple[str, str]] | None = None

    @classmethod
    def later(cls, label: str, make: Callable[[], tuple[str, str]],
              source: str = "topology") -> Evidence:
        """A quote cut when first read: ``make()`` gives its ``(text, text_zh)``."""
        e = cls(label, "", source)
        e._make = make
        return e

    def _mask(self) -> None:
        if not self._masked:
            if self._make is not None:
                self._text, self._text_zh = self._make()
                self._make = None
            self._text = mask_shapes(self._text)
            self._text_zh = mask_shapes(self._text_zh)
            self._masked = True

    @property
    def text(self) -> str:
        self._mask()
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        self._mask()
        self._text = mask_shapes(value)

    @property
    def text_zh(self) -> str:
        self._mask()
        return self._text_zh

    @text_zh.setter
    def text_zh(self, value: str) -> None:
        self._mask()
        self._text_zh = mask_shapes(value)

    def _key(self) -> tuple[str, str, str, str]:
        return (self.label, self.text, self.source, self.text_zh)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it was

    def __repr__(self) -> str:
        return (f"Evidence(label={self.label!r}, text={self.text!r}, "
                f"source={self.source!r}, text_zh={self.text_zh!r})")

    def redacted(self, r: Redactor) -> Evidence:
        return Evidence(r.known_only(self.label), r(self.text), self.source, r(self.text_zh))

    def text_in(self, lang: str) -> str:
        return self.text_zh if lang == "zh" and self.text_zh else self.text

    def as_dict(self) -> dict[str, Any]:
        out = {"label": self.label, "text": self.text, "source": self.source}
        if self.text_zh:  # only pesdc's own captions have a Chinese text
            out["text_zh"] = self.text_zh
        return out


@dataclass
class Outcome(Result):
    """One rule's verdict on one target (a host, device, zone pair, link, the center):
    a :class:`pesdc.results.Result` whose ``verdict`` is its ``status``.

    ``msg`` holds the verdict in both languages; ``message`` is its English half (the
    JSON ``message``, what callers and tests read), ``message_zh`` the Chinese one.
    ``target_zh`` names a target that is more than an identifier ("zone production")
    in Chinese; "" when the target is a plain name (a host, a device).
    """

    target: str
    status: Status
    msg: Msg
    evidence: list[Evidence] = field(default_factory=list)
    target_zh: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.msg, Msg):
            raise TypeError(f"an outcome's message is a Msg (en and zh), not {self.msg!r}")

    @property
    def verdict(self) -> Verdict:
        return self.status

    @property
    def message(self) -> str:
        return self.msg.en

    @property
    def evidence_text(self) -> str:
        return "\n".join(e.text for e in self.evidence)

    @property
    def message_zh(self) -> str:
        return self.msg.zh

    def message_in(self, lang: str) -> str:
        return self.msg.text(lang)

    def target_in(self, lang: str) -> str:
        return self.target_zh if lang == "zh" and self.target_zh else self.target

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "target_zh": self.target_zh or self.target,
                "status": self.status.value, "message": self.message,
                "message_zh": self.message_zh,
                "evidence": [e.as_dict() for e in self.evidence]}

    def redacted(self, r: Redactor) -> Outcome:
        """Known secret values out of pesdc's words; evidence quotes masked as well."""
        return replace(self, target=r.known_only(self.target), msg=self.msg.mapped(
            r.known_only), evidence=[e.redacted(r) for e in self.evidence],
            target_zh=r.known_only(self.target_zh))


def combine(statuses: list[Status]) -> Status:
    """Any error: error (the rule could not be judged in full, whatever else was seen).
    Otherwise all pass: pass; all fail: fail; a mix of pass/partial/fail: partial.
    Not-applicable outcomes do not count; only manual ones: manual; only waived: waived."""
    if Status.error in statuses:
        return Status.error
    scored = [s for s in statuses if s in SCORE]
    if not scored:
        for s in (Status.manual, Status.waived):
            if s in statuses:
                return s
        return Status.na
    if all(s is Status.passed for s in scored):
        return Status.passed
    if all(s is Status.failed for s in scored):
        return Status.failed
    return Status.partial


@dataclass
class Waiver:
    id: str  # rule or item id
    justification: str
    approver: str
    expires: str  # YYYY-MM-DD
    expired: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "justification": self.justification, "approver": self.approver,
                "expires": self.expires, "expired": self.expired}

    def redacted(self, r: Redactor) -> Waiver:
        return replace(self, justification=r.known_only(self.justification),
                       approver=r.known_only(self.approver))


def _waiver(w: Waiver | None, r: Redactor) -> Waiver | None:
    return w.redacted(r) if w else None


class _Waivable:
    """A verdict a waiver can set aside: failed or partial, with an unexpired waiver.
    An error is never waived: a waiver accepts a known gap, not an unseen one."""

    status: Status
    waiver: Waiver | None

    @property
    def waived(self) -> bool:
        return (self.waiver is not None and not self.waiver.expired
                and self.status in (Status.failed, Status.partial))

    @property
    def effective(self) -> Status:
        return Status.waived if self.waived else self.status


@dataclass
class RuleResult(_Waivable):
    rule: str
    kind: str
    severity: str
    status: Status  # as measured, before waivers
    outcomes: list[Outcome] = field(default_factory=list)
    waiver: Waiver | None = None  # a waiver naming this rule (applied unless expired)
    note: Msg | None = None  # why there are no outcomes (disabled, manual, ...)

    def note_in(self, lang: str) -> str:
        return self.note.text(lang) if self.note else ""

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "kind": self.kind, "severity": self.severity,
                "status": self.status.value, "effective": self.effective.value,
                "waived": self.waived, "note": self.note_in("en"),
                "note_zh": self.note_in("zh"),
                "waiver": self.waiver.as_dict() if self.waiver else None,
                "outcomes": [o.as_dict() for o in self.outcomes]}

    def redacted(self, r: Redactor) -> RuleResult:
        return replace(self, outcomes=[o.redacted(r) for o in self.outcomes],
                       waiver=_waiver(self.waiver, r),
                       note=self.note.mapped(r.known_only) if self.note else None)


@dataclass
class ItemResult(_Waivable):
    item: str
    family: str
    status: Status  # before an item waiver
    rules: list[str]
    waiver: Waiver | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"item": self.item, "family": self.family, "status": self.status.value,
                "effective": self.effective.value, "waived": self.waived,
                "waiver": self.waiver.as_dict() if self.waiver else None, "rules": self.rules}

    def redacted(self, r: Redactor) -> ItemResult:
        return replace(self, waiver=_waiver(self.waiver, r))


@dataclass
class FamilyScore:
    family: str
    score: float | None  # 0-100, None when no item is scored
    counts: dict[str, int]
    weight: float

    def as_dict(self) -> dict[str, Any]:
        return {"family": self.family, "score": self.score, "counts": self.counts,
                "weight": self.weight}


@dataclass
class AuditReport:
    dc: str
    title_zh: str
    title_en: str
    mode: str  # static, lab, live
    date: str  # YYYY-MM-DD (the audit's "today")
    profile: str
    rules: dict[str, RuleResult] = field(default_factory=dict)
    items: dict[str, ItemResult] = field(default_factory=dict)
    families: dict[str, FamilyScore] = field(default_factory=dict)
    overall: float | None = None
    # The conclusion (assessment.grade: excellent/good/fair/poor, none without a score)
    # and the findings that cap it: rules not met whose case the high-risk guidance names.
    grade: str = "none"
    high_risk: list[str] = field(default_factory=list)
    notes: list[Msg] = field(default_factory=list)  # expired waivers, in both languages
    seconds: float = 0.0
    hosts: list[str] = field(default_factory=list)  # hosts whose evidence was collected

    @property
    def waiver_notes(self) -> list[str]:
        """The notes in English (the command's standard error, JSON ``waiver_notes``)."""
        return [n.en for n in self.notes]

    def notes_in(self, lang: str) -> list[str]:
        return [n.text(lang) for n in self.notes]

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in AUDIT_STATES}
        for i in self.items.values():
            out[i.effective.value] += 1
        return out

    def findings(self) -> list[RuleResult]:
        """Rules not met (fail, partial or error), waived ones included (marked)."""
        return [r for r in self.rules.values() if r.status in NOT_MET]

    def failed_rules(self) -> list[str]:
        """Rules failing, partly failing or in error after waivers: the finding list."""
        return sorted(r.rule for r in self.rules.values() if r.effective in NOT_MET)

    def error_rules(self) -> list[str]:
        """Rules that could not be judged: they make the audit command fail."""
        return sorted(r.rule for r in self.rules.values() if r.effective is Status.error)

    def target_status(self) -> dict[str, str]:
        """Node name -> pass/fail/error for colouring the picture."""
        out: dict[str, str] = {}
        for r in self.rules.values():
            for o in r.outcomes:
                name = o.target.split(".")[0]
                if o.status is Status.error:
                    out[name] = "error"
                elif o.status in (Status.failed, Status.partial) and not r.waived \
                        and out.get(name) != "error":
                    out[name] = "fail"
                elif o.status is Status.passed:
                    out.setdefault(name, "pass")
        return out

    def redacted(self, r: Redactor) -> AuditReport:
        """A copy to write out: every text through the redactor (see pesdc.redact)."""
        return replace(
            self, title_zh=r.known_only(self.title_zh), title_en=r.known_only(self.title_en),
            rules={k: v.redacted(r) for k, v in self.rules.items()},
            items={k: v.redacted(r) for k, v in self.items.items()},
            notes=[n.mapped(r.known_only) for n in self.notes],
            hosts=[r.known_only(h) for h in self.hosts])

    def as_dict(self) -> dict[str, Any]:
        return {"dc": self.dc, "title": {"zh": self.title_zh, "en": self.title_en},
                "mode": self.mode, "date": self.date, "profile": self.profile,
                "overall": self.overall, "grade": self.grade, "high_risk": self.high_risk,
                "counts": self.counts(),
                "failed_rules": self.failed_rules(), "error_rules": self.error_rules(),
                "waiver_notes": self.waiver_notes,
                "waiver_notes_zh": self.notes_in("zh"),
                "hosts": self.hosts, "seconds": self.seconds,
                "families": {k: v.as_dict() for k, v in self.families.items()},
                "items": {k: v.as_dict() for k, v in self.items.items()},
                "rules": {k: v.as_dict() for k, v in self.rules.items()}}
