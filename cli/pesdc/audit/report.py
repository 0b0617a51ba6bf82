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

from pesdc.audit.catalog import Catalog
from pesdc.audit.engine import SCORING, SCORING_ZH
from pesdc.audit.result import AUDIT_STATES, NOT_MET, AuditReport, Msg, Status, Waiver, label
from pesdc.model.tree import Topology
from pesdc.redact import Redactor
from pesdc.render.engine import TEMPLATES

P = ParamSpec("P")

COLORS = {"pass": "#2e9d4c", "partial": "#e0a100", "fail": "#d93025", "error": "#8e3fb5",
          "na": "#9e9e9e", "manual": "#5b7fc7", "waived": "#8d6e63"}
TEXT = {
    "zh": {"title": "等级保护测评报告（第三级）", "center": "数据中心", "date": "日期",
           "mode": "方式", "profile": "测评参数", "overall": "总体得分", "counts": "测评项统计",
           "families": "各安全类得分", "family": "安全类", "score": "得分", "findings": "问题项",
           "items": "测评项", "picture": "数据中心示意图（红色：不符合）", "rule": "规则",
           "severity": "严重性", "fix": "整改建议", "evidence": "证据", "waivers": "豁免",
           "scoring": "计分方法", "none": "无", "hosts": "采集证据的主机", "kind": "检查方式",
           "static": "静态（拓扑与渲染配置）", "lab": "实验环境（主机证据）",
           "live": "现网（主机证据）", "waived": "已豁免", "expired": "豁免已过期",
           "item": "测评项", "clause": "条款", "indicator": "测评指标", "status": "结果",
           "manual_list": "人工核查项", "unscored": "不计分", "default": "默认",
           "picture_unavailable": "示意图无法生成", "approver": "审批人",
           "expires": "有效期至"},
    "en": {"title": "Graded protection assessment (level 3)", "center": "Center", "date": "Date",
           "mode": "Mode", "profile": "Profile", "overall": "Overall score",
           "counts": "Items by result", "families": "Score per family", "family": "Family",
           "score": "Score", "findings": "Findings", "items": "Items",
           "picture": "The center (red: not met)", "rule": "Rule", "severity": "Severity",
           "fix": "Remediation", "evidence": "Evidence", "waivers": "Waivers",
           "scoring": "Scoring", "none": "none", "hosts": "Hosts with collected evidence",
           "kind": "Check", "static": "static (topology and rendered configuration)",
           "lab": "lab (host evidence)", "live": "live (host evidence)", "waived": "waived",
           "expired": "waiver expired", "item": "Item", "clause": "Clause",
           "indicator": "Test indicator", "status": "Result", "manual_list": "Manual items",
           "unscored": "not scored", "default": "default",
           "picture_unavailable": "picture unavailable", "approver": "approved by",
           "expires": "expires"},
}
# severities, check kinds and evidence sources as a zh report names them (en: the key)
WORDS_ZH = {
    "severity": {"critical": "严重", "high": "高", "medium": "中", "low": "低"},
    "kind": {"topology": "拓扑", "rendered": "渲染配置", "host": "主机", "device": "设备",
             "manual": "人工核查"},
    "source": {"topology": "拓扑", "rendered": "渲染配置", "lab": "实验环境", "live": "现网"},
}


def redacted_output(write: Callable[Concatenate[AuditReport, P], str]
                    ) -> Callable[Concatenate[AuditReport, P], str]:
    """A report writer that sees the redacted report and whose text is redacted again."""
    @functools.wraps(write)
    def wrapper(report: AuditReport, /, *args: P.args, **kwargs: P.kwargs) -> str:
        redactor = Redactor()
        return redactor.finished(write(report.redacted(redactor), *args, **kwargs))
    return wrapper


def word(group: str, key: str, lang: str) -> str:
    """A severity, check kind or evidence source in the report's language."""
    return WORDS_ZH[group].get(key, key) if lang == "zh" else key


def waiver_text(w: Waiver) -> Msg:
    """Why a waived rule is skipped (JUnit)."""
    return Msg(f"waived until {w.expires} by {w.approver}: {w.justification}",
               f"已豁免，有效期至 {w.expires}（审批人：{w.approver}）：{w.justification}")


def family_chart(report: AuditReport, catalog: Catalog, lang: str) -> str:
    """One horizontal bar per family (score 0-100) and its item counts, as inline SVG."""
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
                         f'{TEXT[lang]["manual_list"]}: {fs.counts["manual"]} '
                         f'({TEXT[lang]["unscored"]})</text>')
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
        return (f"<p>（{TEXT['zh']['picture_unavailable']}：{why}）</p>" if lang == "zh" else
                f"<p>({TEXT['en']['picture_unavailable']}: {why})</p>")


def _view(report: AuditReport, catalog: Catalog, lang: str) -> dict[str, Any]:
    t = TEXT[lang]
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
    return {"t": t, "lang": lang, "r": report, "findings": findings, "families": families,
            "counts": report.counts(), "colors": COLORS,
            "labels": {s.value: label(s, lang) for s in AUDIT_STATES},
            "sources": {k: word("source", k, lang) for k in WORDS_ZH["source"]},
            "mode": t.get(report.mode, report.mode), "waivers": waivers,
            "waiver_notes": report.notes_in(lang), "profile": _profile(report, lang),
            "scoring": SCORING_ZH if lang == "zh" else SCORING,
            "title": report.title_zh if lang == "zh" else report.title_en,
            "standard": catalog.standard}


def _profile(report: AuditReport, lang: str) -> str:
    return TEXT[lang]["default"] if report.profile == "default" else report.profile


def html_environment() -> Environment:
    """The audit templates are HTML only: everything is escaped unless marked Markup
    (the chart and the picture, which pesdc draws itself)."""
    return Environment(loader=FileSystemLoader(str(TEMPLATES / "audit")), autoescape=True,
                       trim_blocks=True, lstrip_blocks=True)


@redacted_output
def html_report(report: AuditReport, catalog: Catalog, topo: Topology, lang: str = "zh") -> str:
    env = html_environment()
    from markupsafe import Markup

    view = _view(report, catalog, lang)
    view["chart"] = Markup(family_chart(report, catalog, lang))
    view["picture"] = Markup(picture(report, topo, lang))
    return env.get_template("report.html.j2").render(**view)


@redacted_output
def json_report(report: AuditReport, catalog: Catalog) -> str:
    data = report.as_dict()  # both languages, whatever --lang (see the module's doc)
    data["scoring"] = SCORING
    data["scoring_zh"] = SCORING_ZH
    data["standard"] = catalog.standard
    data["catalog"] = {"items": len(catalog.items), "rules": catalog.counts()}
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
                    why = waiver_text(r.waiver).text(lang)
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
    t = TEXT[lang]
    title = report.title_zh if lang == "zh" else report.title_en
    out = [f"# {t['title']}: {title} ({report.dc})", "",
           f"- {t['date']}: {report.date}", f"- {t['mode']}: {t.get(report.mode, report.mode)}",
           f"- {t['profile']}: {_profile(report, lang)}",
           f"- **{t['overall']}: {report.overall if report.overall is not None else '-'}**",
           f"- {t['counts']}: " + ", ".join(f"{label(Status(k), lang)} {v}"
                                             for k, v in report.counts().items()),
           f"- {t['scoring']}: {SCORING_ZH if lang == 'zh' else SCORING}", "",
           f"## {t['families']}", "", f"| {t['family']} | {t['score']} | "
           + " | ".join(label(s, lang) for s in AUDIT_STATES) + " |",
           "|---|---|" + "---|" * len(AUDIT_STATES)]
    for fam in catalog.families.values():
        fs = report.families[fam.id]
        out.append(f"| {fam.id} {fam.title(lang)} | "
                   f"{fs.score if fs.score is not None else '-'} | "
                   + " | ".join(str(fs.counts[s.value]) for s in AUDIT_STATES) + " |")
    out += ["", f"## {t['findings']}", ""]
    for r in report.findings():
        rd = catalog.rules[r.rule]
        waived = f" ({t['waived']})" if r.waived else ""
        out.append(f"### {r.rule} [{word('severity', r.severity, lang)}] "
                   f"{label(r.status, lang)}{waived}: {rd.title(lang)}")
        out.append(f"- {t['item']}: " + ", ".join(catalog.items[i].clause for i in rd.items))
        out.append(f"- {t['fix']}: {rd.fix(lang)}")
        if r.waiver:  # as the HTML report shows it
            w = r.waiver
            expired = f" ({t['expired']})" if w.expired else ""
            out.append(f"- {t['waivers']}: {w.justification} — {t['approver']} {w.approver}, "
                       f"{t['expires']} {w.expires}{expired}")
        for o in r.outcomes:
            if o.status in NOT_MET:
                out.append(f"- `{o.target_in(lang)}`: {o.message_in(lang)}")
        out.append("")
    for note in report.notes_in(lang):
        out.append(f"> {note}")
    return "\n".join(out) + "\n"
