"""Verify output: JUnit XML for CI, an HTML page with the center's picture coloured by
result, and a terminal summary.

Both writers format :func:`redacted` checks (:mod:`pesdc.redact`: what a check quotes
from a host is masked by shape, known secret values become placeholders) and pass the
finished text once more for known values."""

from __future__ import annotations

import html
import time
from collections import Counter
from dataclasses import replace
from xml.etree import ElementTree as ET

from pesdc.model.tree import Topology
from pesdc.redact import Redactor
from pesdc.verdict import WORDS, Verdict, css_rules, summary, tally
from pesdc.verify.checks import Check, VerifyReport


def redacted_check(c: Check, r: Redactor) -> Check:
    """Names stay (known values only); what was expected, observed or quoted is host
    text and is masked by shape as well."""
    return replace(c, target=r.known_only(c.target), category=r.known_only(c.category),
                   name=r.known_only(c.name), expected=r(c.expected), observed=r(c.observed),
                   evidence=r(c.evidence), skipped=r(c.skipped),
                   error=r(c.error))


def redacted(report: VerifyReport, r: Redactor) -> VerifyReport:
    return replace(report, dc=r.known_only(report.dc),
                   checks=[redacted_check(c, r) for c in report.checks])


def junit_xml(report: VerifyReport) -> str:
    r = Redactor()
    return r.finished(_junit_xml(redacted(report, r)))


def _junit_xml(report: VerifyReport) -> str:
    counts = report.counts()
    suites = ET.Element("testsuites", name=f"pesdc verify {report.dc}",
                        tests=str(len(report.checks)), failures=str(counts[Verdict.failed]),
                        errors=str(counts[Verdict.error]),
                        skipped=str(counts[Verdict.skipped]), time=str(report.seconds))
    by_cat: dict[str, list[Check]] = {}
    for c in report.checks:
        by_cat.setdefault(c.category, []).append(c)
    for cat, checks in sorted(by_cat.items()):
        n = tally(c.verdict for c in checks)
        suite = ET.SubElement(suites, "testsuite", name=f"{report.dc}.{cat}",
                              tests=str(len(checks)), failures=str(n[Verdict.failed]),
                              errors=str(n[Verdict.error]), skipped=str(n[Verdict.skipped]))
        for c in checks:
            case = ET.SubElement(suite, "testcase", classname=f"{report.dc}.{cat}.{c.target}",
                                 name=c.name)
            if c.verdict is Verdict.error:
                # JUnit's own word for "the test could not run": CI shows it as such.
                err = ET.SubElement(case, "error", message=f"could not observe: {c.error}",
                                    type="pesdc.error")
                err.text = c.evidence
            elif c.verdict is Verdict.skipped:
                ET.SubElement(case, "skipped", message=c.skipped)
            elif c.verdict is Verdict.failed:
                fail = ET.SubElement(case, "failure",
                                     message=f"expected {c.expected}, observed {c.observed}")
                fail.text = c.evidence
            elif c.evidence:
                out = ET.SubElement(case, "system-out")
                out.text = c.evidence
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


# Category and heading words of the HTML page, so that a `--lang zh` page reads in
# Chinese throughout (check names, expected and observed values stay as measured).
CATEGORY_ZH = {
    "packages": "软件包", "services": "服务", "ports": "监听端口", "files": "配置文件",
    "users": "账户与权限", "audit": "安全审计", "logs": "日志汇集", "time": "时间同步",
    "replication": "数据库主备复制", "backups": "备份", "isolation": "区域隔离",
    "policy": "防火墙策略", "drift": "配置漂移", "routing": "路由", "links": "链路",
    "reachability": "可达性", "verify": "验证执行",
}
PAGE_TEXT = {
    "zh": {"title": "验证报告", "pass": "PASS 通过", "fail": "FAIL 未通过",
           "summary": "{n} 项检查，用时 {s} 秒，{when}",
           "by_category": "各类检查", "category": "类别", "passed": "通过", "failed": "失败",
           "failures": "失败与错误项", "verdict": "结论", "target": "对象", "check": "检查",
           "expected": "期望",
           "observed": "实际", "evidence": "证据", "none": "无",
           "picture": "数据中心（红色：失败；紫色：错误）", "unavailable": "图示不可用"},
    "en": {"title": "Verification", "pass": "PASS", "fail": "FAIL",
           "summary": "{n} checks in {s} s, {when}",
           "by_category": "Checks by category", "category": "category", "passed": "passed",
           "failed": "failed", "failures": "Failures and errors", "verdict": "verdict",
           "target": "target", "check": "check",
           "expected": "expected", "observed": "observed", "evidence": "evidence",
           "none": "none", "picture": "The center (red: failing, purple: error)",
           "unavailable": "picture unavailable"},
}


def category_label(category: str, lang: str) -> str:
    """"服务 services" in Chinese (the English key stays, it is what --only takes)."""
    zh = CATEGORY_ZH.get(category)
    return f"{zh} {category}" if lang == "zh" and zh else category


def _worst(n: Counter[Verdict]) -> Verdict:
    """The verdict a category's row is coloured by: error, then fail, then pass."""
    for v in (Verdict.error, Verdict.failed, Verdict.passed, Verdict.skipped):
        if n[v]:
            return v
    return Verdict.passed


def html_page(report: VerifyReport, topo: Topology, lang: str = "en") -> str:
    r = Redactor()
    return r.finished(_html_page(redacted(report, r), topo, lang))


def _html_page(report: VerifyReport, topo: Topology, lang: str = "en") -> str:
    from pesdc.graph import center_graph

    t = PAGE_TEXT["zh" if lang == "zh" else "en"]
    status = report.status()
    node_status = {target.split(".")[0]: s for target, s in status.items()}
    try:
        svg = center_graph(topo, report.dc, lang, status=node_status).pipe(
            format="svg").decode("utf-8")
        svg = svg[svg.find("<svg"):]
    except Exception as exc:  # the picture is a help, not the verdict
        svg = f"<p>({t['unavailable']}: {html.escape(str(exc))})</p>"
    shown = (Verdict.passed, Verdict.failed, Verdict.error, Verdict.skipped)
    words = WORDS["zh" if lang == "zh" else "en"]
    by_cat: dict[str, Counter[Verdict]] = {}
    for c in report.checks:
        by_cat.setdefault(c.category, Counter())[c.verdict] += 1
    rows = "".join(
        f"<tr class='{_worst(n).value}'><td>{html.escape(category_label(cat, lang))}</td>"
        + "".join(f"<td>{n[v]}</td>" for v in shown) + "</tr>"
        for cat, n in sorted(by_cat.items()))
    findings = "".join(
        f"<tr class='{c.verdict.value}'><td>{html.escape(words[c.verdict])}</td>"
        f"<td>{html.escape(c.target)}</td>"
        f"<td>{html.escape(category_label(c.category, lang))}</td>"
        f"<td>{html.escape(c.name)}</td><td>{html.escape(c.expected)}</td>"
        f"<td>{html.escape(c.observed)}</td><td><pre>{html.escape(c.evidence)}</pre></td></tr>"
        for c in report.failures)
    # PASS/FAIL stay in both languages: tools and people grep for them.
    counts = report.counts()
    verdict = (t["pass"] if report.ok else t["fail"]) + f" ({summary(counts, lang)})"
    summary_text = t["summary"].format(
        n=len(report.checks), s=report.seconds,
        when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    cat_heads = "".join(f"<th>{html.escape(words[v])}</th>" for v in shown)
    heads = "".join(f"<th>{t[k]}</th>" for k in
                    ("verdict", "target", "category", "check", "expected", "observed", "evidence"))
    return f"""<!doctype html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<title>pesdc verify {html.escape(report.dc)}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; }}
{css_rules()}
.verdict {{ font-size: 1.6em; font-weight: bold; }}
pre {{ max-width: 60em; white-space: pre-wrap; margin: 0; }}
.picture svg {{ max-width: 100%; height: auto; }}
</style></head><body>
<h1>{t['title']}: {html.escape(report.dc)}</h1>
<p class="verdict">{verdict}</p>
<p>{summary_text}</p>
<h2>{t['by_category']}</h2>
<table><tr><th>{t['category']}</th>{cat_heads}</tr>{rows}</table>
<h2>{t['failures']}</h2>
<table><tr>{heads}</tr>{findings or f"<tr><td colspan=7>{t['none']}</td></tr>"}</table>
<h2>{t['picture']}</h2><div class="picture">{svg}</div>
</body></html>
"""
