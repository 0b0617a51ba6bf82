"""pesdc net plan and pesdc plan with --format json.

Both connect to hosts (a lab or a live center: they refuse without one), so their
documents are judged here on the result objects the commands print: net plan's from the
real netpush engine planning a synthetic device session of every driver
(tests/netpush/sessions, the device simulated by tests/netpush/fake.py, as
tests/netpush/test_drivers.py runs it); pesdc plan's (pyinfra against lab hosts, none
here) from HostResults built as its engine fills them. The commands' own option parsing
is run for real."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pesdc.formats import document, json_text
from pesdc.formats.runs import build_net, build_plan
from pesdc.netpush.drivers import DRIVERS, Driver
from pesdc.netpush.engine import plan_device
from pesdc.netpush.secrets import Secrets
from pesdc.results import HostResult, RunResult
from tests.formats.conftest import TOPO, Run, conforms, errors
from tests.netpush.fake import FakeDevice, load_session, synthetic_drivers, target_of

SYNTHETIC = synthetic_drivers()
PLATFORMS = sorted(k for k in DRIVERS if k in SYNTHETIC)


def _printed(name: str, body: dict) -> dict:
    """The document as the command prints it, read back."""
    return dict(json.loads(json_text(document(name, body))))


@pytest.fixture
def quick(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Driver, "read_timeout", 10.0)  # a wrong wait fails fast


@pytest.mark.parametrize("platform", PLATFORMS)
def test_net_plan_of_each_driver_conforms(platform: str, quick: None) -> None:
    session = load_session(SYNTHETIC[platform])
    host = plan_device(target_of(session), Secrets(session["secrets"], env={}),
                       connect=FakeDevice(session))
    assert host.ok, host.error
    doc = _printed("net-plan", build_net(RunResult("plan", "netmiko", [host])))
    conforms("net-plan", doc)
    (got,) = doc["hosts"]
    assert got["changed"] == len(got["details"]["remediation"]) > 0  # the session drifts
    assert doc["changed"] == got["changed"] and doc["interrupted"] is None


def test_a_failed_device_and_an_interrupted_apply_conform() -> None:
    run = RunResult("apply", "netmiko", [
        HostResult("rt-1.weihai", "netmiko", False, error="TCP connection to 192.0.2.1:22 "
                   "failed", details={"state": "not started"}),
        HostResult("sw-1.weihai", "netmiko", True, 3, ["vlan 20"], seconds=1.25,
                   details={"state": "new", "backup": "/var/lib/pesdc/backups/sw-1"})])
    run.interrupted = "SIGTERM"  # type: ignore[attr-defined]
    doc = _printed("net-plan", build_net(run))
    conforms("net-plan", doc)
    assert (doc["ok"], doc["changed"], doc["interrupted"]) == (False, 3, "SIGTERM")


def _provision_run() -> RunResult:
    return RunResult("plan", "pyinfra", [
        HostResult("web-1.jinan", "pyinfra", True, 2,
                   ["[Files/Put] /etc/nginx/nginx.conf", "[Systemd/Service] nginx"],
                   seconds=3.5),
        HostResult("db-1.jinan", "pyinfra", False,
                   error="the SSH connection to the host was lost (EOFError)")])


def test_plan_conforms_and_is_byte_stable() -> None:
    body = build_plan(_provision_run(), "jinan", 12.3456, None)
    doc = _printed("plan", body)
    conforms("plan", doc)
    assert (doc["center"], doc["seconds"], doc["ok"], doc["changed"]) == \
        ("jinan", 12.35, False, 2)
    again = build_plan(_provision_run(), "jinan", 12.3456, None)
    assert json_text(document("plan", body)) == json_text(document("plan", again))


def test_the_run_schemas_reject_a_host_without_ok_or_an_unknown_action() -> None:
    doc = _printed("plan", build_plan(_provision_run(), "jinan", 1.0, "disk full"))
    conforms("plan", doc)
    broken = copy.deepcopy(doc)
    del broken["hosts"][0]["ok"]
    assert any("'ok' is a required property" in e for e in errors("plan", broken))
    broken = copy.deepcopy(doc)
    broken["action"] = "destroy"
    assert errors("plan", broken)
    net = _printed("net-plan", build_net(RunResult("plan", "netmiko", [])))
    conforms("net-plan", net)
    net["hosts"] = [{"host": "x"}]
    assert errors("net-plan", net)


@pytest.mark.parametrize("command", [["plan"], ["net", "plan"], ["apply"], ["net", "apply"]])
@pytest.mark.parametrize("flag", [["--format", "json"], ["--json"]])
def test_the_commands_take_format_json_and_still_refuse_without_a_target(
        pesdc: Callable[..., Run], command: list[str], flag: list[str]) -> None:
    res = pesdc(*command, str(TOPO), "--dc", "jinan", *flag)
    assert res.code == 2 and res.out == ""
    assert "refused: this command connects to hosts" in res.err
