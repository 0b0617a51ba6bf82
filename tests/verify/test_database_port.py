"""A database on a port of its own (issue 14: verify hard-coded 5432, so a database on
5433 passed audit and failed verify): provisioning configures the port, verify expects
it, audit expects it, and a host listening on the wrong port fails both, named.

Offline: the expectations are derived from the topology (the HostSpec, the audit's host
facts) and judged on `ss -H -tuln` listings of the form the hosts print."""

from __future__ import annotations

import re
import shutil

import pytest

from pesdc.audit.registry import HOST_CHECKS, AuditContext, HostEvidence, all_checks
from pesdc.model import validate
from pesdc.model.tree import Topology
from pesdc.provision.desired import desired_state
from pesdc.verify.hosts import expected_listeners
from tests.conftest import ROOT

PORT = 5433


def _ss(*ports: str) -> str:
    lines = ["tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*"]
    lines += [f"tcp LISTEN 0 244 0.0.0.0:{p} 0.0.0.0:*" for p in ports]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def topo(tmp_path_factory: pytest.TempPathFactory) -> Topology:
    tree = tmp_path_factory.mktemp("dbport") / "labcity"
    shutil.copytree(ROOT / "tests/fixtures/labcity", tree)
    city = tree / "weihai.yaml"
    text = city.read_text(encoding="utf-8")
    text, n = re.subn(r"\{name: misdb, primary: db-1,", f"{{name: misdb, port: {PORT}, "
                      "primary: db-1,", text)
    text, m = re.subn(r"(name: mis-db-cluster, .*ports: \[\{port: )5432", rf"\g<1>{PORT}", text)
    assert n == 1 and m == 1, "the lab city's database lines changed: adapt this test"
    city.write_text(text, encoding="utf-8")
    res = validate([tree])
    assert res.report.ok, [d.format() for d in res.report.sorted()]
    return res.topology


def test_provision_verify_and_audit_expect_the_databases_port(topo: Topology) -> None:
    spec = desired_state(topo, "weihai", "db-1", lab=True)
    conf = next(f for f in spec.files if f.path.endswith("/pesdc.conf"))
    assert re.search(rf"^port = {PORT}$", conf.content, re.M), conf.content
    assert f"tcp/{PORT}" in expected_listeners(spec)
    assert "tcp/5432" not in expected_listeners(spec)
    ctx = AuditContext(topo, topo.datacenters["weihai"])
    facts = ctx.host_facts(next(s for s in ctx.dc.servers if s.name == "db-1"))
    assert f"tcp/{PORT}" in facts.listeners and "tcp/5432" not in facts.listeners


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
