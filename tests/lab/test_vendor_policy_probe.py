"""The packets prove the vendor policy (issue 15 point 6): a lab of the small city with
its border firewalls as Huawei USGs. Each firewall's stand-in runs the ruleset
translated from its rendered USG configuration (pesdc/lab/vendor_policy.py), so
`lab probe` judges that configuration: with one rule removed from it the probe of that
flow fails, with one permit added the blocked probe it admits fails, and the
configuration as rendered passes. One bring-up (lab `usgp`) serves every assertion;
the lab is taken down at the end (`lab down` stops each node by its recorded PID), and
no namespace of it may be left."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pesdc.kinds import kind_of
from pesdc.lab import netns
from pesdc.lab.paths import lab_dir
from pesdc.lab.plan import build_plan
from pesdc.lab.vendor_policy import translate, vendor_facts
from pesdc.model import validate
from pesdc.render import render_device_files
from pesdc.render.context import device_context
from tests.lab.conftest import pesdc, require_lab
from tests.lab.usg_city import usg_city, with_rule, without_rule

pytestmark = pytest.mark.lab
LAB = "usgp"
FW = "fw-1"  # the VRRP master: it holds the gateways, the flows cross it


@pytest.fixture(scope="module")
def usg_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_lab()
    city = usg_city(tmp_path_factory.mktemp("usgcity"))
    loaded = validate([city])
    assert not loaded.report.errors, [d.format() for d in loaded.report.errors]
    plan = build_plan(loaded.topology, "weihai", LAB)
    facts = vendor_facts(plan)
    problems: list = []
    usg = render_device_files(facts, FW, problems)["device.cfg"]
    assert not problems, [p.message for p in problems]
    dev = next(d for d in plan.dc.devices if d.name == FW)
    up = pesdc("lab", "up", str(city), "--name", LAB, timeout=900)
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        yield {"city": city, "usg": usg, "dev": dev,
               "ctx": device_context(facts, dev)}
    finally:
        down = pesdc("lab", "down", "--name", LAB, timeout=600)
        assert down.returncode == 0, down.stdout + down.stderr
        left = [ns for ns in netns.existing() if ns.startswith(f"pesdc-{LAB}-")]
        assert not left, f"lab down left namespaces behind: {left}"


def _probe(city: Path) -> tuple[int, dict[str, Any]]:
    res = pesdc("lab", "probe", str(city), "--name", LAB, "--json", timeout=900)
    try:
        return res.returncode, json.loads(res.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"lab probe printed no report: {res.stdout[-2000:]} {res.stderr[-2000:]}")


def _load(lab: dict[str, Any], config: str, name: str) -> None:
    """Run the stand-in of FW on the translation of ``config`` (a USG configuration)."""
    text, why = translate(kind_of(lab["dev"]), lab["dev"], {"device.cfg": config}, vrrp=True)
    assert text is not None, why
    path = lab_dir(LAB) / "nodes" / FW / "config" / f"{name}.nft"
    path.write_text(text, encoding="utf-8")
    res = pesdc("lab", "exec", "--name", LAB, FW, "nft", "-f", str(path), timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


def test_the_probe_judges_the_usg_configuration(usg_lab: dict[str, Any]) -> None:
    city = usg_lab["city"]
    conf = lab_dir(LAB) / "nodes" / FW / "config" / "nftables.conf"
    assert "read from the rendered device.cfg" in conf.read_text(encoding="utf-8")
    rc, report = _probe(city)
    assert rc == 0 and report["errors"] == 0, report.get("summary", report)
    probes = report["probes"]
    fw_rules = {r["name"]: r for r in usg_lab["ctx"]["rules"]}
    allowed = [p for p in probes if p["expected"] and p["why"].removeprefix("flow ")
               in fw_rules]
    assert allowed, "no allowed probe crosses the firewall"
    gone = allowed[0]["why"].removeprefix("flow ")
    pairs = {(r["src_zone"], r["dst_zone"]) for r in fw_rules.values()}
    blocked = next(p for p in probes if not p["expected"]
                   and (p["src_zone"], p["dst_zone"]) in pairs and p["protocol"] == "tcp")
    try:
        # One rule removed from the USG configuration: its flow's probes fail.
        _load(usg_lab, without_rule(usg_lab["usg"], gone), "without-rule")
        rc, report = _probe(city)
        assert rc == 1 and report["errors"] == 0
        failed = [p for p in report["probes"] if p["verdict"] == "fail"]
        assert failed and {p["why"] for p in failed} == {f"flow {gone}"}
        assert all(p["expected"] and p["observed"] is False for p in failed)
        # One permit added: the blocked probe it admits fails, nothing else.
        _load(usg_lab, with_rule(usg_lab["usg"], [
            " rule name added-by-hand", f"  source-zone {blocked['src_zone']}",
            f"  destination-zone {blocked['dst_zone']}",
            f"  source-address {blocked['src']} mask 255.255.255.255",
            f"  destination-address {blocked['dst']} mask 255.255.255.255",
            f"  service protocol tcp destination-port {blocked['port']}",
            "  action permit"]), "with-rule")
        rc, report = _probe(city)
        assert rc == 1 and report["errors"] == 0
        failed = [p for p in report["probes"] if p["verdict"] == "fail"]
        assert [(p["src"], p["dst"], p["port"]) for p in failed] == [
            (blocked["src"], blocked["dst"], blocked["port"])]
        assert failed[0]["observed"] is True
    finally:
        res = pesdc("lab", "exec", "--name", LAB, FW, "nft", "-f", str(conf), timeout=60)
        assert res.returncode == 0, res.stdout + res.stderr
    rc, report = _probe(city)
    assert rc == 0, report.get("summary", report)
