"""`pesdc audit` static: formats, the non-compliant example, waivers, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.audit.conftest import LABCITY, NONCOMPLIANT, ROOT, pesdc

# What the deliberately non-compliant example (topologies-noncompliant/rizhao.yaml) breaks.
EXPECTED_FINDINGS = [
    "AUD-AB-02", "AUD-AB-03", "AUD-AB-04", "AUD-AB-05", "AUD-CE-01", "AUD-CE-02",
    "AUD-CE-03", "AUD-CE-04", "AUD-CE-07", "AUD-CE-10", "AUD-CE-16", "AUD-CE-21",
    "AUD-CE-22", "AUD-CN-04", "AUD-CN-07", "AUD-CN-08", "AUD-CN-09", "AUD-MC-01",
    "AUD-MC-03", "AUD-MC-05", "AUD-MC-06",
]


def audit_json(*args: str) -> dict:
    res = pesdc("audit", *args, "--format", "json")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    return json.loads(res.stdout)


def test_noncompliant_example_fails_the_expected_rules():
    data = audit_json(str(NONCOMPLIANT))
    assert data["dc"] == "rizhao"
    assert data["failed_rules"] == EXPECTED_FINDINGS
    items = {k for k, v in data["items"].items() if v["effective"] == "fail"}
    assert {"8.1.4.1a", "8.1.4.1b", "8.1.4.8a", "8.1.3.3a", "8.1.4.9a", "8.1.5.2a"} <= items
    # each finding names where it is and the control that fixes it
    ce01 = data["rules"]["AUD-CE-01"]
    assert ce01["status"] == "fail"
    assert any("minlen 8 < 12" in o["message"] for o in ce01["outcomes"])
    assert data["overall"] < 70


def test_compliant_city_scores_higher_with_scores_per_family():
    good = audit_json(str(LABCITY))
    bad = audit_json(str(NONCOMPLIANT))
    assert good["overall"] > bad["overall"] + 15
    fam = good["families"]
    # 8.1.1 is checked on site: its 22 sub-requirements (one test unit each) are manual
    assert fam["8.1.1"]["score"] is None and fam["8.1.1"]["counts"]["manual"] == 22
    assert all(fam[f]["score"] is not None for f in ("8.1.2", "8.1.3", "8.1.4", "8.1.5"))
    scored = [(v["score"], v["weight"]) for v in fam.values() if v["score"] is not None]
    assert good["overall"] == pytest.approx(sum(s * w for s, w in scored)
                                            / sum(w for _, w in scored), abs=0.11)


def test_waivers_apply_until_expiry(tmp_path: Path):
    w = tmp_path / "waivers.yaml"
    w.write_text("waivers:\n"
                 "  - {id: AUD-AB-04, justification: IPS procured for Q3, approver: 王工,"
                 " expires: 2026-06-30}\n"
                 "  - {id: 8.1.3.4a, justification: antivirus gateway in tender,"
                 " approver: 王工, expires: 2026-01-31}\n")
    before = audit_json(str(LABCITY), "--waivers", str(w), "--today", "2026-01-15")
    assert before["rules"]["AUD-AB-04"]["waived"] is True
    assert before["rules"]["AUD-AB-04"]["effective"] == "waived"
    assert "AUD-AB-04" not in before["failed_rules"]
    assert before["items"]["8.1.3.4a"]["effective"] == "waived" and not before["waiver_notes"]
    after = audit_json(str(LABCITY), "--waivers", str(w), "--today", "2026-02-15")
    assert after["rules"]["AUD-AB-04"]["waived"] is True  # still before 2026-06-30
    assert after["items"]["8.1.3.4a"]["effective"] == "fail"
    assert after["items"]["8.1.3.4a"]["waiver"]["expired"] is True
    assert any("8.1.3.4a" in n and "expired" in n for n in after["waiver_notes"])
    assert after["overall"] < before["overall"]
    md = pesdc("audit", str(LABCITY), "--waivers", str(w), "--today", "2026-02-15",
               "--format", "md", "--lang", "en")
    assert "expired on 2026-01-31" in md.stdout + md.stderr


def test_junit_md_and_html(tmp_path: Path):
    res = pesdc("audit", str(LABCITY), "--format", "junit", "-o", str(tmp_path / "a.xml"))
    assert res.returncode == 0, res.stderr
    root = ET.parse(tmp_path / "a.xml").getroot()
    assert int(root.get("tests", "0")) > 100 and int(root.get("failures", "0")) >= 1
    md = pesdc("audit", str(LABCITY), "--format", "md", "--lang", "zh").stdout
    assert "安全计算环境" in md and "总体得分" in md
    res = pesdc("audit", str(LABCITY), "--format", "html", "--lang", "en",
                "-o", str(tmp_path / "a.html"))
    text = (tmp_path / "a.html").read_text()
    assert "<svg" in text and "AUD-AB-04" in text and "Computing environment" in text


def test_profile_changes_verdicts(tmp_path: Path):
    p = tmp_path / "p.yaml"
    p.write_text("params: {password_min_length: 14}\n")
    data = audit_json(str(LABCITY), "--profile", str(p))
    assert data["rules"]["AUD-CE-01"]["status"] == "fail"
    assert data["profile"] == "p.yaml"


@pytest.mark.parametrize("args, message", [
    (["--dc", "nowhere"], "unknown data center"),
    (["--profile", "/nonexistent.yaml"], "profile"),
    (["--waivers", "{bad}"], "missing justification"),
    (["--static", "--lab", "x"], "choose one of"),
    (["--live", "/nonexistent.targets.yaml"], "connection profile"),
    (["--dc", "shandong", "--lab", "no-such-lab"], "not up"),
])
def test_bad_input_never_a_traceback(tmp_path: Path, args: list[str], message: str):
    if args[:2] == ["--waivers", "{bad}"]:
        bad = tmp_path / "w.yaml"
        bad.write_text("waivers:\n  - {id: AUD-AB-04, approver: x}\n")
        args = ["--waivers", str(bad)]
    res = pesdc("audit", str(LABCITY), *args)
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    assert message in res.stderr


def test_hosted_city_points_at_its_host():
    res = pesdc("audit", str(ROOT / "topologies"), "--dc", "binzhou")
    assert res.returncode == 2 and "hosted by" in res.stderr and "Traceback" not in res.stderr
