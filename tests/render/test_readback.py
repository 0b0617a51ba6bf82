"""Round trip: what a rendered firewall or gatekeeper permits, read back from the text,
is the normalised policy rule for rule (issue 12, point 3).

The text parsers are ours; nftables is also judged by nft itself: each ruleset is
loaded into a scratch network namespace and ``nft -j list ruleset`` read back. Vendor
policies go through hier_config's tree of the configuration.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from pesdc.audit.registry import AuditContext, DeviceEvidence, all_checks
from pesdc.audit.result import Status, combine
from pesdc.kinds import kind_of
from pesdc.model.loader import load
from pesdc.platforms.linux.policy import read_nft_json, read_nft_text
from pesdc.policy import rules_enforced_by
from pesdc.render import render_device_files, render_tree
from pesdc.render.context import CenterFacts, device_context
from pesdc.render.readback import (
    ANY,
    READERS,
    Difference,
    Permit,
    ReadPolicy,
    expected,
    policy_differences,
    read_back,
)

from .conftest import LABCITY, ROOT, needs_root, run
from .vendor_util import CASES

TREES = {"topologies": ROOT / "topologies", "labcity": LABCITY,
         **{f"vendor-{c}": p for c, p in CASES.items()}}


@dataclass
class Case:
    """One device of an example center: its rendered files and its template context."""

    tree: str
    center: str
    device: str
    kind: str  # kind registry name
    device_kind: str
    files: dict[str, str]
    ctx: dict[str, Any]
    enforced: list[str]  # names of the policy.py rules the device carries

    def __str__(self) -> str:
        return f"{self.tree}/{self.center}/{self.device}"


def _cases(tree: str) -> list[Case]:
    res = load([TREES[tree]])
    assert not res.report.errors, [d.format() for d in res.report.errors]
    topo = res.topology
    out = []
    for dc in topo.datacenters.values():
        if dc.hosted:
            continue
        facts = CenterFacts.of(topo, dc)
        for dev in dc.devices:
            kind = kind_of(dev)
            if kind.name not in READERS:
                continue
            problems: list = []
            files = render_device_files(facts, dev.name, problems)
            assert problems == [], [p.format() for p in problems]
            out.append(Case(tree, dc.name, dev.name, kind.name, dev.kind.value, files,
                            device_context(facts, dev, kind),
                            [r.name for r in rules_enforced_by(facts.policy, facts.idx, dev)]))
    return out


ALL = [c for tree in TREES for c in _cases(tree)]

def _renders_policy(c: Case) -> bool:
    read = read_back(c.kind, c.files)
    return c.device_kind in ("firewall", "gatekeeper") or bool(read and read.found)


# firewalls and gatekeepers, and any other device that renders a zone policy (IOS ZBF)
FILTERING = [c for c in ALL if _renders_policy(c)]
NFT = [c for c in ALL if c.kind == "linux_nftables"]


def _by(name: str) -> Case:
    return next(c for c in ALL if str(c) == name)


def _diffs(case: Case, files: dict[str, str] | None = None) -> list[Difference]:
    got = policy_differences(case.kind, case.device_kind, case.files if files is None else files,
                             case.ctx)
    assert got is not None
    return got


def _edit(case: Case, old: str, new: str, count_: int = 1) -> dict[str, str]:
    fname = READERS[case.kind].file
    text = case.files[fname]
    assert old in text, (str(case), old)
    return {**case.files, fname: text.replace(old, new, count_)}


# -- every firewall and gatekeeper of every example center ----------------------------

def test_the_examples_have_every_platform_that_renders_a_policy():
    assert {c.kind for c in FILTERING} == set(READERS)
    assert {c.tree for c in FILTERING} >= {"topologies", "labcity"}
    assert len([c for c in FILTERING if c.tree == "topologies"]) >= 15


@pytest.mark.parametrize("case", FILTERING, ids=str)
def test_readback_equals_the_policy(case: Case):
    read = read_back(case.kind, case.files)
    assert read is not None and read.found and read.problems == []
    assert _diffs(case) == []
    # The template got exactly the rules policy.py says the device enforces ...
    assert [r["name"] for r in case.ctx["rules"]] == case.enforced
    # ... and the text holds as many permits (IOS: one per source, destination, port).
    want = expected(READERS[case.kind].shape, case.ctx["rules"], case.ctx["relays"])
    assert sorted(read.permits) == sorted(want.permits)
    assert sorted(read.relays) == sorted(want.relays)


def test_a_router_that_renders_a_zone_firewall_is_read_back_too():
    isr = _by("vendor-ios/iosdc/isr-1")
    read = read_back(isr.kind, isr.files)
    assert read is not None and read.found and len(read.permits) == 5
    assert _diffs(isr) == []
    switch = _by("vendor-ios/iosdc/acc-1")  # no ZBF on a switch: nothing to compare
    assert switch.ctx["rules"] and _diffs_or_none(switch) is None


def _diffs_or_none(case: Case) -> list[Difference] | None:
    return policy_differences(case.kind, case.device_kind, case.files, case.ctx)


# -- mutations of the rendered text: each one is a RENDER004 naming it ----------------

GK = "labcity/weihai/gk-1"
FW = "labcity/weihai/fw-1"
DEFAULT_DENY = '\t\tcounter comment "forward default deny"'


def test_an_injected_bare_accept_is_an_extra_permit():
    gk = _by(GK)
    diffs = _diffs(gk, _edit(gk, DEFAULT_DENY, "\t\taccept\n" + DEFAULT_DENY))
    assert [d.en for d in diffs] == ["extra permit any -> any any (not in the policy)"]


def test_a_dropped_rule_line_is_a_missing_permit():
    gk = _by(GK)
    text = gk.files["nftables.conf"]
    line = next(ln for ln in text.splitlines() if "dx-to-mis" in ln and "accept" in ln)
    diffs = _diffs(gk, _edit(gk, line + "\n", ""))
    assert [d.what for d in diffs] == ["missing"]
    assert "10.50.2.10/32 -> 10.50.1.10/31 tcp/8080" in diffs[0].en  # collapsed


def test_a_widened_port_set_is_an_extra_and_a_missing_permit():
    gk = _by(GK)
    diffs = _diffs(gk, _edit(gk, "tcp dport { 8080 }", "tcp dport { 8080, 22 }"))
    assert sorted(d.what for d in diffs) == ["extra", "missing"]
    assert "tcp/22,8080" in next(d.en for d in diffs if d.what == "extra")


def test_a_widened_source_set_is_caught():
    fw = _by(FW)
    diffs = _diffs(fw, _edit(fw, "ip saddr { 10.50.0.10/32 }", "ip saddr { 10.50.0.0/16 }"))
    assert sorted(d.what for d in diffs) == ["extra", "missing"]


def test_forward_policy_accept_is_a_permit_of_everything():
    fw = _by(FW)
    diffs = _diffs(fw, _edit(fw, "hook forward priority filter; policy drop;",
                             "hook forward priority filter; policy accept;"))
    assert [d.en for d in diffs] == ["extra permit any -> any any (not in the policy)"]


def test_a_changed_relay_target_is_caught():
    gk = _by(GK)
    diffs = _diffs(gk, _edit(gk, "dnat to 10.50.1.10:8080", "dnat to 10.50.1.99:8080"))
    assert sorted(d.what for d in diffs) == ["extra", "missing"]
    assert any("relay tcp" in d.en and "10.50.1.99:8080" in d.en for d in diffs)


@pytest.mark.parametrize("old,new,what", [
    # statements the reader does not know are errors, never ignored (fail closed)
    (DEFAULT_DENY, "\t\tjump elsewhere\n" + DEFAULT_DENY, "rule not understood"),
    (DEFAULT_DENY, "\t\tip saddr != 10.0.0.0/8 accept\n" + DEFAULT_DENY,
     "rule not understood"),
    (DEFAULT_DENY, "\t\tip6 saddr ::/0 accept\n" + DEFAULT_DENY, "rule not understood"),
    ("chain output {", "chain sneak {\n\t\ttype filter hook prerouting priority -300; "
     "policy accept;\n\t\taccept\n\t}\n\n\tchain output {", "not part of a pesdc policy"),
    ("flush ruleset\n", "flush ruleset\ninclude \"/etc/other.nft\"\n", "not understood"),
    # the device itself reached from anywhere
    ('ip saddr @mgmt_nets tcp dport 22', 'tcp dport 22', "the device itself accepts"),
])
def test_what_the_reader_does_not_understand_is_an_error(old: str, new: str, what: str):
    gk = _by(GK)
    diffs = _diffs(gk, _edit(gk, old, new))
    assert diffs and any(what in d.en for d in diffs), [d.en for d in diffs]
    assert all(d.zh and d.zh != d.en for d in diffs)


def test_broken_text_is_a_finding_never_a_traceback():
    for text in ("table inet pesdc {\n\tchain forward {\n", '"unterminated', "}}}{{{",
                 "\x00\x1b[31m", "table inet pesdc { chain forward { type filter hook "
                 "forward priority filter; policy drop; ip saddr { 10.0.0.0/33 } accept }}"):
        read = read_back("linux_nftables", {"nftables.conf": text})
        assert read is not None and read.problems, text
    for kind in ("huawei_usg", "h3c_secpath", "cisco_ios"):
        read = read_back(kind, {"device.cfg": "security-policy\n rule name x\n  action\n"})
        assert read is not None


def test_a_firewall_without_a_policy_is_an_error():
    fw = _by(FW)
    diffs = _diffs(fw, {})
    assert [d.what for d in diffs] == ["none"]


def test_nft_list_output_is_read_like_the_rendered_text():
    """Lab evidence is ``nft list ruleset`` output: counters with values, sets spread over
    lines, single elements without braces, adjacent hosts merged into a range."""
    text = ('table inet pesdc {\n\tset mgmt_nets {\n\t\ttype ipv4_addr\n\t\tflags interval\n'
            '\t\telements = { 10.50.9.0/25,\n\t\t\t     10.50.9.128/25 }\n\t}\n\n'
            '\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n'
            '\t\tct state established,related accept\n'
            '\t\tip saddr 10.50.2.10-10.50.2.11 ip daddr @mgmt_nets tcp dport { 80, 443 } '
            'ct state new counter packets 12 bytes 720 accept comment "1 x (a -> b)"\n'
            '\t}\n}\n')
    read = read_nft_text(text)
    assert read.problems == []
    assert read.permits == [Permit(("10.50.2.10/31",), ("10.50.9.0/24",), "tcp", (80, 443))]


# -- the render hook: a device whose text differs is not rendered -------------------

def test_render_refuses_a_device_whose_text_permits_more(monkeypatch):
    """A template bug stands in for the escaping bug of the issue: the renderer's own
    output gets one more accept; render reports RENDER004 and drops the device's files."""
    import pesdc.render as render

    real = render.render_template

    def leaky(tpl: str, ctx: dict[str, Any]) -> str:
        text = real(tpl, ctx)
        if ctx["device"]["name"] == "gk-1" and tpl.endswith("nftables.conf.j2"):
            text = text.replace(DEFAULT_DENY, "\t\taccept\n" + DEFAULT_DENY)
        return text

    monkeypatch.setattr(render, "render_template", leaky)
    res = render_tree(load([LABCITY]).topology)
    assert [p.rule for p in res.problems] == ["RENDER004"]
    assert "gk-1" in res.problems[0].message and "extra permit any -> any any" in \
        res.problems[0].message
    assert res.problems[0].file.endswith("weihai.yaml")
    assert not [p for p in res.files if p.startswith("devices/weihai/gk-1/")]
    assert "devices/weihai/fw-1/nftables.conf" in res.files


# -- vendor security policies through hier_config -------------------------------------

USG_FW = "vendor-usg_fw/usgdc/fw-1"
USG_GK = "vendor-usg_fw/usgdc/gk-1"
CW_FW = "vendor-comware/h3cdc/fw-1"
IOS = "vendor-ios/iosdc/isr-1"
USG_EVIL = (" rule name pesdc-default-deny", " rule name evil\n  source-zone private\n"
            "  destination-zone production\n  action permit\n rule name pesdc-default-deny")


@pytest.mark.parametrize("case,old,new,whats", [
    (USG_FW, *USG_EVIL, ["extra"]),
    (USG_FW, "  service protocol tcp destination-port 5432\n", "", ["extra", "missing"]),
    (USG_FW, "  service protocol tcp destination-port 5432\n",
     "  service protocol tcp destination-port 5432\n  service protocol tcp "
     "destination-port 22\n", ["extra", "missing"]),
    (USG_FW, "  action deny\n#", "  action deny\n rule name late\n  action permit\n#",
     ["unread"]),
    # an unreadable rule is not counted: its permit is missing too
    (USG_FW, "  action permit\n", "  action permit\n  long-link enable\n",
     ["unread", "missing"]),
    (USG_GK, " no-reverse", "", ["unread"]),
    (USG_GK, "inside 10.41.1.30 8443", "inside 10.41.1.31 8443", ["extra", "missing"]),
    (CW_FW, " 0 service tcp destination eq 5432\n",
     " 0 service tcp destination eq 5432\n 5 service tcp destination eq 22\n",
     ["extra", "missing"]),
    (CW_FW, "  action pass\n", "  action drop\n", ["unread", "missing"]),
    (CW_FW, "security-policy ip\n", "object-policy ip open\n rule 0 pass\n"
     "security-policy ip\n", ["unread"]),
    (IOS, " class class-default\n  drop log\n", " class class-default\n  pass\n",
     ["extra"]),
    (IOS, "eq 5433\n", "eq 5433\n permit ip any any\n", ["extra"]),
    (IOS, "eq 5433\n", "eq 5433\n permit tcp any any range 1 1024\n", ["unread"]),
])
def test_vendor_mutations_are_caught(case: str, old: str, new: str, whats: list[str]):
    c = _by(case)
    diffs = _diffs(c, _edit(c, old, new))
    assert sorted({d.what for d in diffs}) == sorted(set(whats)), [d.en for d in diffs]


def test_vendor_zone_is_part_of_a_permit():
    c = _by(USG_FW)
    text = c.files["device.cfg"]
    rule = text.split(" rule name ")[1]
    zone = rule.split("source-zone ")[1].split("\n")[0]
    diffs = _diffs(c, _edit(c, f"source-zone {zone}\n", "source-zone untrust\n"))
    assert sorted(d.what for d in diffs) == ["extra", "missing"]


# -- the static audit judges the parsed policy ------------------------------------------

def _audit(rule: str, dc: str, devices: dict[str, DeviceEvidence], topo: Any) -> Status:
    checks = all_checks()
    ctx = AuditContext(topo, topo.datacenters[dc])
    ctx.devices = devices
    return combine([o.status for o in checks[rule](ctx, {})])


def _evidence(case: Case, files: dict[str, str]) -> DeviceEvidence:
    platform = "linux" if case.kind == "linux_nftables" else case.kind
    return DeviceEvidence(f"{case.device}.{case.center}", case.device_kind, platform, files,
                          "rendered")


@pytest.mark.parametrize("case,old,new", [
    (GK, DEFAULT_DENY, "\t\taccept\n" + DEFAULT_DENY),
    (GK, "tcp dport { 8080 }", "tcp dport { 8080, 22 }"),
    (USG_FW, *USG_EVIL),
    (CW_FW, " 0 service tcp destination eq 5432\n",
     " 0 service tcp destination eq 5432\n 5 service tcp destination eq 22\n"),
    (IOS, "eq 5433\n", "eq 5433\n permit ip any any\n"),
])
def test_an_injected_permit_changes_the_audit_verdict(case: str, old: str, new: str):
    c = _by(case)
    topo = load([TREES[c.tree]]).topology
    good = {c.device: _evidence(c, c.files)}
    assert _audit("AUD-AB-13", c.center, good, topo) is Status.passed
    bad = {c.device: _evidence(c, _edit(c, old, new))}
    assert _audit("AUD-AB-13", c.center, bad, topo) is Status.failed


@pytest.mark.parametrize("case,old,new", [
    (GK, DEFAULT_DENY, "\t\taccept\n" + DEFAULT_DENY),
    (USG_FW, " rule name pesdc-default-deny", " rule name evil\n  action permit\n"
     " rule name pesdc-default-deny"),
])
def test_a_permit_of_everything_fails_default_deny(case: str, old: str, new: str):
    c = _by(case)
    topo = load([TREES[c.tree]]).topology
    assert _audit("AUD-AB-10", c.center, {c.device: _evidence(c, c.files)}, topo) \
        is Status.passed
    bad = {c.device: _evidence(c, _edit(c, old, new))}
    assert _audit("AUD-AB-10", c.center, bad, topo) is Status.failed


# -- the judge we did not write: nft itself, in a scratch network namespace ------------

_names = count()


@pytest.fixture
def netns():
    needs_root()
    name = f"pesdc-t12rb-{os.getpid()}-{next(_names)}"
    res = run(["ip", "netns", "add", name])
    assert res.returncode == 0, res.stderr
    try:
        yield name
    finally:
        pids = run(["ip", "netns", "pids", name]).stdout.split()
        for pid in pids:  # nft exits by itself; anything left is ours to end
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        run(["ip", "netns", "del", name])


def _nft_load(ns: str, tmp_path: Path, text: str) -> tuple[dict[str, Any], str]:
    f = tmp_path / "nftables.conf"
    f.write_text(text)
    res = run(["ip", "netns", "exec", ns, "nft", "-f", str(f)])
    assert res.returncode == 0, res.stderr
    js = run(["ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset"])
    listed = run(["ip", "netns", "exec", ns, "nft", "list", "ruleset"])
    assert js.returncode == 0 and listed.returncode == 0, js.stderr + listed.stderr
    return json.loads(js.stdout), listed.stdout


def _same(a: ReadPolicy, b: ReadPolicy) -> None:
    assert sorted(a.permits) == sorted(b.permits)
    assert sorted(a.relays) == sorted(b.relays)
    assert sorted(a.masquerades) == sorted(b.masquerades)
    assert sorted(a.local) == sorted(b.local)


@pytest.mark.lab
@pytest.mark.parametrize("case", NFT, ids=str)
def test_nft_reads_the_ruleset_as_we_do(case: Case, netns: str, tmp_path: Path):
    text = case.files["nftables.conf"]
    doc, listed = _nft_load(netns, tmp_path, text)
    by_nft = read_nft_json(doc)
    ours = read_nft_text(text)
    assert by_nft.problems == [] and ours.problems == []
    _same(by_nft, ours)
    _same(read_nft_text(listed), ours)  # lab evidence: nft's own text form
    want = expected(READERS[case.kind].shape, case.ctx["rules"], case.ctx["relays"])
    assert sorted(by_nft.permits) == sorted(want.permits)
    assert sorted(by_nft.relays) == sorted(want.relays)
    assert by_nft.permits, "a device with no permits would prove nothing here"


@pytest.mark.lab
def test_nft_sees_an_injected_accept_too(netns: str, tmp_path: Path):
    gk = _by(GK)
    doc, _ = _nft_load(netns, tmp_path, _edit(gk, DEFAULT_DENY, "\t\taccept\n" +
                                              DEFAULT_DENY)["nftables.conf"])
    by_nft = read_nft_json(doc)
    want = expected(READERS[gk.kind].shape, gk.ctx["rules"], gk.ctx["relays"])
    assert Permit((ANY,), (ANY,), "any") in by_nft.permits
    assert sorted(by_nft.permits) != sorted(want.permits)


def test_no_scratch_namespace_is_left_behind():
    """Scratch namespaces carry this test's prefix, so cleanup can never touch others."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    assert not [ln for ln in listed.stdout.splitlines() if ln.startswith("pesdc-t12rb-")
                and str(os.getpid()) in ln]
