"""A vendor firewall's lab stand-in runs what its rendered vendor configuration
permits (issue 15 point 6), checked here without a lab: the stand-in of the small
city's USG pair is translated from the USG configuration (parsed by its family's
reader), so a rule removed from or added to that configuration is missing from or
added to the stand-in, and a configuration the reader does not understand is an
error, never the model's ruleset. tests/lab/test_vendor_policy_probe.py runs it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pesdc.kinds import kind_of
from pesdc.lab.plan import LabPlan, build_plan
from pesdc.lab.vendor_policy import translate, vendor_facts
from pesdc.model import validate
from pesdc.model.schema import Device
from pesdc.platforms import claims, family_of, kinds
from pesdc.platforms.linux.policy import read_nft_text
from pesdc.render import render_device_files
from pesdc.render.context import device_context
from pesdc.render.readback import Permit, Shape, expected, read_with
from tests.conftest import require_tool
from tests.lab.usg_city import usg_city, with_rule, without_rule


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return usg_city(tmp_path_factory.mktemp("usgcity"))


@pytest.fixture(scope="module")
def plan(city: Path) -> LabPlan:
    loaded = validate([city])
    assert not loaded.report.errors, [d.format() for d in loaded.report.errors]
    return build_plan(loaded.topology, "weihai", "usgp")


def _vendor(plan: LabPlan, name: str) -> tuple[Device, dict[str, str]]:
    problems: list = []
    files = render_device_files(vendor_facts(plan), name, problems)
    assert not problems, [p.message for p in problems]
    return next(d for d in plan.dc.devices if d.name == name), files


def _unzoned(permits: list[Permit]) -> list[Permit]:
    return sorted(Permit(p.src, p.dst, p.protocol, p.ports) for p in permits)


def _standin(dev: Device, config: str) -> list[Permit]:
    text, why = translate(kind_of(dev), dev, {"device.cfg": config}, vrrp=True)
    assert text is not None, why
    read = read_nft_text(text)
    assert not read.problems, read.problems
    return read.permits


def test_the_stand_in_permits_what_the_usg_configuration_permits(plan: LabPlan) -> None:
    gear = plan.gear()
    dev, files = _vendor(plan, "fw-1")
    assert kind_of(dev).name == "huawei_usg"
    text = gear["fw-1"]["nftables.conf"]
    assert "read from the rendered device.cfg, not from the model" in text
    standin = read_nft_text(text)
    assert not standin.problems, standin.problems
    usg = read_with(kind_of(dev).reader, files)  # type: ignore[arg-type]
    assert sorted(standin.permits) == _unzoned(usg.permits) != []
    # ... which are the policy's (the USG template is right), as the Linux reader sees
    want = expected(Shape(zones=False, relay_src=True, atoms=False, masquerade=True),
                    device_context(vendor_facts(plan), dev)["rules"], [])
    assert sorted(standin.permits) == sorted(want.permits)
    # the firewall's own management comes from its Local-zone rules
    assert {(p.protocol, p.ports) for p in standin.local} >= {("tcp", (22,)), ("icmp", ())}
    assert all(p.src == ("10.50.9.0/24",) for p in standin.local)
    # the Linux gatekeeper's stand-in is still rendered from the model
    assert "read from the rendered" not in gear["gk-1"]["nftables.conf"]


def test_a_rule_removed_from_the_usg_configuration_is_missing(plan: LabPlan) -> None:
    dev, files = _vendor(plan, "fw-1")
    rules = device_context(vendor_facts(plan), dev)["rules"]
    gone = rules[0]
    before = _standin(dev, files["device.cfg"])
    after = _standin(dev, without_rule(files["device.cfg"], gone["name"]))
    lost = [p for p in before if p not in after]
    assert len(after) == len(before) - 1 and len(lost) == 1
    assert lost[0].ports == tuple(sorted(gone["ports"]))
    assert lost[0].dst == tuple(sorted(n["cidr"] for n in gone["dst_nets"])) or \
        len(gone["dst_nets"]) > 1  # several destinations may collapse


def test_a_rule_added_to_the_usg_configuration_is_permitted(plan: LabPlan) -> None:
    dev, files = _vendor(plan, "fw-1")
    extra = [" rule name added-by-hand", "  source-zone internet",
             "  destination-zone production", "  source-address 10.50.0.0 mask 255.255.255.0",
             "  destination-address 10.50.1.0 mask 255.255.255.0",
             "  service protocol tcp destination-port 5432", "  action permit"]
    before = _standin(dev, files["device.cfg"])
    after = _standin(dev, with_rule(files["device.cfg"], extra))
    assert [p for p in after if p not in before] == [
        Permit(("10.50.0.0/24",), ("10.50.1.0/24",), "tcp", (5432,))]


def test_what_the_reader_does_not_understand_is_an_error(plan: LabPlan) -> None:
    dev, files = _vendor(plan, "fw-1")
    odd = with_rule(files["device.cfg"], [" rule name odd", "  long-link enable",
                                          "  action permit"])
    text, why = translate(kind_of(dev), dev, {"device.cfg": odd}, vrrp=True)
    assert text is None and "not fully understood" in why and "long-link" in why
    text, why = translate(kind_of(dev), dev, {}, vrrp=True)
    assert text is None and "holds no security policy" in why


def test_the_translated_ruleset_loads_in_nftables(plan: LabPlan, tmp_path: Path) -> None:
    """nft itself judges the translation (a scratch network namespace, nothing live)."""
    nft = require_tool("nft", "Debian nftables")
    path = tmp_path / "fw-1.nft"
    path.write_text(plan.gear()["fw-1"]["nftables.conf"], encoding="utf-8")
    res = subprocess.run(["unshare", "-n", nft, "-c", "-f", str(path)],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr


# A firewall model per family whose kind reads a zone policy, keyed by family folder as
# the shared tests key their tables: a family with a reader and no model here fails.
FIREWALL_MODELS = {"huawei_usg": "USG6650E", "h3c_comware": "S6520X-30QC-EI",
                   "h3c_secpath": "SecPath F1000-AI-55", "cisco_ios": "CISCO2911",
                   "cisco_iosxe": "ISR4331"}


def _reader_families() -> list[str]:
    return sorted({k.platform for k in kinds().values()
                   if k.reader is not None and k.platform != "linux"})


@pytest.mark.parametrize("family", _reader_families())
def test_every_family_with_a_policy_reader_gets_its_own_stand_in(family: str,
                                                                 tmp_path: Path) -> None:
    """Through the shared reader interface, whatever the vendor: the stand-in's permits
    are the ones its family's reader reads in its rendered configuration."""
    assert family in FIREWALL_MODELS, f"name a firewall model of {family} in FIREWALL_MODELS"
    claim, model = claims()[family], FIREWALL_MODELS[family]
    assert family_of(claim.platform, model) == family
    loaded = validate([usg_city(tmp_path, claim.platform, model)])
    assert not loaded.report.errors, [d.format() for d in loaded.report.errors]
    plan = build_plan(loaded.topology, "weihai", "usgp")
    text = plan.gear()["fw-1"]["nftables.conf"]
    dev, _ = _vendor(plan, "fw-1")
    kind = kind_of(dev)
    assert kind.platform == family and kind.reader is not None
    assert f"({family}, {model}): its rules are read from the rendered" in text
    standin = read_nft_text(text)
    assert not standin.problems, standin.problems
    want = expected(kind.reader.shape, device_context(vendor_facts(plan), dev)["rules"], [])
    assert sorted(standin.permits) == _unzoned(want.permits) != []
