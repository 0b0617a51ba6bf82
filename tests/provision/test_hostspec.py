"""The HostSpec is the one derivation of what a server must look like (issue 14):
provisioning applies it, verify checks a host against it, audit takes its expectations
from it. The administrators' duties are data (data/admin_duties.yaml): the sudoers file
is written from them, verify and audit judge sudo rights by them, and a host granting
an administrator a command of another's duty fails both, named."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pesdc.audit.checks_host import admins_separated
from pesdc.audit.evidence import parse_sections
from pesdc.audit.registry import AuditContext, HostEvidence
from pesdc.model import validate
from pesdc.model.schema import OsFamily
from pesdc.model.tree import Topology
from pesdc.provision.desired import desired_state
from pesdc.provision.duties import duties, granted
from pesdc.render.context import CenterFacts
from pesdc.render.servers import render_server
from pesdc.verify.hosts import sudo_breaches
from tests.conftest import ROOT

from .dbport import LABCITY

SUDOERS = "/etc/sudoers.d/50-pesdc-admins"


@pytest.fixture(scope="module")
def topo() -> Topology:
    res = validate([LABCITY])
    assert res.report.ok
    return res.topology


def test_listeners_come_from_the_roles(topo: Topology) -> None:
    want = {"web-1": {"tcp/22", "tcp/443"}, "mis-1": {"tcp/22", "tcp/8080"},
            "db-1": {"tcp/22", "tcp/5432"}, "log-1": {"tcp/22", "tcp/514", "udp/514"},
            "ntp-1": {"tcp/22", "udp/123"}, "bastion-1": {"tcp/22"}}
    for name, listeners in want.items():
        assert set(desired_state(topo, "weihai", name, True).listeners) == listeners, name


def test_log_servers_time_sources_and_admins(topo: Topology) -> None:
    dc = topo.datacenters["weihai"]
    facts = CenterFacts.of(topo, dc)
    spec = desired_state(topo, "weihai", "mis-1", True, facts=facts)
    assert spec.log_servers == facts.log_servers == ["10.50.9.10"]
    assert spec.time_sources == facts.time_sources == ["10.50.9.12"]
    assert spec.admins == {"system": "sysadmin", "audit": "auditadmin",
                           "security": "secadmin"}
    assert spec.database_port is None and spec.backup is None
    chrony = next(f for f in desired_state(topo, "weihai", "ntp-1", True).files
                  if f.path == "/etc/chrony/chrony.conf")
    assert chrony.control == "PESDC-NTP-01"  # the time source's own control


def test_audit_facts_are_the_hostspecs(topo: Topology) -> None:
    ctx = AuditContext(topo, topo.datacenters["weihai"], "lab")
    for srv in ctx.dc.servers:
        spec = desired_state(topo, "weihai", srv.name, True)
        facts = ctx.host_facts(srv)
        assert facts.listeners == set(spec.listeners), srv.name
        assert (facts.log_servers, facts.time_sources) == (spec.log_servers,
                                                          spec.time_sources)
        assert facts.admins == spec.admins and facts.duties == spec.duties


@pytest.mark.parametrize("os_family", ["debian", "rhel"])
def test_sudoers_is_written_from_the_duties(topo: Topology, os_family: str) -> None:
    """Each administrator's sudoers line grants its duty's commands and no other's, as
    audit reads the rendered file (its static evidence)."""
    ctx = AuditContext(topo, topo.datacenters["weihai"])
    srv = next(s for s in ctx.dc.servers if s.name == "mis-1")
    srv = srv.model_copy(update={"os": OsFamily(os_family)})
    text = render_server(ctx.center_facts, srv)[SUDOERS.lstrip("/")]
    for role in ("system", "audit", "security"):
        for cmd in granted(role, os_family):
            assert cmd in text, (role, cmd)
    facts = replace(ctx.host_facts(srv), duties=duties(os_family))
    res = admins_separated(HostEvidence("mis-1.weihai", "rendered",
                                        {f"file:{SUDOERS}": text}), facts, {})
    assert res.status.value == "pass", res.message
    wrong = text.replace("PESDC_SYS_MAINT,", "PESDC_SYS_MAINT, PESDC_SEC_FIREWALL,")
    res = admins_separated(HostEvidence("mis-1.weihai", "rendered",
                                        {f"file:{SUDOERS}": wrong}), facts, {})
    assert res.status.value == "fail" and "nft" in res.message, res.message


def test_a_host_granting_another_duty_fails_verify_and_audit(topo: Topology) -> None:
    """The system administrator also given useradd (the security administrator's):
    verify's sudo check and audit's AUD-CE-10 both fail, naming it."""
    recorded = parse_sections((ROOT / "tests/audit/evidence/mis-1-provisioned.txt")
                              .read_text())
    good = recorded["cmd:sudo -l -U sysadmin"]
    duty = duties("debian")["system"]
    assert sudo_breaches(duty, good) == []
    wrong = good.replace("/usr/sbin/reboot,", "/usr/sbin/reboot, /usr/sbin/useradd,")
    assert sudo_breaches(duty, wrong) == ["also holds /usr/sbin/useradd"]
    ctx = AuditContext(topo, topo.datacenters["weihai"], "lab")
    facts = ctx.host_facts(next(s for s in ctx.dc.servers if s.name == "mis-1"))
    base = {k: v for k, v in recorded.items() if k.startswith("cmd:sudo -l -U")}
    passed = admins_separated(HostEvidence("mis-1.weihai", "lab", base), facts, {})
    assert passed.status.value == "pass", passed.message
    failed = admins_separated(HostEvidence("mis-1.weihai", "lab", {
        **base, "cmd:sudo -l -U sysadmin": wrong}), facts, {})
    assert failed.status.value == "fail" and "useradd" in failed.message, failed.message
    for role in ("audit", "security"):  # every duty holds only its own programs
        assert sudo_breaches(duties("debian")[role],
                             recorded[f"cmd:sudo -l -U {facts.admins[role]}"]) == []
