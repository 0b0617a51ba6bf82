"""Every finding speaks both languages, and each report speaks its own.

The outcomes checked are real ones: every registered check run over the pass and fail
fixtures of test_rules.py, over evidence that is missing or unreadable, and over every
center of the example topologies (the compliant tree, the lab city and the deliberately
non-compliant Rizhao).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from markupsafe import escape

from pesdc.audit import registry
from pesdc.audit.engine import AuditOptions, run_audit
from pesdc.audit.registry import (
    CHECKS,
    AuditContext,
    DeviceEvidence,
    HostEvidence,
    all_checks,
    host_check,
)
from pesdc.audit.report import html_report, junit_report, md_report
from pesdc.audit.result import Msg, Outcome, Status, Waiver
from pesdc.kinds import KINDS
from pesdc.model.tree import Topology
from tests.audit.conftest import LABCITY, NONCOMPLIANT, ROOT, context, load, pesdc
from tests.audit.test_rules import (
    DEVICE,
    FACTS,
    FRESH,
    GOOD,
    HOST,
    TOPOLOGY,
    VENDOR,
    VRP,
    _edit,
)
from tests.render.vendor_util import CASES, render_case

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")  # a Chinese character, not punctuation
RULES = "file:/etc/audit/rules.d/50-pesdc.rules"
FORWARD = "file:/etc/rsyslog.d/50-pesdc-forward.conf"
# the provisioned host broken in the ways test_rules.py does not need (partial verdicts)
MORE_HOSTS = [
    _edit(GOOD, "cmd:tmout", "TMOUT=600", "TMOUT=0"),  # SSH idle timeout only
    _edit(GOOD, "cmd:sshd -T", "allowusers *@10.50.9.0/24", "allowusers *@192.0.2.0/24"),
    _edit(GOOD, "cmd:sudo-group", "sudo:x:27:", "sudo:x:27:intruder"),
    _edit(GOOD, FORWARD, 'queue.type="LinkedList"', 'queue.type="Direct"'),
    _edit(GOOD, FORWARD, 'protocol="tcp"', 'protocol="udp"'),
    _edit(GOOD, RULES, "-w /var/log/audit/ -p wa -k auditlog", ""),
    _edit(_edit(_edit(_edit(GOOD, RULES, "-w /var/log/audit/ ", "#"), RULES, "-w /etc/audit/ ",
                      "#"), RULES, "-w /usr/sbin/auditctl", "#"), RULES, "-w /usr/sbin/auditd",
          "#"),
]

all_checks()


def not_bilingual(msg: Msg) -> str:
    """Why ``msg`` is not a proper pair ("" when it is)."""
    if not msg.zh.strip():
        return "no Chinese"
    if msg.zh == msg.en:
        return "Chinese equal to the English"
    if not CJK.search(msg.zh):
        return "no Chinese character"
    if not msg.en.strip():
        return "no English"
    return ""


def problems(outcomes: list[tuple[str, Outcome]]) -> list[str]:
    out = []
    for where, o in outcomes:
        why = not_bilingual(o.msg)
        if why:
            out.append(f"{where} {o.target} [{o.status.value}] {why}: {o.message!r} / "
                       f"{o.message_zh!r}")
        if o.target_zh and not_bilingual(Msg(o.target, o.target_zh)):
            out.append(f"{where} target {o.target!r} / {o.target_zh!r}")
        for e in o.evidence:
            if e.text_zh and not_bilingual(Msg(e.text, e.text_zh)):
                out.append(f"{where} {o.target} evidence {e.label}: {e.text_zh!r}")
    return out


def run_all(ctx: AuditContext, catalog, where: str) -> list[tuple[str, Outcome]]:
    """Every registered check on one context (not only the rule a fixture is for)."""
    out = []
    for rule, fn in sorted(CHECKS.items()):
        for o in fn(ctx, catalog.rules[rule].params):
            out.append((f"{where} {rule}", o))
    return out


def _fixture_outcomes(catalog) -> list[tuple[str, Outcome]]:
    out: list[tuple[str, Outcome]] = []
    for rule, muts in sorted(TOPOLOGY.items()):
        for i, mut in enumerate(muts):
            if mut is None:
                continue
            topo = load()
            mut(topo.datacenters["weihai"])
            topo._index.clear()
            out += run_all(context(topo), catalog, f"topology fixture {rule}/{i}")
    for rule, ctx_muts in sorted(DEVICE.items()):
        for i, ctx_mut in enumerate(ctx_muts):
            if ctx_mut is None:
                continue
            ctx = context(load())
            ctx_mut(ctx)
            out += run_all(ctx, catalog, f"device fixture {rule}/{i}")
    out += run_all(context(load()), catalog, "lab city")
    # vendor gear: each golden configuration, and the VRP switch broken once per rule
    configs = [("huawei_vrp", VRP.replace(old, new)) for old, new in VENDOR.values()]
    # Every vendor case's devices, each read by its own family's dialect (the kind's
    # folder: one platform value such as h3c_comware serves several families).
    configs += [(KINDS[kind].platform, text) for case in sorted(CASES)
                for kind, text in render_case(case)[0].values()]
    configs.append(("cisco_ios", "hostname bare\n"))  # nothing configured at all
    for n, (platform, text) in enumerate(configs):
        topo = load()
        ctx = AuditContext(topo, topo.datacenters["weihai"])
        for kind in ("core_switch", "firewall"):
            ctx.devices["core-1"] = DeviceEvidence(
                "core-1.weihai", kind, platform, {"device.cfg": text}, "rendered",
                ["10.40.9.0/24"], ["10.40.9.10"], ["10.40.9.11"],
                {"system": "sysadmin", "audit": "auditadmin", "security": "secadmin"})
            out += run_all(ctx, catalog, f"vendor config {n} ({platform}, {kind})")
    # hosts: recorded evidence, its pass and fail variants, the log server, no evidence
    hosts = [GOOD, FRESH, *MORE_HOSTS, *(ev for pair in HOST.values() for ev in pair)]
    log = context(load()).hosts["log-1"]
    hosts += [log, HostEvidence("empty.weihai", "rendered"), HostEvidence("empty.weihai", "lab")]
    log_facts = dataclasses.replace(FACTS, roles=["logserver", "timesource"])
    for n, ev in enumerate(hosts):
        for facts in (FACTS, log_facts):
            for rule, fn in sorted(registry.HOST_CHECKS.items()):
                out.append((f"host evidence {n} {rule}",
                            fn(ev, facts, catalog.rules[rule].params)))
    return out


def test_every_outcome_of_every_check_is_bilingual(catalog):
    outcomes = _fixture_outcomes(catalog)
    wrong = problems(outcomes)
    assert not wrong, "\n".join(wrong[:40])
    # the fixtures reach every check, and every verdict a check can give
    rules = {where.split()[-1] for where, _ in outcomes if where.split()[-1] in CHECKS}
    assert rules == set(CHECKS), set(CHECKS) - rules
    statuses = {o.status for _, o in outcomes}
    # (error comes from the loops around the checks, tested below; waived is applied
    # to a rule's result after its checks ran)
    assert statuses == {Status.passed, Status.partial, Status.failed, Status.na,
                        Status.manual}, statuses
    assert len({o.message for _, o in outcomes}) > 150  # many distinct messages, not a few


def _centers(topo: Topology) -> list[str]:
    return sorted(d.name for d in topo.datacenters.values() if not d.hosted)


@pytest.mark.parametrize("tree", ["topologies", "topologies-noncompliant", "labcity"])
def test_example_topologies_speak_both_languages(tree, catalog):
    topo = load(LABCITY if tree == "labcity" else ROOT / tree)
    found: list[tuple[str, Outcome]] = []
    for name in _centers(topo):
        report = run_audit(topo, name, catalog)
        for r in report.rules.values():
            found += [(f"{name} {r.rule}", o) for o in r.outcomes]
            if r.note:
                assert not not_bilingual(r.note), (r.rule, r.note)
    assert found
    wrong = problems(found)
    assert not wrong, "\n".join(wrong[:40])


def test_errors_while_collecting_or_reading_are_bilingual(catalog, monkeypatch):
    """Unreachable hosts, evidence a parser chokes on, a check that raises."""
    monkeypatch.setattr(registry, "CHECKS", dict(registry.CHECKS))
    monkeypatch.setattr(registry, "HOST_CHECKS", dict(registry.HOST_CHECKS))

    def choke(ev, facts, params):
        raise ValueError("unexpected line 3")

    host_check("TEST-HOST-RAISES")(choke)
    topo = load()
    ctx = context(topo)
    ctx.hosts["mis-2"] = HostEvidence("mis-2.weihai", "lab", error="ssh: connection refused")
    found = [("host raises", o) for o in registry.CHECKS["TEST-HOST-RAISES"](ctx, {})]
    statuses = {o.status for _, o in found}
    assert statuses == {Status.error}  # a crash is an error (scored as not met), never unscored
    ctx.devices["core-1"] = DeviceEvidence("core-1.weihai", "firewall", "linux", {}, "rendered")
    ctx.devices["core-1"].files = None  # type: ignore[assignment]  # reading it raises
    found += [("device raises", o)
              for o in CHECKS["AUD-AB-10"](ctx, {}) if "could not be read" in o.message]
    assert len(found) == len(ctx.hosts) + 1

    def broken(ctx, params):
        raise RuntimeError("boom")

    monkeypatch.setitem(registry.CHECKS, "AUD-CN-01", broken)
    report = run_audit(topo, "weihai", catalog, ctx=context(topo))
    found += [("engine", o) for o in report.rules["AUD-CN-01"].outcomes]
    assert report.rules["AUD-CN-01"].status is Status.error
    wrong = problems(found)
    assert not wrong, "\n".join(wrong)


# -- reports ------------------------------------------------------------------------------

def junit_texts(xml: str) -> str:
    """What a CI system shows of a JUnit report: skip and failure messages and texts."""
    root = ET.fromstring(xml)
    return "\n".join(f"{el.get('message', '')}\n{el.text or ''}"
                     for el in root.iter() if el.tag in ("skipped", "failure"))


def test_waiver_and_rule_notes_in_the_report_language(catalog):
    day = dt.date(2026, 2, 15)
    waivers = [Waiver("AUD-AB-04", "IPS 已采购，第三季度安装", "王工", "2026-06-30"),
               Waiver("8.1.3.4a", "防病毒网关招标中", "王工", "2026-01-31", expired=True)]
    topo = load()
    report = run_audit(topo, "weihai", catalog, AuditOptions(today=day, waivers=waivers))
    assert report.notes and report.waiver_notes == [n.en for n in report.notes]
    for n in report.notes:
        assert not not_bilingual(n) and "8.1.3.4a" in n.zh and "2026-01-31" in n.zh
    junit = {lang: junit_texts(junit_report(report, catalog, lang)) for lang in ("zh", "en")}
    w = report.rules["AUD-AB-04"].waiver
    assert w is not None and report.rules["AUD-AB-04"].waived
    assert f"waived until {w.expires} by {w.approver}: {w.justification}" in junit["en"]
    assert "waived until" not in junit["zh"] and f"有效期至 {w.expires}" in junit["zh"]
    notes = {r.note for r in report.rules.values() if r.note}
    assert notes
    for note in notes:
        assert not not_bilingual(note)
        assert note.zh in junit["zh"] and note.en not in junit["zh"] and note.en in junit["en"]
    for lang in ("zh", "en"):
        md = md_report(report, catalog, lang)
        page = html_report(report, catalog, topo, lang)
        for n in report.notes:
            assert n.text(lang) in md and escape(n.text(lang)) in page
            other = n.en if lang == "zh" else n.zh
            assert other not in md and escape(other) not in page


def test_junit_failures_in_the_report_language(catalog):
    report = run_audit(load(NONCOMPLIANT), "rizhao", catalog)
    zh = junit_texts(junit_report(report, catalog, "zh"))
    en = junit_texts(junit_report(report, catalog, "en"))
    outcomes = [o for r in report.findings() for o in r.outcomes
                if o.status in (Status.failed, Status.partial)]
    assert outcomes
    for o in outcomes:
        assert f"{o.target_in('zh')}：{o.message_zh}" in zh
        assert f"{o.target}: {o.message}" in en and f"{o.target}: {o.message}" not in zh


def test_cli_reports_of_the_noncompliant_example_in_zh_and_en(tmp_path: Path):
    res = pesdc("audit", str(NONCOMPLIANT), "--format", "json", "--lang", "zh")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    # JSON carries both languages whatever --lang: message in English beside message_zh
    findings = [o for r in data["rules"].values() if r["status"] in ("fail", "partial")
                for o in r["outcomes"] if o["status"] in ("fail", "partial")]
    assert len(findings) > 40
    assert all(CJK.search(o["message_zh"]) and not CJK.search(o["message"])
               for o in findings)
    assert any("minlen 8 < 12" in o["message"] for o in findings)
    assert data["scoring_zh"] != data["scoring"]
    reports = {}
    for fmt in ("md", "html"):
        for lang in ("zh", "en"):
            out = tmp_path / f"report.{lang}.{fmt}"
            res = pesdc("audit", str(NONCOMPLIANT), "--format", fmt, "--lang", lang,
                        "-o", str(out))
            assert res.returncode == 0, res.stderr
            reports[fmt, lang] = out.read_text(encoding="utf-8")
    for o in findings:
        zh_line = f"`{o['target_zh']}`: {o['message_zh']}"
        en_line = f"`{o['target']}`: {o['message']}"
        assert zh_line in reports["md", "zh"], zh_line
        assert en_line in reports["md", "en"], en_line
        assert en_line not in reports["md", "zh"] and zh_line not in reports["md", "en"]
        zh_sum = escape(f"{o['target_zh']}: {o['message_zh']}")
        en_sum = escape(f"{o['target']}: {o['message']}")
        assert zh_sum in reports["html", "zh"] and en_sum in reports["html", "en"]
        assert en_sum not in reports["html", "zh"]
        for e in o["evidence"]:  # captions pesdc writes (not what it read) follow too
            if "text_zh" in e:
                assert escape(e["text_zh"]) in reports["html", "zh"]
                assert escape(e["text"]) in reports["html", "en"]
    assert any("text_zh" in e for o in findings for e in o["evidence"])
    # the fixed words around the findings follow the language too
    assert "[high]" in reports["md", "en"] and "[高]" in reports["md", "zh"]
    assert "[high]" not in reports["md", "zh"]
    assert "(topology)" in reports["html", "en"] and "(拓扑)" in reports["html", "zh"]
    assert "(topology)" not in reports["html", "zh"]
