"""The assessment's conclusion (优/良/中/差) and risk levels (pesdc/data/mlps/risk.yaml):
grade fixtures as data, the rules file itself, and the static audit of the example
tree's Jinan and Zibo with its per-unit table, problem summary and conclusion."""

from __future__ import annotations

import json
import re

import pytest

from pesdc.audit.assessment import grade, high_risk_findings, risk_of, risk_rules
from pesdc.audit.catalog import SEVERITIES, Catalog
from pesdc.audit.engine import AuditOptions, run_audit
from pesdc.audit.report import json_report, md_report
from pesdc.audit.result import NOT_MET, AuditReport, Waiver
from pesdc.model import validate
from tests.audit.conftest import pesdc
from tests.conftest import ROOT

# (overall score, high-risk findings, conclusion): the bands, their edges, the cap.
GRADES = [
    (100.0, [], "excellent"), (90.0, [], "excellent"), (89.9, [], "good"),
    (80.0, [], "good"), (79.9, [], "fair"), (70.0, [], "fair"), (69.9, [], "poor"),
    (0.0, [], "poor"),
    (100.0, ["AUD-CE-07"], "poor"), (92.4, ["AUD-CN-09", "AUD-MC-10"], "poor"),
    (75.0, ["AUD-AB-05"], "poor"), (10.0, ["AUD-CE-21"], "poor"),
    (None, [], "none"), (None, ["AUD-CE-07"], "none"),
]


@pytest.mark.parametrize("overall, high_risk, expected", GRADES)
def test_grade(overall, high_risk, expected):
    assert grade(overall, high_risk) == expected


def test_the_rules_file(catalog: Catalog):
    rules = risk_rules()
    for rid, case in rules["high_risk"].items():
        assert rid in catalog.rules and catalog.rules[rid].kind != "manual", rid
        entries = [e.strip() for e in str(case["entry"]).split(",")]
        assert all(re.fullmatch(r"A-(0[1-9]|[12]\d|3[0-2])", e) or e == "unconfirmed"
                   for e in entries), (rid, case["entry"])
        assert case["en"] and case["zh"], rid
    assert set(rules["by_severity"]) == set(SEVERITIES)
    assert set(rules["by_severity"].values()) <= {"medium", "low"}  # only the guide says high
    mins = [band["min"] for band in rules["grades"]]
    assert mins == sorted(mins, reverse=True) and mins[-1] == 0
    assert rules["with_high_risk"] == "poor"
    guide = rules["guidance"]
    assert guide["repository"] and guide["path"] and re.fullmatch(r"[0-9a-f]{40}",
                                                                  guide["commit"])


@pytest.fixture(scope="module")
def tree():
    res = validate([ROOT / "topologies"])
    assert res.report.ok
    return res.topology


@pytest.fixture(scope="module")
def audits(tree, catalog: Catalog) -> dict[str, AuditReport]:
    return {dc: run_audit(tree, dc, catalog, AuditOptions(mode="static"))
            for dc in ("jinan", "zibo")}


def test_risk_of_a_finding(audits):
    rules = risk_rules()
    for report in audits.values():
        for r in report.findings():
            expected = "high" if r.rule in rules["high_risk"] else \
                rules["by_severity"][r.severity]
            assert risk_of(r) == expected


# What the example tree's two cities leave partly met (the same three high-risk cases:
# administrators without a second factor on some servers, a public system still on
# plain HTTP, devices still offering a clear-text management protocol).
HIGH_RISK = {"jinan": ["AUD-CE-07", "AUD-CN-09", "AUD-MC-10"],
             "zibo": ["AUD-CE-07", "AUD-CN-09", "AUD-MC-10"]}


@pytest.mark.parametrize("dc", ["jinan", "zibo"])
def test_the_conclusion_of_the_example_cities(audits, catalog: Catalog, dc):
    report = audits[dc]
    assert report.high_risk == HIGH_RISK[dc] == high_risk_findings(report)
    # the score alone would give 优 or 良: the high-risk findings cap it at 差
    assert report.overall is not None and report.overall >= 80
    assert grade(report.overall, []) in ("excellent", "good")
    assert report.grade == "poor"
    data = json.loads(json_report(report, catalog))
    assert (data["grade"], data["grade_name"]) == ("poor", {"en": "poor", "zh": "差"})
    assert data["high_risk"] == HIGH_RISK[dc]
    assert data["sources"]["risk"]["repository"] == "lingfengz/dengbao-csps"
    zh = md_report(report, catalog, "zh")
    assert f"- **测评结论: 差** (高风险问题: {', '.join(HIGH_RISK[dc])})" in zh
    en = md_report(report, catalog, "en")
    assert f"- **Conclusion: poor** (high-risk findings: {', '.join(HIGH_RISK[dc])})" in en


def test_waiving_the_high_risk_findings_lifts_the_cap(tree, catalog: Catalog):
    waivers = [Waiver(rid, "compensating control accepted", "王工", "2099-12-31")
               for rid in HIGH_RISK["jinan"]]
    report = run_audit(tree, "jinan", catalog, AuditOptions(mode="static", waivers=waivers))
    assert report.high_risk == []
    assert report.overall is not None and report.overall >= 90
    assert report.grade == "excellent"
    data = json.loads(json_report(report, catalog))
    waived = {p["rule"] for p in data["problems"] if p["waived"]}
    assert waived == set(HIGH_RISK["jinan"])
    assert [p["waived"] for p in data["problems"]] == sorted(p["waived"]
                                                           for p in data["problems"])


def _md_table(text: str, heading: str) -> list[list[str]]:
    """The rows of the Markdown table under ``heading`` (header and rule lines dropped)."""
    block = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in block.splitlines() if line.startswith("|")][2:]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


@pytest.mark.parametrize("dc", ["jinan", "zibo"])
def test_the_unit_table(audits, catalog: Catalog, dc):
    report = audits[dc]
    data = json.loads(json_report(report, catalog))
    units = data["units"]
    with_unit = [i for i in catalog.items.values() if i.indicator]
    assert len(units) == len(with_unit) == 96
    series = [u["unit"].split("-")[1] for u in units]
    assert series == sorted(series, key=["PES1", "CNS1", "ABS1", "CES1", "SMC1"].index)
    for row in units:
        item = catalog.items[row["item"]]
        assert row["unit"] == item.indicator and row["clause"] == item.clause
        assert row["status"] == report.items[item.id].effective.value
        assert row["title"] == item.en and row["title_zh"] == item.zh
        for rid in item.rules:  # the evidence names each of the item's rules
            assert rid in row["evidence"] and rid in row["evidence_zh"]
    # L3-CES1-04 (8.1.4.1 d, two factors) is the item AUD-CE-07 leaves partly met
    ces04 = next(u for u in units if u["unit"] == "L3-CES1-04")
    assert ces04["status"] == "partial" and "AUD-CE-07 partial" in ces04["evidence"]
    table = _md_table(md_report(report, catalog, "zh"), "测评单元结果")
    assert [r[0] for r in table] == [u["unit"] for u in units]
    assert [r[2] for r in table] == [u["label_zh"] for u in units]
    assert all(r[1].startswith(u["clause"]) for r, u in zip(table, units, strict=True))


@pytest.mark.parametrize("dc", ["jinan", "zibo"])
def test_the_problem_summary(audits, catalog: Catalog, dc):
    report = audits[dc]
    data = json.loads(json_report(report, catalog))
    problems = data["problems"]
    assert sorted(p["rule"] for p in problems) == sorted(r.rule for r in report.findings())
    assert all(p["status"] in {s.value for s in NOT_MET} for p in problems)
    order = ["high", "medium", "low"]
    assert [order.index(p["risk"]) for p in problems] == sorted(order.index(p["risk"])
                                                                for p in problems)
    assert [p["rule"] for p in problems if p["risk"] == "high"] == HIGH_RISK[dc]
    high = risk_rules()["high_risk"]
    for p in problems:
        rd = catalog.rules[p["rule"]]
        assert p["remediation"] == rd.fix_en and p["remediation_zh"] == (rd.fix_zh
                                                                        or rd.fix_en)
        assert p["units"] == sorted({catalog.items[i].indicator for i in rd.items},
                                    key=[u["unit"] for u in data["units"]].index)
        if p["risk"] == "high":
            assert high[p["rule"]]["entry"] in p["basis"]
        else:
            assert p["basis"] == f"severity {rd.severity}"
    table = _md_table(md_report(report, catalog, "zh"), "问题汇总")
    assert [r[0] for r in table] == [p["rule"] for p in problems]
    assert [r[3] for r in table] == [p["risk_zh"] for p in problems]
    assert [r[1] for r in table] == [", ".join(p["units"]) for p in problems]
    assert all(" ".join(p["remediation_zh"].split()).replace("|", "\\|") == r[5]
               for r, p in zip(table, problems, strict=True))
    en = _md_table(md_report(report, catalog, "en"), "Problem summary")
    assert [r[3] for r in en] == [p["risk"] for p in problems]


def test_zibo_without_an_offsite_copy_is_a_low_risk_finding(audits, catalog: Catalog):
    # 8.1.4.9 b (off-site backup): not a case of the trigger table, so by severity
    data = json.loads(json_report(audits["zibo"], catalog))
    ce22 = next(p for p in data["problems"] if p["rule"] == "AUD-CE-22")
    assert (ce22["status"], ce22["risk"], ce22["units"]) == ("fail", "low", ["L3-CES1-30"])
    assert "AUD-CE-22" not in [p["rule"] for p in json.loads(
        json_report(audits["jinan"], catalog))["problems"]]


def test_the_command_states_the_conclusion(audits):
    res = pesdc("audit", str(ROOT / "topologies"), "--all", "--format", "md")
    assert res.returncode == 0, res.stderr
    head, _rule, *rows = [line for line in res.stdout.splitlines() if line.startswith("|")]
    assert head.split("|")[3].strip() == "conclusion"
    by_dc = {cells[0]: cells for cells in (
        [c.strip() for c in row.split("|")[1:-1]] for row in rows)}
    for dc, report in audits.items():
        assert by_dc[dc][1:4] == [str(report.overall), report.grade,
                                  ", ".join(report.high_risk)]
    one = pesdc("audit", str(ROOT / "topologies"), "--dc", "zibo", "--format", "json")
    assert one.returncode == 0, one.stderr
    assert (f"overall {audits['zibo'].overall}, conclusion poor (high risk: "
            f"{', '.join(HIGH_RISK['zibo'])});") in one.stderr
