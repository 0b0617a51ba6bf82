"""Verify output: JUnit XML for CI, an HTML page with the center's picture coloured by
result, and a terminal summary."""

from __future__ import annotations

import html
import time
from collections import Counter
from xml.etree import ElementTree as ET

from pesdc.model.tree import Topology
from pesdc.verify.checks import VerifyReport


def junit_xml(report: VerifyReport) -> str:
    suites = ET.Element("testsuites", name=f"pesdc verify {report.dc}",
                        tests=str(len(report.checks)), failures=str(len(report.failures)),
                        time=str(report.seconds))
    by_cat: dict[str, list] = {}
    for c in report.checks:
        by_cat.setdefault(c.category, []).append(c)
    for cat, checks in sorted(by_cat.items()):
        fails = sum(not c.ok for c in checks)
        skips = sum(bool(c.skipped) for c in checks)
        suite = ET.SubElement(suites, "testsuite", name=f"{report.dc}.{cat}",
                              tests=str(len(checks)), failures=str(fails),
                              skipped=str(skips))
        for c in checks:
            case = ET.SubElement(suite, "testcase", classname=f"{report.dc}.{cat}.{c.target}",
                                 name=c.name)
            if c.skipped:
                ET.SubElement(case, "skipped", message=c.skipped)
            elif not c.ok:
                fail = ET.SubElement(case, "failure",
                                     message=f"expected {c.expected}, observed {c.observed}")
                fail.text = c.evidence
            elif c.evidence:
                out = ET.SubElement(case, "system-out")
                out.text = c.evidence
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


def html_page(report: VerifyReport, topo: Topology, lang: str = "en") -> str:
    from pesdc.graph import center_graph

    status = report.status()
    node_status = {t.split(".")[0]: s for t, s in status.items()}
    try:
        svg = center_graph(topo, report.dc, lang, status=node_status).pipe(
            format="svg").decode("utf-8")
        svg = svg[svg.find("<svg"):]
    except Exception as exc:  # the picture is a help, not the verdict
        svg = f"<p>(picture unavailable: {html.escape(str(exc))})</p>"
    counts = Counter(c.category for c in report.checks)
    fails = Counter(c.category for c in report.failures)
    rows = "".join(
        f"<tr class='{'fail' if fails[cat] else 'pass'}'><td>{html.escape(cat)}</td>"
        f"<td>{counts[cat] - fails[cat]}</td><td>{fails[cat]}</td></tr>"
        for cat in sorted(counts))
    findings = "".join(
        f"<tr class='fail'><td>{html.escape(c.target)}</td><td>{html.escape(c.category)}</td>"
        f"<td>{html.escape(c.name)}</td><td>{html.escape(c.expected)}</td>"
        f"<td>{html.escape(c.observed)}</td><td><pre>{html.escape(c.evidence)}</pre></td></tr>"
        for c in report.failures)
    verdict = "PASS 通过" if report.ok else f"FAIL 未通过: {len(report.failures)}"
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>pesdc verify {html.escape(report.dc)}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; }}
tr.fail td {{ background: #fde2e2; }} tr.pass td {{ background: #e3f6e3; }}
.verdict {{ font-size: 1.6em; font-weight: bold; }}
pre {{ max-width: 60em; white-space: pre-wrap; margin: 0; }}
.picture svg {{ max-width: 100%; height: auto; }}
</style></head><body>
<h1>验证报告 Verification: {html.escape(report.dc)}</h1>
<p class="verdict">{verdict}</p>
<p>{len(report.checks)} checks in {report.seconds} s, {time.strftime('%Y-%m-%d %H:%M UTC',
                                                                      time.gmtime())}</p>
<h2>检查项 Checks by category</h2>
<table><tr><th>category</th><th>passed</th><th>failed</th></tr>{rows}</table>
<h2>失败项 Failures</h2>
<table><tr><th>target</th><th>category</th><th>check</th><th>expected</th><th>observed</th>
<th>evidence</th></tr>{findings or "<tr><td colspan=6>none</td></tr>"}</table>
<h2>数据中心 The center (red: failing)</h2><div class="picture">{svg}</div>
</body></html>
"""
