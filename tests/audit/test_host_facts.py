"""The static audit takes each server's expectations from desired_facts (no shared file
rendered twice), and a failure desired_state would raise is still that server's error
(issue 19): a template that cannot be rendered, shared or not, or a derivation that
fails, is an error on every host rule of the server, never a verdict."""

from __future__ import annotations

from typing import Any

import pytest

from pesdc.audit import registry
from pesdc.audit.catalog import Catalog
from pesdc.audit.engine import AuditOptions, run_audit
from pesdc.audit.result import Status
from pesdc.model import validate
from pesdc.model.tree import Topology
from pesdc.provision import desired
from pesdc.render import servers
from pesdc.render.context import CenterFacts
from pesdc.render.engine import render_template
from tests.conftest import ROOT

CENTER = "jinan"


@pytest.fixture(scope="module")
def topo() -> Topology:
    return validate([ROOT / "topologies"]).topology


def _break(monkeypatch: pytest.MonkeyPatch, template: str) -> None:
    """The template fails wherever it is rendered (desired_state and render_server)."""
    def render(name: str, ctx: dict[str, Any]) -> str:
        if name == template:
            raise ValueError(f"{name}: cannot render")
        return render_template(name, ctx)

    monkeypatch.setattr(desired, "render_template", render)
    monkeypatch.setattr(servers, "render_template", render)


def _raises(topo: Topology) -> set[str]:
    """The servers whose desired_state fails (what provisioning cannot build)."""
    dc = topo.datacenters[CENTER]
    facts = CenterFacts.of(topo, dc)
    out = set()
    for s in dc.servers:
        try:
            desired.desired_state(topo, CENTER, s.name, False, facts=facts)
        except Exception:
            out.add(f"{s.name}.{CENTER}")
    return out


def _judged(topo: Topology, catalog: Catalog) -> dict[str, set[Status]]:
    """Host -> the statuses of its host rules' outcomes."""
    report = run_audit(topo, CENTER, catalog, AuditOptions(mode="static"))
    out: dict[str, set[Status]] = {}
    for rule in registry.HOST_CHECKS:
        for o in report.rules[rule].outcomes:
            out.setdefault(o.target, set()).add(o.status)
    return out


@pytest.mark.parametrize("template", [
    "linux/roles/database/pg_hba.conf.j2",  # a role's file (the audit does not read it)
    "linux/roles/baseline/umask.sh.j2",  # the baseline's own file, every server
    "linux/server/sshd_config.j2",  # a shared file (the static evidence)
])
def test_a_template_failure_is_the_servers_error(topo: Topology, catalog: Catalog,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 template: str) -> None:
    _break(monkeypatch, template)
    failing = _raises(topo)
    assert failing, template
    judged = _judged(topo, catalog)
    for host, statuses in judged.items():
        if host in failing:
            assert statuses == {Status.error}, (host, statuses)
        else:
            assert Status.error not in statuses, (host, statuses)


def test_a_derivation_failure_is_the_servers_error(topo: Topology, catalog: Catalog,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: Any) -> Any:
        raise KeyError("no such server")

    monkeypatch.setattr(desired, "_backup_ctx", boom)
    failing = _raises(topo)
    assert failing
    judged = _judged(topo, catalog)
    assert all(judged[h] == {Status.error} for h in failing)
    assert all(Status.error not in s for h, s in judged.items() if h not in failing)


def test_the_facts_are_desired_states(topo: Topology) -> None:
    """Every expectation the audit reads is the one desired_state derives."""
    dc = topo.datacenters[CENTER]
    facts = CenterFacts.of(topo, dc)
    for s in dc.servers:
        full = desired.desired_state(topo, CENTER, s.name, False, facts=facts)
        part = desired.desired_facts(topo, CENTER, s.name, False, facts=facts,
                                     unshared_files=True)
        assert (part.roles, part.listeners, part.log_servers, part.time_sources,
                part.admins, part.duties, part.packages, part.controls) == (
            full.roles, full.listeners, full.log_servers, full.time_sources,
            full.admins, full.duties, full.packages, full.controls)
        shared = {f"linux/server/{f.template}" for f in servers.SERVER_FILES}
        assert [f.path for f in part.files] == [
            f.path for f in full.files if f.template not in shared]
