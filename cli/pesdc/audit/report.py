"""Audit output: HTML for auditors (inline SVG charts, the center's picture coloured by
result, findings with evidence in <details>), JSON, JUnit XML and Markdown; zh or en.

HTML, Markdown and JUnit are written in one language, ``--lang``: every finding message,
note and caption is a ``Msg`` and the report takes its half. JSON is for programs and
carries both whatever ``--lang`` says: ``message`` (English, as before) beside
``message_zh``, likewise ``target_zh``, ``note_zh``, ``waiver_notes_zh``, ``scoring_zh``
and ``text_zh`` for evidence captions written by pesdc.

Every writer goes through :func:`redacted_output`: the report is redacted before it is
formatted (:mod:`pesdc.redact`: known secrets to placeholders, evidence masked by shape)
and the finished text once more for known values, raw or escaped. The HTML template is
autoescaped: evidence is text read from hosts, never markup."""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec
from xml.etree import ElementTree as ET

from jinja2 import Environment, FileSystemLoader

from pesdc.audit.assessment import (
    grade_name,
    problems,
    risk_name,
    risk_rules,
    unit_rows,
    units_list,
)
from pesdc.audit.catalog import Catalog
from pesdc.audit.result import (
    AUDIT_STATES,
    NOT_MET,
    AuditReport,
    RuleResult,
    Status,
    Waiver,
    label,
)
from pesdc.i18n import N_, NC_, translator
from pesdc.model.tree import Topology
from pesdc.redact import Redactor
from pesdc.render.engine import TEMPLATES

P = ParamSpec("P")

COLORS = {"pass": "#2e9d4c", "partial": "#e0a100", "fail": "#d93025", "error": "#8e3fb5",
          "na": "#9e9e9e", "manual": "#5b7fc7", "waived": "#8d6e63"}
# How an audit was made, as its report names it.
MODES = {"static": N_("static (topology and rendered configuration)"),
         "lab": N_("lab (host evidence)"), "live": N_("live (host evidence)")}
# Severities, check kinds and evidence sources: English reports show the key itself,
# a zh report its translation (the group is the message's context).
WORDS = {
    "severity": (NC_("severity", "critical"), NC_("severity", "high"),
                 NC_("severity", "medium"), NC_("severity", "low")),
    "kind": (NC_("kind", "topology"), NC_("kind", "rendered"), NC_("kind", "host"),
             NC_("kind", "device"), NC_("kind", "manual")),
    "source": (NC_("source", "topology"), NC_("source", "rendered"), NC_("source", "lab"),
               NC_("source", "live")),
}
# How the scores are computed (engine.py), in the report's words.
SCORING = N_("item: pass 1, partial 0.5, fail 0, error (not judged) 0; not applicable, "
             "waived and manual items are not scored; family score = mean of its scored "
             "items x 100; overall = mean of the family scores weighted by family weight "
             "(families without scored items left out)")


def redacted_output(write: Callable[Concatenate[AuditReport, P], str]
                    ) -> Callable[Concatenate[AuditReport, P], str]:
    """A report writer that sees the redacted report and whose text is redacted again."""
    @functools.wraps(write)
    def wrapper(report: AuditReport, /, *args: P.args, **kwargs: P.kwargs) -> str:
        redactor = Redactor()
        return redactor.finished(write(report.redacted(redactor), *args, **kwargs))
    return wrapper


def word(group: str, key: str, lang: str) -> str:
    """A severity, check kind or evidence source (a key of :data:`WORDS`) in ``lang``."""
    return translator(lang).pgettext(group, key)


def mode_text(mode: str, lang: str) -> str:
    """How the audit was made, in ``lang`` (an unknown mode as it is)."""
    return translator(lang).gettext(MODES[mode]) if mode in MODES else mode


def waiver_text(w: Waiver, lang: str) -> str:
    """Why a waived rule is skipped (JUnit)."""
    return translator(lang).gettext(
        "waived until {expires} by {approver}: {justification}").format(
        expires=w.expires, approver=w.approver, justification=w.justification)


def family_chart(report: AuditReport, catalog: Catalog, lang: str) -> str:
    """One horizontal bar per family (score 0-100) and its item counts, as inline SVG."""
    _ = translator(lang).gettext
    manual, unscored = _("Manual items"), _("not scored")
    rows = list(catalog.families.values())
    width, left, bar_w, row_h = 1180, 230, 420, 34
    height = 30 + row_h * len(rows)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" class="chart" '
             f'font-family="Noto Sans CJK SC, sans-serif" font-size="13">']
    for x in (0, 25, 50, 75, 100):
        px = left + bar_w * x / 100
        parts.append(f'<line x1="{px}" y1="18" x2="{px}" y2="{height - 6}" stroke="#ddd"/>'
                     f'<text x="{px}" y="13" text-anchor="middle" fill="#777">{x}</text>')
    for i, fam in enumerate(rows):
        y = 22 + i * row_h
        fs = report.families[fam.id]
        name = html.escape(f"{fam.id} {fam.title(lang)}")
        parts.append(f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">{name}</text>')
        if fs.score is None:
            parts.append(f'<rect x="{left}" y="{y + 4}" width="{bar_w}" height="18" '
                         f'fill="#eef2fb"/><text x="{left + 6}" y="{y + 17}" fill="#5b7fc7">'
                         f'{manual}: {fs.counts["manual"]} ({unscored})</text>')
            continue
        color = COLORS["pass"] if fs.score >= 90 else COLORS["partial"] if fs.score >= 70 \
            else COLORS["fail"]
        w = bar_w * fs.score / 100
        parts.append(f'<rect x="{left}" y="{y + 4}" width="{bar_w}" height="18" fill="#f1f1f1"/>'
                     f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="18" '
                     f'fill="{color}"><title>{fs.score}</title></rect>'
                     f'<text x="{left + bar_w + 8}" y="{y + 17}" font-weight="bold">'
                     f'{fs.score:g}</text>')
        counts = "  ".join(f"{label(Status(k), lang)} {v}" for k, v in fs.counts.items() if v)
        parts.append(f'<text x="{left + bar_w + 60}" y="{y + 17}" fill="#555" '
                     f'font-size="11">{html.escape(counts)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def picture(report: AuditReport, topo: Topology, lang: str) -> str:
    from pesdc.graph import center_graph

    try:
        svg = center_graph(topo, report.dc, lang, status=report.target_status()).pipe(
            format="svg").decode("utf-8")
        return svg[svg.find("<svg"):]
    except Exception as exc:  # the picture is a help, not the verdict
        why = html.escape(str(exc))
        return "<p>" + translator(lang).gettext("(picture unavailable: {why})").format(
            why=why) + "</p>"


def _view(report: AuditReport, catalog: Catalog, lang: str) -> dict[str, Any]:
    findings = []
    sev_order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    for r in sorted(report.findings(), key=lambda r: (sev_order[r.severity], r.rule)):
        rd = catalog.rules[r.rule]
        findings.append({
            "rule": r.rule, "title": rd.title(lang), "severity": r.severity, "kind": r.kind,
            "severity_label": word("severity", r.severity, lang),
            "kind_label": word("kind", r.kind, lang),
            "status": r.status.value, "label": label(r.status, lang), "fix": rd.fix(lang),
            "items": [f"{catalog.items[i].clause} {catalog.items[i].title(lang)}"
                      for i in rd.items],
            "waived": r.waived, "waiver": r.waiver,
            "outcomes": [o for o in r.outcomes if o.status in NOT_MET],
            "passed": sum(o.status is Status.passed for o in r.outcomes)})
    families = []
    for fam in catalog.families.values():
        items = []
        for it in catalog.items_of(fam.id):
            res = report.items[it.id]
            items.append({"id": it.id, "clause": it.clause, "indicator": it.indicator,
                          "title": it.title(lang), "status": res.effective.value,
                          "label": label(res.effective, lang), "waived": res.waived,
                          "rules": [{"id": rid, "status": report.rules[rid].effective.value,
                                     "label": label(report.rules[rid].effective, lang)}
                                    for rid in it.rules]})
        fs = report.families[fam.id]
        families.append({"id": fam.id, "title": fam.title(lang), "score": fs.score,
                         "counts": fs.counts, "items": items})
    waivers = [r.waiver for r in report.rules.values() if r.waiver] + \
              [i.waiver for i in report.items.values() if i.waiver]
    return {"lang": lang, "r": report, "findings": findings, "families": families,
            "counts": report.counts(), "colors": COLORS,
            "labels": {s.value: label(s, lang) for s in AUDIT_STATES},
            "sources": {k: word("source", k, lang) for k in WORDS["source"]},
            "mode": mode_text(report.mode, lang), "waivers": waivers,
            "waiver_notes": report.notes_in(lang), "profile": _profile(report, lang),
            "scoring": translator(lang).gettext(SCORING),
            "title": report.title_zh if lang == "zh" else report.title_en,
            "standard": catalog.standard, "grade": grade_name(report.grade, lang),
            "units": unit_rows(report, catalog), "problems": problems(report, catalog),
            "risk_names": {k: risk_name(k, lang) for k in ("high", "medium", "low")}}


def _profile(report: AuditReport, lang: str) -> str:
    return translator(lang).gettext("default") if report.profile == "default" \
        else report.profile


def html_environment(lang: str) -> Environment:
    """The audit templates in ``lang`` (``_()`` is its catalog's gettext). They are HTML
    only: everything is escaped, translations too, unless marked Markup (the chart and
    the picture, which pesdc draws itself)."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES / "audit")), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translator(lang), newstyle=False)  # type: ignore[attr-defined]
    return env


@redacted_output
def html_report(report: AuditReport, catalog: Catalog, topo: Topology, lang: str = "zh") -> str:
    env = html_environment(lang)
    from markupsafe import Markup

    view = _view(report, catalog, lang)
    view["chart"] = Markup(family_chart(report, catalog, lang))
    view["picture"] = Markup(picture(report, topo, lang))
    return env.get_template("report.html.j2").render(**view)


# The shape of the JSON below; raised when a reader would misread the new one.
FORMAT_VERSION = 1


@redacted_output
def json_report(report: AuditReport, catalog: Catalog) -> str:
    data = report.as_dict()  # both languages, whatever --lang (see the module's doc)
    data["format_version"] = FORMAT_VERSION  # what readers (pesdc report national) check
    data["scoring"] = SCORING
    data["scoring_zh"] = translator("zh").gettext(SCORING)
    data["standard"] = catalog.standard
    data["catalog"] = {"items": len(catalog.items), "rules": catalog.counts()}
    data["grade_name"] = {"en": grade_name(report.grade, "en"),
                          "zh": grade_name(report.grade, "zh")}
    data["units"] = [row.as_dict() for row in unit_rows(report, catalog)]
    data["problems"] = [p.as_dict() for p in problems(report, catalog)]
    data["sources"] = {"units": units_list()["sources"], "risk": risk_rules()["guidance"]}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


@redacted_output
def junit_report(report: AuditReport, catalog: Catalog, lang: str = "en") -> str:
    efx = [r.effective for r in report.rules.values()]
    suites = ET.Element("testsuites", name=f"pesdc audit {report.dc}",
                        tests=str(len(report.rules)),
                        failures=str(sum(e in (Status.failed, Status.partial) for e in efx)),
                        errors=str(efx.count(Status.error)), time=str(report.seconds))
    not_run = (Status.na, Status.manual, Status.waived)
    for fam in catalog.families.values():
        rules = [r for r in report.rules.values()
                 if any(catalog.items[i].family == fam.id for i in catalog.rules[r.rule].items)]
        fails = sum(r.effective in (Status.failed, Status.partial) for r in rules)
        errors = sum(r.effective is Status.error for r in rules)
        skips = sum(r.effective in not_run for r in rules)
        suite = ET.SubElement(suites, "testsuite", name=f"{fam.id} {fam.title(lang)}",
                              tests=str(len(rules)), failures=str(fails), errors=str(errors),
                              skipped=str(skips))
        for r in rules:
            rd = catalog.rules[r.rule]
            case = ET.SubElement(suite, "testcase", classname=f"{report.dc}.{fam.key}",
                                 name=f"{r.rule} {rd.title(lang)}")
            if r.effective in not_run:
                why = r.note_in(lang) or label(r.effective, lang)
                if r.waived and r.waiver:
                    why = waiver_text(r.waiver, lang)
                ET.SubElement(case, "skipped", message=why)
            elif r.effective in NOT_MET:
                bad = [o for o in r.outcomes if o.status in NOT_MET]
                colon, sep = ("：", "；") if lang == "zh" else (": ", "; ")
                # JUnit's <error>: the rule could not be judged, which CI shows as such.
                tag = "error" if r.effective is Status.error else "failure"
                fail = ET.SubElement(case, tag, message=label(r.effective, lang) + colon
                                     + sep.join(f"{o.target_in(lang)}{colon}"
                                                f"{o.message_in(lang)}" for o in bad[:5]))
                fail.text = "\n\n".join(
                    f"{o.target_in(lang)}{colon}{o.message_in(lang)}\n" + "\n".join(
                        f"--- {e.label}\n{e.text_in(lang)}" for e in o.evidence)
                    for o in bad[:20])
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


@redacted_output
def md_report(report: AuditReport, catalog: Catalog, lang: str = "en") -> str:
    out = _md_summary(report, catalog, lang)
    for r in report.findings():
        out += _md_finding(r, catalog, lang)
    out += _md_units(report, catalog, lang) + _md_problems(report, catalog, lang)
    for note in report.notes_in(lang):
        out.append(f"> {note}")
    return "\n".join(out) + "\n"


def _md_summary(report: AuditReport, catalog: Catalog, lang: str) -> list[str]:
    """The title, the facts of the audit and the table of family scores."""
    _ = translator(lang).gettext
    title = report.title_zh if lang == "zh" else report.title_en
    overall = report.overall if report.overall is not None else "-"
    counts = ", ".join(f"{label(Status(k), lang)} {v}" for k, v in report.counts().items())
    states = " | ".join(label(s, lang) for s in AUDIT_STATES)
    out = [
        "# {}: {} ({})".format(_("Graded protection assessment (level 3)"), title, report.dc),
        "", "- {}: {}".format(_("Date"), report.date),
        "- {}: {}".format(_("Mode"), mode_text(report.mode, lang)),
        "- {}: {}".format(_("Profile"), _profile(report, lang)),
        "- **{}: {}**".format(_("Overall score"), overall),
        "- **{}: {}**".format(_("Conclusion"), grade_name(report.grade, lang))
        + ("" if not report.high_risk else " ({}: {})".format(
            _("high-risk findings"), ", ".join(report.high_risk))),
        "- {}: {}".format(_("Items by result"), counts),
        "- {}: {}".format(_("Scoring"), _(SCORING)), "",
        "## {}".format(_("Score per family")), "",
        "| {} | {} | {} |".format(_("Family"), _("Score"), states),
        "|---|---|" + "---|" * len(AUDIT_STATES)]
    for fam in catalog.families.values():
        fs = report.families[fam.id]
        out.append(f"| {fam.id} {fam.title(lang)} | "
                   f"{fs.score if fs.score is not None else '-'} | "
                   + " | ".join(str(fs.counts[s.value]) for s in AUDIT_STATES) + " |")
    return [*out, "", "## {}".format(_("Findings")), ""]


def _md_finding(r: RuleResult, catalog: Catalog, lang: str) -> list[str]:
    """One finding: its heading, items, remediation, waiver and what was not met."""
    _ = translator(lang).gettext
    rd = catalog.rules[r.rule]
    waived = " ({})".format(_("waived")) if r.waived else ""
    out = [f"### {r.rule} [{word('severity', r.severity, lang)}] "
           f"{label(r.status, lang)}{waived}: {rd.title(lang)}",
           "- {}: {}".format(_("Item"), ", ".join(catalog.items[i].clause for i in rd.items)),
           "- {}: {}".format(_("Remediation"), rd.fix(lang))]
    if r.waiver:  # as the HTML report shows it
        w = r.waiver
        expired = " ({})".format(_("waiver expired")) if w.expired else ""
        out.append("- {}: {} — {} {}, {} {}{}".format(
            _("Waivers"), w.justification, _("approved by"), w.approver, _("expires"),
            w.expires, expired))
    out += [f"- `{o.target_in(lang)}`: {o.message_in(lang)}"
            for o in r.outcomes if o.status in NOT_MET]
    return [*out, ""]


def _cell(text: str) -> str:
    """Text in a Markdown table cell: no line break, no column separator."""
    return " ".join(text.split()).replace("|", "\\|")


def _md_units(report: AuditReport, catalog: Catalog, lang: str) -> list[str]:
    """The result of every test unit, in the assessment report's order."""
    _ = translator(lang).gettext
    out = ["## {}".format(_("Results per test unit")), "",
           "| {} | {} | {} | {} |".format(_("Test unit"), _("Item"), _("Result"),
                                          _("Evidence summary")),
           "|---|---|---|---|"]
    for row in unit_rows(report, catalog):
        out.append(f"| {row.unit} | {row.clause} {_cell(row.title.text(lang))} | "
                   f"{label(row.status, lang)} | {_cell(row.evidence.text(lang))} |")
    return [*out, ""]


def _md_problems(report: AuditReport, catalog: Catalog, lang: str) -> list[str]:
    """The problem summary: each finding's risk level, its basis and its remediation."""
    _ = translator(lang).gettext
    out = ["## {}".format(_("Problem summary")), "",
           "| {} | {} | {} | {} | {} | {} |".format(
               _("Rule"), _("Test unit"), _("Problem"), _("Risk"), _("Basis"),
               _("Remediation")),
           "|---|---|---|---|---|---|"]
    for p in problems(report, catalog):
        waived = " ({})".format(_("waived")) if p.waived else ""
        out.append(f"| {p.rule} | {', '.join(p.units)} | {_cell(p.title.text(lang))} "
                   f"({label(p.status, lang)}){waived} | {risk_name(p.risk, lang)} | "
                   f"{_cell(p.basis.text(lang))} | {_cell(p.remediation.text(lang))} |")
    if len(out) == 4:
        out.append("| - | - | {} | - | - | - |".format(_("none")))
    return [*out, ""]
