"""`pesdc report national`: the page's DOM (lxml's HTML parser), the JSON against its
schema, and bad input. Results: see conftest (real static audits; verify JUnit written by
verify's report code on built checks)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import lxml.html
import pytest

from tests.report.conftest import ROOT, pesdc, results_dir, verify_junit

SCHEMA = ROOT / "cli" / "pesdc" / "data" / "schemas" / "national-report.schema.json"
pytestmark = pytest.mark.slow


def report(results: Path, tree: Path, *args: str) -> tuple[str, str, int]:
    res = pesdc("report", "national", str(results), "--tree", str(tree), *args)
    return res.stdout, res.stderr, res.returncode


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory, example_tree: Path,
         jinan_audit: Path) -> Path:
    """Jinan: audited (high-risk findings) and verified; Zibo: verify failed only;
    Heze, Shandong and the ministry: nothing."""
    return results_dir(tmp_path_factory.mktemp("held"), {"jinan": jinan_audit},
                       {"jinan": verify_junit("jinan"), "zibo": verify_junit("zibo", 2)})


@pytest.fixture(scope="module")
def page(held: Path, example_tree: Path) -> lxml.html.HtmlElement:
    out, err, rc = report(held, example_tree, "--lang", "zh")
    assert rc == 0, err
    return lxml.html.fromstring(out)


def test_tree_nests_ministry_province_city(page: lxml.html.HtmlElement):
    path = page.xpath("//ul[@id='tree']/li[@id='c-mohrss']/ul/li[@id='c-shandong']/ul/li")
    assert sorted(li.get("id") for li in path) == [
        "c-binzhou", "c-heze", "c-jinan", "c-zibo"]
    assert page.xpath("//li[@id='c-shandong']/@data-tier") == ["province"]
    assert "济南" in page.xpath("string(//li[@id='c-jinan']/span[@class='name'])")


def test_high_risk_finding_shown(page: lxml.html.HtmlElement):
    findings = page.xpath("//li[@id='c-jinan']/ul[@class='high-risk']/li")
    assert findings and any("AUD-CE-06" in f.text_content() for f in findings)
    assert all("高风险" in f.text_content() for f in findings)


def test_missing_evidence_shown_as_missing(page: lxml.html.HtmlElement):
    heze = page.xpath("//li[@id='c-heze']")[0]
    assert heze.get("data-evidence") == "none"
    assert "无证据" in heze.text_content() and "PASS" not in heze.text_content()
    zibo = page.xpath("//li[@id='c-zibo']")[0]  # verify only: partial, and failing
    assert zibo.get("data-evidence") == "partial"
    assert "FAIL" in zibo.text_content() and "审计：无结果" in zibo.text_content()
    assert page.xpath("//li[@id='c-binzhou']/@data-evidence") == ["hosted"]


def test_high_risk_holds_a_city_the_topology_lets_move(page: lxml.html.HtmlElement):
    assert page.xpath("//ul[@id='ready']/li[@data-city]") == []
    held = page.xpath("//ul[@id='held']/li[@data-city='jinan']")
    assert held and "高风险" in held[0].text_content()


def test_city_ready_for_next_stage(tmp_path: Path, example_tree: Path,
                                   jinan_audit_waived: Path):
    results = results_dir(tmp_path, {"jinan": jinan_audit_waived},
                          {"jinan": verify_junit("jinan")})
    out, err, rc = report(results, example_tree, "--lang", "en")
    assert rc == 0, err
    dom = lxml.html.fromstring(out)
    ready = dom.xpath("//ul[@id='ready']/li[@data-city='jinan']")
    assert ready and "2 → 3" in ready[0].text_content()
    assert "Jinan" in ready[0].text_content()


def test_json_matches_its_schema(held: Path, example_tree: Path):
    out, err, rc = report(held, example_tree, "--format", "json")
    assert rc == 0, err
    data = json.loads(out)
    jsonschema.validate(data, json.loads(SCHEMA.read_text(encoding="utf-8")))
    shandong = data["tree"][0]["children"][0]
    by_name = {c["name"]: c for c in shandong["children"]}
    assert by_name["heze"]["evidence"] == "none" and by_name["heze"]["verify"] is None
    assert by_name["zibo"]["verify"]["state"] == "fail"
    assert by_name["jinan"]["stage"] == {"declared": 2, "meets": 3, "next": None,
                                         "unmet_for_next": 0}
    assert [h["because"] for h in data["held"]] == [["high-risk findings"]]


def test_old_evidence_is_stale(tmp_path: Path, example_tree: Path, jinan_audit_waived: Path):
    results = results_dir(tmp_path, {"jinan": jinan_audit_waived},
                          {"jinan": verify_junit("jinan")})
    old = 1_700_000_000  # 2023-11-14
    os.utime(results / "jinan" / "verify.xml", (old, old))
    out, err, rc = report(results, example_tree, "--format", "json", "--stale-days", "90")
    assert rc == 0, err
    data = json.loads(out)
    jinan = data["tree"][0]["children"][0]["children"][2]
    assert jinan["name"] == "jinan" and jinan["evidence"] == "stale"
    assert jinan["verify"]["stale"] and not jinan["audit"]["stale"]
    assert data["ready"] == [] and data["held"][0]["because"] == ["stale evidence"]


def test_verify_with_an_error_is_never_a_pass(tmp_path: Path, example_tree: Path):
    results = results_dir(tmp_path, {}, {"heze": verify_junit("heze", errors=1)})
    out, _, rc = report(results, example_tree, "--format", "json")
    heze = json.loads(out)["tree"][0]["children"][0]["children"][1]
    assert rc == 0 and heze["verify"]["state"] == "error"


def test_bad_input_named_with_its_file(tmp_path: Path, example_tree: Path, jinan_audit: Path):
    results = results_dir(tmp_path, {"zibo": jinan_audit}, {"atlantis": verify_junit("x")})
    (tmp_path / "heze").mkdir()
    (tmp_path / "heze" / "audit.json").write_text("{not json", encoding="utf-8")
    newer = json.loads(jinan_audit.read_text(encoding="utf-8")) | {"format_version": 2}
    (tmp_path / "jinan").mkdir()
    (tmp_path / "jinan" / "audit.json").write_text(json.dumps(newer), encoding="utf-8")
    (tmp_path / "jinan" / "verify.xml").write_text("<testsuites", encoding="utf-8")
    out, err, rc = report(results, example_tree)
    assert rc == 2 and out == "" and "Traceback" not in err
    lines = err.splitlines()

    def said(path: Path, kind: str) -> bool:
        return any(line.startswith(f"pesdc report national: {path}: {kind}:")
                   for line in lines)

    assert said(tmp_path / "heze" / "audit.json", "unreadable")
    assert said(tmp_path / "jinan" / "audit.json", "format-version")
    assert said(tmp_path / "jinan" / "verify.xml", "unreadable")
    assert said(tmp_path / "zibo" / "audit.json", "wrong-center")
    assert said(tmp_path / "atlantis" / "verify.xml", "unknown-center")
