"""A database on a port of its own (issue 14: verify hard-coded 5432, so a database on
5433 passed audit and failed verify): provisioning configures the port, verify expects
it, audit expects it, and a host listening on the wrong port fails both, named.

Offline: the expectations are derived from the topology (the HostSpec, the audit's host
facts) and judged on `ss -H -tuln` listings of the form the hosts print."""

from __future__ import annotations

import re

import pytest

from pesdc.audit.registry import HOST_CHECKS, AuditContext, HostEvidence, all_checks
from pesdc.model import validate
from pesdc.model.tree import Topology
from pesdc.provision.desired import desired_state
from pesdc.verify.hosts import expected_listeners
from tests.provision.dbport import PORT, labcity_on_port


def _ss(*ports: str) -> str:
    lines = ["tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*"]
    lines += [f"tcp LISTEN 0 244 0.0.0.0:{p} 0.0.0.0:*" for p in ports]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def topo(tmp_path_factory: pytest.TempPathFactory) -> Topology:
    tree = labcity_on_port(tmp_path_factory.mktemp("dbport") / "labcity", PORT)
    res = validate([tree])
    assert res.report.ok, [d.format() for d in res.report.sorted()]
    return res.topology


def test_provision_verify_and_audit_expect_the_databases_port(topo: Topology) -> None:
    spec = desired_state(topo, "weihai", "db-1", lab=True)
    assert spec.database_port == PORT
    conf = next(f for f in spec.files if f.path.endswith("/pesdc.conf"))
    assert re.search(rf"^port = {PORT}$", conf.content, re.M), conf.content
    # The backup key's forced command dumps from that cluster, and sudo lets it.
    dump = next(f for f in spec.files if f.path == "/usr/local/sbin/pesdc-pg-dump")
    sudo = next(f for f in spec.files if f.path == "/etc/sudoers.d/45-pesdc-backup")
    assert f"pg_dump -p {PORT} -Fc -- misdb" in dump.content
    assert f"/usr/bin/pg_dump -p {PORT} -Fc -- misdb" in sudo.content
    assert f"tcp/{PORT}" in expected_listeners(spec)
    assert "tcp/5432" not in expected_listeners(spec)
    ctx = AuditContext(topo, topo.datacenters["weihai"])
    facts = ctx.host_facts(next(s for s in ctx.dc.servers if s.name == "db-1"))
    assert f"tcp/{PORT}" in facts.listeners and "tcp/5432" not in facts.listeners
    assert facts.listeners == set(spec.listeners)  # one derivation, read by both


def test_a_host_on_the_wrong_port_fails_verify_and_audit(topo: Topology) -> None:
    from pesdc.audit.checks_host import listening

    spec = desired_state(topo, "weihai", "db-1", lab=True)
    want = expected_listeners(spec)
    ctx = AuditContext(topo, topo.datacenters["weihai"])
    facts = ctx.host_facts(next(s for s in ctx.dc.servers if s.name == "db-1"))
    all_checks()
    ports_rule = HOST_CHECKS["AUD-CE-17"]
    right, wrong = _ss(str(PORT)), _ss("5432")
    # verify compares the exact set; audit looks for listeners it does not expect
    assert listening(right) == want
    assert listening(wrong) != want and "tcp/5432" in listening(wrong) - want
    good = ports_rule(HostEvidence("db-1.weihai", "lab", {"cmd:ss -H -tuln": right}), facts,
                      {})
    bad = ports_rule(HostEvidence("db-1.weihai", "lab", {"cmd:ss -H -tuln": wrong}), facts,
                     {})
    assert good.status.value == "pass", good.message
    assert bad.status.value == "fail" and "tcp/5432" in bad.message, bad.message
