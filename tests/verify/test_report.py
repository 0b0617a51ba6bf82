"""The verify HTML page reads in the language asked for (no lab: a report of real Check
results over the lab city's topology, its picture drawn by graphviz)."""

from __future__ import annotations

import re
from pathlib import Path

from pesdc.model.loader import load
from pesdc.verify.checks import Check, VerifyReport
from pesdc.verify.report import CATEGORY_ZH, html_page

CITY = Path(__file__).resolve().parents[2] / "tests/fixtures/labcity"


def _report() -> VerifyReport:
    return VerifyReport("weihai", seconds=1.5, checks=[
        Check("mis-1.weihai", "services", "chrony running", True, "running", "running"),
        Check("backup-1.weihai", "services", "chrony running", False, "running", "stopped"),
        Check("fw-1.weihai", "isolation", "exchange -> decision tcp/5432", True, "blocked",
              "blocked"),
    ])


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_zh_page_is_chinese_with_the_english_keys_beside():
    topo = load([CITY]).topology
    page = html_page(_report(), topo, "zh")
    text = _text(page)
    assert '<html lang="zh-CN">' in page and "<svg" in page
    assert "FAIL 未通过 (2 通过，1 未通过)" in text and "验证报告: weihai" in text
    assert "服务 services" in text and "区域隔离 isolation" in text
    assert "3 项检查，用时 1.5 秒" in text
    # the failing check is listed with what was expected and what was seen
    row = re.search(r"<tr class='fail'><td>未通过</td><td>backup-1\.weihai</td>.*?</tr>", page)
    assert row and "stopped" in row.group(0) and "服务 services" in row.group(0)


def test_en_page_has_no_chinese_headings():
    topo = load([CITY]).topology
    page = html_page(_report(), topo, "en")
    text = _text(page.split('<div class="picture">')[0])
    assert '<html lang="en">' in page
    assert "FAIL (2 passed, 1 failed)" in text and "Checks by category" in text
    assert not re.search(r"[\u4e00-\u9fff]", text), text
    assert "services" in text and all(zh not in text for zh in CATEGORY_ZH.values())


def test_every_category_verify_produces_has_a_chinese_label():
    import pesdc.verify as pkg

    used = set()
    for f in Path(pkg.__file__).parent.glob("*.py"):
        used |= set(re.findall(r'add\(\s*"([a-z]+)"', f.read_text()))
        used |= set(re.findall(r'Check\([^,]+,\s*"([a-z]+)"', f.read_text()))
    assert used, "no categories found: the pattern no longer matches verify's code"
    assert used <= set(CATEGORY_ZH), used - set(CATEGORY_ZH)


def _with_error_and_skip() -> VerifyReport:
    report = _report()
    report.checks += [
        Check.errored("log-1.weihai", "logs", "log server receives", "ssh: connect to host "
                      "log-1.weihai port 22: No route to host"),
        Check("app-1.weihai", "audit", "audit rules loaded", True,
              skipped="the lab's hosts share one kernel"),
    ]
    return report


def test_an_error_is_its_own_verdict_and_fails_the_report():
    report = _with_error_and_skip()
    err = report.checks[3]
    assert err.verdict.value == "error" and not err.ok and "No route to host" in err.error
    assert report.checks[4].verdict.value == "skipped"
    assert not report.ok and err in report.failures and report.errors == [err]
    counts = report.counts()
    assert (counts["pass"], counts["fail"], counts["error"], counts["skipped"]) == (2, 1, 1, 1)
    assert err.as_dict()["verdict"] == "error"


def test_junit_shows_an_error_as_error_and_a_skip_as_skipped():
    from xml.etree import ElementTree as ET

    from pesdc.verify.report import junit_xml

    root = ET.fromstring(junit_xml(_with_error_and_skip()))
    assert (root.get("tests"), root.get("failures"), root.get("errors"),
            root.get("skipped")) == ("5", "1", "1", "1")
    cases = {c.get("name") + "@" + c.get("classname"): c for c in root.iter("testcase")}
    logs = cases["log server receives@weihai.logs.log-1.weihai"]
    assert logs.find("failure") is None
    assert "No route to host" in logs.find("error").get("message")
    assert cases["audit rules loaded@weihai.audit.app-1.weihai"].find("skipped") is not None


def test_html_gives_an_error_its_own_colour_and_row():
    from pesdc.verdict import COLOURS, Verdict

    topo = load([CITY]).topology
    page = html_page(_with_error_and_skip(), topo, "en")
    assert f"tr.error td {{ background: {COLOURS[Verdict.error]}; }}" in page
    assert COLOURS[Verdict.error] != COLOURS[Verdict.failed]
    row = re.search(r"<tr class='error'><td>error</td><td>log-1\.weihai</td>.*?</tr>", page)
    assert row and "No route to host" in row.group(0)
    assert "FAIL (2 passed, 1 failed, 1 error, 1 skipped)" in _text(page)
