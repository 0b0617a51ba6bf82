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
    assert "FAIL 未通过: 1" in text and "验证报告: weihai" in text
    assert "服务 services" in text and "区域隔离 isolation" in text
    assert "3 项检查，用时 1.5 秒" in text
    # the failing check is listed with what was expected and what was seen
    row = re.search(r"<tr class='fail'><td>backup-1\.weihai</td>.*?</tr>", page)
    assert row and "stopped" in row.group(0) and "服务 services" in row.group(0)


def test_en_page_has_no_chinese_headings():
    topo = load([CITY]).topology
    page = html_page(_report(), topo, "en")
    text = _text(page.split('<div class="picture">')[0])
    assert '<html lang="en">' in page
    assert "FAIL: 1" in text and "Checks by category" in text
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
