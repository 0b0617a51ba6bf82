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

from pesdc.i18n import NC_, translator
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


# The categories of verify's checks (the English key is what --only takes); a zh page
# shows each with its translation beside it.
CATEGORIES = (
    NC_("category", "packages"), NC_("category", "services"), NC_("category", "ports"),
    NC_("category", "files"), NC_("category", "users"), NC_("category", "audit"),
    NC_("category", "logs"), NC_("category", "time"), NC_("category", "replication"),
    NC_("category", "backups"), NC_("category", "isolation"), NC_("category", "policy"),
    NC_("category", "drift"), NC_("category", "routing"), NC_("category", "links"),
    NC_("category", "reachability"), NC_("category", "verify"),
)
CATEGORY_ZH = {c: translator("zh").pgettext("category", c) for c in CATEGORIES}


def category_label(category: str, lang: str) -> str:
    """"服务 services" in Chinese (the English key stays, it is what --only takes)."""
    text = translator(lang).pgettext("category", category)
    return f"{text} {category}" if text != category else category


def _worst(n: Counter[Verdict]) -> Verdict:
    """The verdict a category's row is coloured by: error, then fail, then pass."""
    for v in (Verdict.error, Verdict.failed, Verdict.passed, Verdict.skipped):
        if n[v]:
            return v
    return Verdict.passed


def html_page(report: VerifyReport, topo: Topology, lang: str = "en") -> str:
    r = Redactor()
    return r.finished(_html_page(redacted(report, r), topo, lang))


def _picture(report: VerifyReport, topo: Topology, lang: str) -> str:
    """The center coloured by result, as inline SVG."""
    from pesdc.graph import center_graph

    node_status = {target.split(".")[0]: s for target, s in report.status().items()}
    try:
        svg = center_graph(topo, report.dc, lang, status=node_status).pipe(
            format="svg").decode("utf-8")
        return svg[svg.find("<svg"):]
    except Exception as exc:  # the picture is a help, not the verdict
        why = translator(lang).gettext("picture unavailable")
        return f"<p>({why}: {html.escape(str(exc))})</p>"


SHOWN = (Verdict.passed, Verdict.failed, Verdict.error, Verdict.skipped)


def _category_rows(report: VerifyReport, lang: str) -> str:
    by_cat: dict[str, Counter[Verdict]] = {}
    for c in report.checks:
        by_cat.setdefault(c.category, Counter())[c.verdict] += 1
    return "".join(
        f"<tr class='{_worst(n).value}'><td>{html.escape(category_label(cat, lang))}</td>"
        + "".join(f"<td>{n[v]}</td>" for v in SHOWN) + "</tr>"
        for cat, n in sorted(by_cat.items()))


def _failure_rows(report: VerifyReport, lang: str) -> str:
    words = WORDS["zh" if lang == "zh" else "en"]
    return "".join(
        f"<tr class='{c.verdict.value}'><td>{html.escape(words[c.verdict])}</td>"
        f"<td>{html.escape(c.target)}</td>"
        f"<td>{html.escape(category_label(c.category, lang))}</td>"
        f"<td>{html.escape(c.name)}</td><td>{html.escape(c.expected)}</td>"
        f"<td>{html.escape(c.observed)}</td><td><pre>{html.escape(c.evidence)}</pre></td></tr>"
        for c in report.failures)


def _html_page(report: VerifyReport, topo: Topology, lang: str = "en") -> str:
    _ = translator(lang).gettext
    words = WORDS["zh" if lang == "zh" else "en"]
    # PASS/FAIL stay in both languages: tools and people grep for them.
    verdict = (_("PASS") if report.ok else _("FAIL")) + f" ({summary(report.counts(), lang)})"
    summary_text = _("{n} checks in {s} s, {when}").format(
        n=len(report.checks), s=report.seconds,
        when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    cat_heads = "".join(f"<th>{html.escape(words[v])}</th>" for v in SHOWN)
    heads = "".join(f"<th>{h}</th>" for h in (
        _("verdict"), _("target"), _("category"), _("check"), _("expected"), _("observed"),
        _("evidence")))
    title, by_category, category = _("Verification"), _("Checks by category"), _("category")
    failures, picture = _("Failures and errors"), _("The center (red: failing, purple: error)")
    none = _("none")
    findings = _failure_rows(report, lang) or f"<tr><td colspan=7>{none}</td></tr>"
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
<h1>{title}: {html.escape(report.dc)}</h1>
<p class="verdict">{verdict}</p>
<p>{summary_text}</p>
<h2>{by_category}</h2>
<table><tr><th>{category}</th>{cat_heads}</tr>{_category_rows(report, lang)}</table>
<h2>{failures}</h2>
<table><tr>{heads}</tr>{findings}</table>
<h2>{picture}</h2><div class="picture">{_picture(report, topo, lang)}</div>
</body></html>
"""
