"""The lab view is computed once (issue 14): a lab plan carries its view of the center,
the center facts and the rendered gear; verify, net push, the probe and audit take them
from it instead of working them out again.

No lab here: the counters wrap the real functions (they count calls, every result is
the real one), and the one verify run reaches nothing: its SSH goes to a closed port
on 127.0.0.1 and its namespaces do not exist, so every check is an error.
"""

from __future__ import annotations

import pickle
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import pesdc.lab.plan
import pesdc.policy
import pesdc.render
from pesdc.lab.enter import LabAccess
from pesdc.lab.plan import LabPlan, build_plan
from pesdc.model import validate
from pesdc.model.tree import Topology
from tests.lab.conftest import LABCITY

DC = "weihai"
LAB = "tlv-offline"  # never brought up: no namespace of this name exists


@pytest.fixture(scope="module")
def topo() -> Topology:
    result = validate([LABCITY])
    assert result.report.ok
    return result.topology


class Calls:
    """How often each wrapped function ran, and with which arguments."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.count: Counter[str] = Counter()
        self.args: dict[str, list[tuple[Any, ...]]] = {}
        self.kwargs: dict[str, list[dict[str, Any]]] = {}
        self.results: dict[str, list[Any]] = {}

    def wrap(self, name: str, fn: Callable[..., Any]) -> None:
        """Count ``fn`` under every module-level name it is bound to (``from X import
        fn`` binds a copy of the name in each importer)."""

        def counted(*args: Any, **kw: Any) -> Any:
            self.count[name] += 1
            self.args.setdefault(name, []).append(args)
            self.kwargs.setdefault(name, []).append(kw)
            result = fn(*args, **kw)
            self.results.setdefault(name, []).append(result)
            return result

        for mod in list(sys.modules.values()):
            for attr, value in list(getattr(mod, "__dict__", {}).items()):
                if value is fn and getattr(mod, "__name__", "").startswith("pesdc"):
                    self.monkeypatch.setattr(mod, attr, counted)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    import pesdc.netpush.engine
    import pesdc.verify.network
    import pesdc.verify.run  # binds build_plan: counted there too

    c = Calls(monkeypatch)
    c.wrap("build_plan", pesdc.lab.plan.build_plan)
    c.wrap("lab_view", pesdc.lab.plan.lab_view)
    c.wrap("policy", pesdc.policy.build)
    c.wrap("render", pesdc.render.render_device_files)
    for part in ("check_isolation", "check_policy", "check_routing", "check_links"):
        c.wrap(part, getattr(pesdc.verify.network, part))
    c.wrap("plan_network", pesdc.netpush.engine.plan_network)
    return c


@pytest.fixture
def unreachable_lab(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> LabAccess:
    """The lab's access as `lab up` leaves it, every host behind a closed local port."""
    config = tmp_path / "ssh_config"
    config.write_text("Host *\n  Hostname 127.0.0.1\n  Port 1\n  ConnectTimeout 3\n"
                      "  BatchMode yes\n  StrictHostKeyChecking no\n"
                      "  UserKnownHostsFile /dev/null\n", "utf-8")
    acc = LabAccess(LAB, f"pesdc-{LAB}-ctl", config, tmp_path / "id_ed25519",
                    tmp_path / "known_hosts")
    import pesdc.lab.enter

    monkeypatch.setattr(pesdc.lab.enter, "access", lambda _name: acc)
    import pesdc.verify.run

    monkeypatch.setattr(pesdc.verify.run, "access", lambda _name: acc)
    return acc


def test_a_plan_makes_the_view_and_the_policy_once(topo: Topology, calls: Calls):
    plan = build_plan(topo, DC, LAB)
    assert calls.count["lab_view"] == 1
    assert calls.count["policy"] == 1
    assert plan.view.datacenters[DC] is plan.lab_dc is plan.facts.dc
    assert plan.facts.topo is plan.view


def test_the_lab_view_keeps_the_centers_policy(topo: Topology):
    """The stand-ins change the devices only: the zone policy is the center's."""
    plan = build_plan(topo, DC, LAB)
    assert plan.facts.policy == pesdc.policy.build(topo, topo.datacenters[DC])


def test_the_gear_is_rendered_once_and_travels_with_the_plan(topo: Topology,
                                                             calls: Calls):
    plan = build_plan(topo, DC, LAB)
    gear = plan.gear()
    stand_ins = [n.name for n in plan.nodes.values()
                 if n.device is not None and n.role in ("firewall", "router")]
    assert sorted(gear) == sorted(stand_ins)
    assert calls.count["render"] == len(stand_ins)
    assert plan.gear() is gear  # asked again: the same files, nothing rendered
    assert calls.count["render"] == len(stand_ins)
    # net push hands the plan to its child in the controller namespace by pickle
    again = pickle.loads(pickle.dumps(plan))
    assert again.gear() == gear
    assert calls.count["render"] == len(stand_ins)
    assert calls.count["lab_view"] == 1 and calls.count["policy"] == 1


def test_net_push_in_the_lab_pushes_the_plans_gear(topo: Topology, calls: Calls,
                                                   unreachable_lab: LabAccess):
    from pesdc.netpush.drivers import CONFIG_FILE
    from pesdc.netpush.engine import build_targets
    from pesdc.netpush.secrets import Secrets

    plan = build_plan(topo, DC, LAB)
    gear = plan.gear()
    before = Counter(calls.count)
    targets, failed = build_targets(topo, DC, LAB, None, Secrets({}, env={}), plan)
    assert calls.count == before  # no plan, view, policy or rendering of its own
    assert not failed and targets
    for t in targets:
        assert t.intended == gear[t.name][CONFIG_FILE[t.kind]]


def test_the_probes_take_the_plans_policy(topo: Topology, calls: Calls):
    from pesdc.lab.probe import plan_probes

    plan = build_plan(topo, DC, LAB)
    probes = plan_probes(topo, plan)
    assert probes and calls.count["policy"] == 1


def test_one_verify_run_builds_one_plan_that_every_part_reads(
        topo: Topology, calls: Calls, unreachable_lab: LabAccess):
    from pesdc.verify.run import verify_lab

    report = verify_lab(topo, DC, LAB)
    assert report.checks and not report.ok
    assert calls.count["build_plan"] == 1
    assert calls.count["lab_view"] == 1
    plan = _the_plan(calls)
    for part in ("check_isolation", "check_routing", "check_links"):
        assert calls.count[part] == 1, part
        assert calls.args[part][0][1] is plan, part  # (topo, plan, ...)
    assert calls.args["check_policy"][0][0] is plan
    assert calls.count["plan_network"] == 1
    assert calls.kwargs["plan_network"][0]["plan"] is plan
    assert calls.count["render"] == len(plan.gear())  # the gear once, for policy and drift


def test_each_hosts_checks_read_one_hostspec_made_with_the_plans_facts(
        topo: Topology, calls: Calls, unreachable_lab: LabAccess):
    import pesdc.provision.desired
    import pesdc.verify.hosts
    from pesdc.verify.run import verify_lab

    calls.wrap("check_host", pesdc.verify.hosts.check_host)
    calls.wrap("check_time", pesdc.verify.hosts.check_time)
    calls.wrap("desired_state", pesdc.provision.desired.desired_state)
    verify_lab(topo, DC, LAB, ("hosts",))
    [plan] = calls.results["build_plan"]
    servers = [s.name for s in plan.dc.servers if s.name in plan.nodes]
    made_here = [kw for kw in calls.kwargs["desired_state"] if "facts" in kw]
    assert len(made_here) == len(servers)
    assert all(kw["facts"] is plan.facts for kw in made_here)
    specs = {kw["spec"].host: kw["spec"] for kw in calls.kwargs["check_host"]}
    assert sorted(specs) == sorted(f"{s}.{DC}" for s in servers)
    for kw in calls.kwargs["check_time"]:
        assert kw["spec"] is specs[kw["spec"].host]  # the same HostSpec, not a second


def test_one_verify_run_builds_the_centers_policy_once(
        topo: Topology, calls: Calls, unreachable_lab: LabAccess):
    from pesdc.verify.run import verify_lab

    verify_lab(topo, DC, LAB, ("hosts", "isolation", "policy", "drift"))
    assert calls.count["policy"] == 1


def _the_plan(calls: Calls) -> LabPlan:
    """The one plan verify built, which its parts were handed."""
    [plan] = calls.results["build_plan"]
    assert isinstance(plan, LabPlan)
    return plan
