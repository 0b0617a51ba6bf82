"""The verdicts pesdc gives, one set for probe, verify and audit.

A verdict is evidence: ``pass`` means something was observed to be as it should.
``error`` means pesdc could not observe (a probe that could not send, a host that
could not be reached, a check that crashed, evidence that could not be read); it is
never a pass, it is shown with its cause, and it makes the command fail just as a
``fail`` does. ``skipped`` is counted on its own, never among the passes.

Audit adds the verdicts of a graded-protection assessment: partial (部分符合), not
applicable (不适用), manual (人工核查) and waived (已豁免).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from enum import StrEnum


class Verdict(StrEnum):
    passed = "pass"  # 符合 / 通过
    partial = "partial"  # 部分符合
    failed = "fail"  # 不符合 / 未通过
    error = "error"  # 无法判定：检查未能取得证据
    skipped = "skipped"  # 跳过
    na = "na"  # 不适用
    manual = "manual"  # 人工核查
    waived = "waived"  # 已豁免


# What makes a command exit non-zero.
FAILING = frozenset({Verdict.failed, Verdict.error})

# The order summaries list verdicts in: the passes first, then what needs a look.
ORDER = (Verdict.passed, Verdict.partial, Verdict.failed, Verdict.error, Verdict.skipped,
         Verdict.na, Verdict.manual, Verdict.waived)

WORDS = {
    "en": {Verdict.passed: "passed", Verdict.partial: "partial", Verdict.failed: "failed",
           Verdict.error: "error", Verdict.skipped: "skipped", Verdict.na: "not applicable",
           Verdict.manual: "manual", Verdict.waived: "waived"},
    "zh": {Verdict.passed: "通过", Verdict.partial: "部分符合", Verdict.failed: "未通过",
           Verdict.error: "错误", Verdict.skipped: "跳过", Verdict.na: "不适用",
           Verdict.manual: "人工核查", Verdict.waived: "已豁免"},
}

# One colour per verdict, the same in every HTML page (verify, audit).
COLOURS = {Verdict.passed: "#e3f6e3", Verdict.partial: "#fff3cd", Verdict.failed: "#fde2e2",
           Verdict.error: "#e8d5f5", Verdict.skipped: "#eeeeee", Verdict.na: "#f4f4f4",
           Verdict.manual: "#e2ecfd", Verdict.waived: "#f0e6d2"}


def tally(verdicts: Iterable[Verdict]) -> Counter[Verdict]:
    return Counter(verdicts)


def failing(counts: Counter[Verdict]) -> bool:
    return any(counts[v] for v in FAILING)


def summary(counts: Counter[Verdict], lang: str = "en") -> str:
    """"12 passed, 1 failed, 2 error, 3 skipped": every verdict that occurred, in order."""
    words = WORDS["zh" if lang == "zh" else "en"]
    sep = "，" if lang == "zh" else ", "
    return sep.join(f"{counts[v]} {words[v]}" for v in ORDER if counts[v]) or (
        "无检查" if lang == "zh" else "nothing checked")


def css_rules() -> str:
    """``tr.pass td {...}`` for every verdict: a page's rows take the verdict's class."""
    return " ".join(f"tr.{v.value} td {{ background: {c}; }}" for v, c in COLOURS.items())
