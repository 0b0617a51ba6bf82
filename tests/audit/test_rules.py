"""Every automated rule has a pass fixture and a fail fixture.

Topology and rendered rules: small variants of the Linux lab city (tests/fixtures/labcity)
or recorded vendor configurations (the render golden files). Host rules: evidence
recorded from lab hosts (evidence/*.txt: a provisioned and a fresh host) fed to the same
check function that runs on live evidence.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest

from pesdc.audit.registry import (
    CHECKS,
    HOST_CHECKS,
    AuditContext,
    DeviceEvidence,
    HostEvidence,
    HostFacts,
    all_checks,
)
from pesdc.audit.result import Status, combine
from pesdc.model.schema import (
    DataCenter,
    Device,
    DeviceKind,
    Encryption,
    Isolation,
    IsolationType,
    Platform,
    ServerRole,
    Uplink,
    UplinkKind,
)
from tests.audit.conftest import GOLDEN, context, load, recorded

all_checks()
Mut = Callable[[DataCenter], Any] | None
CtxMut = Callable[[AuditContext], Any] | None


def _iso(dc: DataCenter, a: str, b: str) -> Isolation:
    return next(i for i in dc.isolation if set(i.between) == {a, b})


def _srv(dc: DataCenter, name: str):
    return next(s for s in dc.servers if s.name == name)


def _dev(dc: DataCenter, name: str):
    return next(d for d in dc.devices if d.name == name)


def _flow(dc: DataCenter, name: str):
    return next(f for i in dc.isolation for f in i.flows if f.name == name)


def _add_device(dc: DataCenter, kind: DeviceKind) -> None:
    dc.devices.append(Device(name=f"x-{kind.value}", kind=kind, platform=Platform.linux,
                             model="appliance", mgmt="10.50.9.99"))


def _second_uplink(dc: DataCenter) -> None:
    dc.uplinks.append(Uplink(name="to-ministry", kind=UplinkKind.ministry_city,
                             peer="mohrss", bandwidth_mbps=100))
    _system(dc, "dx").servers.append("mis-2")


def _system(dc: DataCenter, name: str):
    return next(s for s in dc.systems if s.name == name)


def _set(obj: Any, **kw: Any) -> None:
    for k, v in kw.items():
        setattr(obj, k, v)


# rule -> (mutation making it pass, mutation making it fail); None: the base city
TOPOLOGY: dict[str, tuple[Mut, Mut]] = {
    "AUD-CN-01": (None, lambda dc: _set(dc.zones[3], segments=[])),
    "AUD-CN-02": (None, lambda dc: _set(dc.links[0], bandwidth_mbps=1)),
    "AUD-CN-03": (None, lambda dc: _set(_iso(dc, "internet", "production"),
                                        type=IsolationType.none)),
    "AUD-CN-04": (lambda dc: dc.isolation.append(Isolation(between=["internet", "wan"],
                                                           type=IsolationType.physical)),
                  lambda dc: dc.isolation.append(Isolation(between=["internet", "wan"],
                                                           type=IsolationType.none))),
    "AUD-CN-05": (None, lambda dc: _set(_iso(dc, "exchange", "production"),
                                        type=IsolationType.firewall, direction=None)),
    "AUD-CN-06": (None, lambda dc: _set(_dev(dc, "fw-1"), redundancy=None)),
    "AUD-CN-07": (_second_uplink, None),
    "AUD-CN-08": (None, lambda dc: _set(dc.links[0], encryption=Encryption.none)),
    "AUD-CN-09": (None, lambda dc: _set(_system(dc, "website").ports[0], port=80)),
    "AUD-AB-01": (None, lambda dc: _set(_iso(dc, "mgmt", "decision"),
                                        type=IsolationType.none, flows=[])),
    "AUD-AB-02": (None, lambda dc: _set(_flow(dc, "agencies-to-mis"),
                                        ports=list(range(8000, 8012)))),
    "AUD-AB-03": (None, lambda dc: _set(_flow(dc, "agencies-to-mis"), dst_systems=[])),
    "AUD-AB-04": (lambda dc: _add_device(dc, DeviceKind.ips), None),
    "AUD-AB-05": (lambda dc: _add_device(dc, DeviceKind.antivirus), None),
    "AUD-AB-06": (None, lambda dc: _set(_srv(dc, "log-1"), roles=[ServerRole.backup])),
    "AUD-MC-01": (None, lambda dc: _set(_srv(dc, "ntp-1"), roles=[ServerRole.backup])),
    "AUD-MC-02": (None, lambda dc: _set(_dev(dc, "core-1"), mgmt="10.50.1.99")),
    "AUD-MC-03": (lambda dc: _srv(dc, "bastion-1").roles.append(ServerRole.monitoring),
                  lambda dc: _set(_srv(dc, "log-1"), roles=[ServerRole.backup])),
    "AUD-MC-04": (None, lambda dc: _set(dc.security, log_retention_days=90)),
    "AUD-MC-05": (None, lambda dc: _set(dc.security.admins, audit="sysadmin")),
    "AUD-MC-06": (None, lambda dc: _set(_iso(dc, "mgmt", "production"), flows=[
        f for f in _iso(dc, "mgmt", "production").flows if f.name != "production-syslog"])),
    "AUD-CE-20": (None, lambda dc: _set(dc.databases[0], standby=None)),
    "AUD-CE-21": (None, lambda dc: _set(dc.databases[0], backup_target=None)),
    "AUD-CE-23": (None, lambda dc: _set(_srv(dc, "mis-1"), zone="exchange")),
}


def _nft(ctx: AuditContext, dev: str, old: str, new: str) -> None:
    ev = ctx.devices[dev]
    ev.files = {k: v.replace(old, new) for k, v in ev.files.items()}


DEVICE: dict[str, tuple[CtxMut, CtxMut]] = {
    "AUD-AB-10": (None, lambda ctx: _nft(ctx, "fw-1", "hook forward priority filter; policy drop;",
                                         "hook forward priority filter; policy accept;")),
    "AUD-AB-11": (None, lambda ctx: _nft(ctx, "gk-1", "ct state established,related accept",
                                         "")),
    "AUD-AB-12": (None, lambda ctx: _nft(ctx, "fw-2", "ip saddr @mgmt_nets tcp dport 22",
                                         "tcp dport 22")),
    # a bare accept injected before the gatekeeper's default deny: a permit not in the policy
    "AUD-AB-13": (None, lambda ctx: _nft(ctx, "gk-1", '\t\tcounter comment "forward default deny"',
                                         '\t\taccept\n\t\tcounter comment "forward default deny"')),
    "AUD-CE-25": (None, lambda ctx: ctx.rendered_all.__setitem__(
        "devices/weihai/core-1/device.cfg",
        "local-user sysadmin password irreversible-cipher Huawei@123\n")),
}


def _status(rule: str, catalog, mut: Mut = None, ctx_mut: CtxMut = None) -> Status:
    topo = load()
    if mut is not None:
        mut(topo.datacenters["weihai"])
        topo._index.clear()  # the model changed after loading: drop the cached index
    ctx = context(topo)
    if ctx_mut is not None:
        ctx_mut(ctx)
    outcomes = CHECKS[rule](ctx, catalog.rules[rule].params)
    return combine([o.status for o in outcomes])


@pytest.mark.parametrize("rule", sorted(TOPOLOGY))
def test_topology_rule(rule, catalog):
    good, bad = TOPOLOGY[rule]
    assert _status(rule, catalog, good) is Status.passed
    assert _status(rule, catalog, bad) in (Status.failed, Status.partial)


@pytest.mark.parametrize("rule", sorted(DEVICE))
def test_device_rule_on_linux_gear(rule, catalog):
    good, bad = DEVICE[rule]
    assert _status(rule, catalog, None, good) is Status.passed
    assert _status(rule, catalog, None, bad) in (Status.failed, Status.partial)


# -- vendor gear: the rendered (golden) configuration of a Huawei VRP core switch --------
VRP = (GOLDEN / "vrp_core" / "core-1.cfg").read_text()
VENDOR: dict[str, tuple[str, str]] = {  # rule -> (text replaced, replacement) for the fail
    "AUD-MC-10": ("undo telnet server enable", "telnet server enable"),
    "AUD-MC-11": ("info-center loghost 10.40.9.10", "info-center loghost 192.0.2.1"),
    "AUD-MC-12": ("ntp-service unicast-server 10.40.9.11", ""),
    "AUD-MC-13": (" local-user auditadmin ", " local-user someone "),
    "AUD-MC-14": ("retry-time 5", "retry-time 10"),
    "AUD-MC-15": ("snmp-agent sys-info version v3", "snmp-agent community read public"),
}


def _vendor_status(rule: str, catalog, text: str) -> Status:
    topo = load()
    ctx = AuditContext(topo, topo.datacenters["weihai"])
    ctx.devices["core-1"] = DeviceEvidence(
        "core-1.weihai", "core_switch", "huawei_vrp", {"device.cfg": text}, "rendered",
        ["10.40.9.0/24"], ["10.40.9.10"], ["10.40.9.11"],
        {"system": "sysadmin", "audit": "auditadmin", "security": "secadmin"})
    return combine([o.status for o in CHECKS[rule](ctx, catalog.rules[rule].params)])


@pytest.mark.parametrize("rule", sorted(VENDOR))
def test_rendered_vendor_rule(rule, catalog):
    old, new = VENDOR[rule]
    assert old in VRP
    assert _vendor_status(rule, catalog, VRP) is Status.passed
    assert _vendor_status(rule, catalog, VRP.replace(old, new)) in (Status.failed,
                                                                    Status.partial)


def test_vendor_default_deny_on_usg(catalog):
    from pesdc.audit.checks_device import default_deny

    usg = (GOLDEN / "usg_fw" / "fw-1.cfg").read_text()
    ev = DeviceEvidence("fw-1.usgdc", "firewall", "huawei_usg", {"c": usg}, "rendered")
    assert default_deny(ev, {}).status is Status.passed
    ev.files = {"c": usg.replace("  action deny\n#\nreturn", "#\nreturn")}
    assert default_deny(ev, {}).status is Status.failed


# -- hosts: recorded evidence --------------------------------------------------------------
FACTS = HostFacts("mis-1", ["appserver"], "production", "debian", ["10.50.9.0/24"],
                  ["10.50.9.10"], ["10.50.9.12"], listeners={"tcp/22", "tcp/8080"})


def _edit(ev: HostEvidence, key: str, old: str, new: str) -> HostEvidence:
    ev = copy.deepcopy(ev)
    assert old in ev.data[key], (key, old)
    ev.data[key] = ev.data[key].replace(old, new)
    return ev


def _add(ev: HostEvidence, key: str, text: str) -> HostEvidence:
    ev = copy.deepcopy(ev)
    ev.data[key] = ev.data.get(key, "") + text
    return ev


GOOD = recorded("mis-1-provisioned")
FRESH = recorded("mis-2-fresh")
# The same host as a real one would answer (`auditctl -l` lists the loaded rules): the lab
# cannot show loaded rules (its hosts share the machine's kernel).
LOADED = "\n".join(ln for ln in (GOOD.files("/etc/audit/rules.d/") or "").splitlines()
                   if ln.startswith("-w ") or ln.startswith("-a "))
LIVE = copy.deepcopy(GOOD)
LIVE.source = "live"
LIVE.data["cmd:auditctl -l"] = LOADED
# rule -> (pass evidence, fail evidence); the fresh host fails most by itself
HOST: dict[str, tuple[HostEvidence, HostEvidence]] = {
    "AUD-CE-01": (GOOD, FRESH), "AUD-CE-02": (GOOD, FRESH), "AUD-CE-03": (GOOD, FRESH),
    "AUD-CE-04": (GOOD, FRESH), "AUD-CE-05": (GOOD, FRESH), "AUD-CE-06": (GOOD, FRESH),
    "AUD-CE-07": (_edit(GOOD, "cmd:sshd -T", "authenticationmethods any",
                        "authenticationmethods publickey,password"),
                  _edit(GOOD, "cmd:sshd -T", "pubkeyauthentication yes",
                        "pubkeyauthentication no")),
    "AUD-CE-10": (GOOD, FRESH),
    "AUD-CE-11": (GOOD, _edit(GOOD, "cmd:passwd -S -a", "games L", "games P")),
    "AUD-CE-12": (GOOD, FRESH), "AUD-CE-13": (LIVE, FRESH), "AUD-CE-14": (GOOD, FRESH),
    "AUD-CE-15": (GOOD, FRESH),
    "AUD-CE-16": (_add(GOOD, "cmd:chronyc -n sources",
                       "\n^* 10.50.9.12                   8   6   377    12   +10us[ +12us]"),
                  FRESH),
    "AUD-CE-17": (GOOD, _add(GOOD, "cmd:ss -H -tuln",
                             "\ntcp LISTEN 0 64 0.0.0.0:23 0.0.0.0:*")),
    "AUD-CE-18": (GOOD, _add(GOOD, "cmd:dpkg -l", "\ntelnetd install ok installed")),
    "AUD-CE-19": (GOOD, FRESH), "AUD-CE-24": (GOOD, FRESH),
}


@pytest.mark.parametrize("rule", sorted(HOST))
def test_host_rule_on_recorded_evidence(rule, catalog):
    good, bad = HOST[rule]
    fn, params = HOST_CHECKS[rule], catalog.rules[rule].params
    res = fn(good, FACTS, params)
    assert res.status is Status.passed, res.message
    assert res.evidence, "a verdict carries its evidence"
    assert fn(bad, FACTS, params).status in (Status.failed, Status.partial)


def test_audit_rules_are_judged_on_what_the_kernel_loaded(catalog):
    """AUD-CE-13 (issue 13): the rules file alone never passes a running host."""
    fn, params = HOST_CHECKS["AUD-CE-13"], catalog.rules["AUD-CE-13"].params
    # The lab: the file is complete, the kernel cannot be asked: a person checks.
    lab = fn(GOOD, FACTS, params)
    assert lab.status is Status.manual and "share the machine's kernel" in lab.message
    # A real host whose kernel has no rules loaded: not met, whatever the file says.
    unloaded = copy.deepcopy(LIVE)
    unloaded.data["cmd:auditctl -l"] = "No rules"
    res = fn(unloaded, FACTS, params)
    assert res.status is Status.failed and "not loaded in the kernel" in res.message
    # Loaded, but one required key missing from the kernel's list: partial.
    key = params["audit_keys"][0]
    partly = copy.deepcopy(LIVE)
    partly.data["cmd:auditctl -l"] = "\n".join(
        ln for ln in LOADED.splitlines() if not re.search(rf"-k {key}\b", ln))
    assert fn(partly, FACTS, params).status is Status.partial
    # A lab host whose file lacks a key: that gap is seen, so it is a finding.
    gap = copy.deepcopy(GOOD)
    gap.data["file:/etc/audit/rules.d/50-pesdc.rules"] = "\n".join(
        ln for ln in gap.data["file:/etc/audit/rules.d/50-pesdc.rules"].splitlines()
        if not re.search(rf"-k {key}\b", ln))
    assert fn(gap, FACTS, params).status is Status.partial


def test_log_retention_on_the_log_server(catalog):
    ctx = context(load())
    log = ctx.hosts["log-1"]  # rendered files (the static evidence)
    facts = ctx.host_facts(next(s for s in ctx.dc.servers if s.name == "log-1"))
    fn, params = HOST_CHECKS["AUD-MC-20"], catalog.rules["AUD-MC-20"].params
    assert fn(log, facts, params).status is Status.passed
    short = _edit(log, "file:/etc/logrotate.d/pesdc-remote", "rotate 180", "rotate 30")
    assert fn(short, facts, params).status is Status.failed
    assert fn(log, FACTS, params).status is Status.na  # not a log server


def test_static_host_rules_use_rendered_files(catalog):
    """--static judges the rendered files; command-only evidence is left to a person."""
    ctx = context(load())
    res = HOST_CHECKS["AUD-CE-01"](ctx.hosts["mis-1"], FACTS, catalog.rules["AUD-CE-01"].params)
    assert res.status is Status.passed and res.evidence[0].source == "rendered"
    res = HOST_CHECKS["AUD-CE-17"](ctx.hosts["mis-1"], FACTS, {})
    assert res.status is Status.manual


def test_every_automated_rule_has_fixtures(catalog):
    # AUD-CE-22 needs two centers: its fixtures are the example tree's (below).
    covered = set(TOPOLOGY) | set(DEVICE) | set(VENDOR) | set(HOST) | {"AUD-MC-20",
                                                                       "AUD-CE-22"}
    automated = {r.id for r in catalog.rules.values() if r.kind != "manual"}
    assert automated == covered, (automated - covered, covered - automated)


def test_ce22_passes_for_a_real_time_offsite_standby_only(catalog):
    """The example tree: each of Jinan's primaries streams to a standby in Shandong
    (databases[].offsite_standby): AUD-CE-22 (8.1.4.9 b, real time) passes for each,
    with the path in the evidence. Without the standby, misdb's dumps still pulled off
    site by Shandong's backup server are off site but not in real time: partial; with
    neither it fails, as Zibo's (which declares none) do."""
    from tests.conftest import ROOT

    topo = load(ROOT / "topologies")

    def ce22(center: str):
        for k in ("_offsite_copies", "_offsite_replicas"):
            topo.__dict__.pop(k, None)
        return CHECKS["AUD-CE-22"](context(topo, center), catalog.rules["AUD-CE-22"].params)

    jinan = ce22("jinan")
    assert [o.status for o in jinan] == [Status.passed] * 4
    assert all(f"shandong/jn-{db}-dr" in str(o.message) and "shandong -> jinan" in
               o.evidence[0].text for o, db in zip(jinan, ("misdb", "xregdb", "talentdb",
                                                           "dw"), strict=True))
    zibo = ce22("zibo")
    assert zibo and all(o.status is Status.failed for o in zibo)
    misdb = topo.datacenters["jinan"].databases[0]
    misdb.offsite_standby = None
    dumps_only = ce22("jinan")
    assert [o.status for o in dumps_only] == [Status.partial] + [Status.passed] * 3
    assert "not in real time" in str(dumps_only[0].message)
    assert "shandong/backup-1" in str(dumps_only[0].message)
    misdb.offsite_backup = None
    assert [o.status for o in ce22("jinan")] == [Status.failed] + [Status.passed] * 3
