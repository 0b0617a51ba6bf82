"""The four Huawei VRP families: which family takes which model, the keys the device
takes at its prompts (VRP5/AR), the display folded back into the template's forms (so
a diff and the push's post-check see a key in place), the VRP8 trial abort answering
its [Y/N], and the context hook's derivations (VLAN batches, trunks, sub-interfaces,
the ASCII banner)."""

from __future__ import annotations

from typing import Any

import pytest

from pesdc.netpush.drivers import DRIVERS, ConnParams
from pesdc.platforms import family_of, kind_of
from pesdc.platforms.huawei_vrp.context import ASCII_BANNER, ascii_banner, batches
from pesdc.platforms.huawei_vrp.driver import (
    VRP5,
    VRP8,
    answered,
    vrp5_normalise,
    vrp8_normalise,
)
from pesdc.platforms.spec import PlatformError
from tests.render.vendor_util import contexts, render_case


@pytest.mark.parametrize(("model", "family"), [
    ("S6730-H48X6C", "huawei_vrp"), ("S5735-S48T4X", "huawei_vrp"),
    ("CE12804", "huawei_ce"), ("CE6881-48S6CQ", "huawei_ce"),
    ("NetEngine 40E-X8A", "huawei_ne"), ("NE40E-X8", "huawei_ne"),
    ("NetEngine 8000 M8", "huawei_ne"), ("NE8000-M14", "huawei_ne"),
    ("NetEngine AR6300", "huawei_ar"), ("AR6300", "huawei_ar"), ("AR2220E", "huawei_ar"),
])
def test_each_model_has_exactly_one_vrp_family(model: str, family: str) -> None:
    assert family_of("huawei_vrp", model) == family


def test_a_model_no_vrp_family_takes_names_the_four() -> None:
    with pytest.raises(PlatformError) as err:
        family_of("huawei_vrp", "Quidway X1")
    for family in ("huawei_vrp", "huawei_ce", "huawei_ne", "huawei_ar"):
        assert family in str(err.value)


def test_keys_go_at_the_prompts_and_questions_get_their_yes() -> None:
    lines = ["snmp-agent usm-user v3 mon group g",
             "snmp-agent usm-user v3 mon authentication-mode sha %%PESDC_SECRET:a%%",
             "undo http server enable", "sysname x"]
    assert answered(lines, ("undo http server enable",)) == [
        "snmp-agent usm-user v3 mon group g",
        "snmp-agent usm-user v3 mon authentication-mode sha",
        "%%PESDC_SECRET:a%%", "%%PESDC_SECRET:a%%",
        "undo http server enable", "Y", "sysname x"]
    # A line with `cipher` carries the device's ciphertext: nothing is asked.
    shown = "snmp-agent usm-user v3 mon authentication-mode sha cipher %^%#x%^%#"
    assert answered([shown]) == [shown]


VRP5_SHOWN = """\
snmp-agent usm-user v3 pesdc-monitor group pesdc-v3
snmp-agent usm-user v3 pesdc-monitor authentication-mode sha cipher %^%#K1xyz%^%#
snmp-agent usm-user v3 pesdc-monitor privacy-mode aes128 cipher %^%#K2xyz%^%#
"""
VRP8_SHOWN = """\
snmp-agent usm-user v3 pesdc-monitor
snmp-agent usm-user v3 pesdc-monitor group pesdc-v3
snmp-agent usm-user v3 pesdc-monitor authentication-mode sha2-256 cipher %+%#K1%+%#
snmp-agent usm-user v3 pesdc-monitor privacy-mode aes256 cipher %+%#K2%+%#
"""


def test_displayed_keys_fold_back_into_the_template_forms() -> None:
    assert vrp5_normalise(VRP5_SHOWN).splitlines()[1:] == [
        "snmp-agent usm-user v3 pesdc-monitor authentication-mode sha %^%#K1xyz%^%#",
        "snmp-agent usm-user v3 pesdc-monitor privacy-mode aes128 %^%#K2xyz%^%#"]
    assert vrp8_normalise(VRP8_SHOWN).splitlines() == [
        "snmp-agent usm-user v3 pesdc-monitor pesdc-v3 authentication-mode sha2-256 "
        "%+%#K1%+%# privacy-mode aes256 %+%#K2%+%#"]


@pytest.mark.parametrize(("dev", "syntax", "shown"), [
    ("ce-1", VRP8, VRP8_SHOWN), ("ar-1", VRP5, VRP5_SHOWN)])
def test_a_key_in_place_is_not_sent_again(dev: str, syntax: Any, shown: str) -> None:
    """The running configuration a push leaves (keys shown as ciphertext) is what the
    template wrote: its SNMP user lines plan nothing, so the post-check is clean."""
    _, intended = render_case("vrp_families")[0][dev]
    running = "\n".join(ln for ln in intended.splitlines()
                        if not ln.startswith("snmp-agent usm-user")) + "\n" + shown
    assert not [ln for ln in syntax.remediation(running, intended) if "usm-user" in ln]
    # and a missing user is sent in the family's form
    missing = "\n".join(ln for ln in intended.splitlines()
                        if not ln.startswith("snmp-agent usm-user")) + "\n"
    sent = [ln for ln in syntax.remediation(missing, intended) if "usm-user" in ln]
    assert sent and all("cipher" not in ln and "%%PESDC_SECRET:" in ln
                        for ln in sent if "-mode" in ln)


class _Trial:
    """The VRP8 exchanges of a trial commit and its abort, as the CE6800 `abort trial`
    page describes them: the command asks `Continue? [Y/N]:`, `Y` rolls back."""

    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []
        self.config = False

    def send_command(self, cmd: str, expect_string: str = "", **_: Any) -> str:
        self.said.append((cmd, expect_string))
        return {"abort trial": "Warning: The trial configuration will be aborted. "
                               "Continue? [Y/N]:",
                "Y": "Info: Succeeded in aborting the trial configuration."}.get(cmd, "")

    def check_config_mode(self) -> bool:
        return self.config

    def config_mode(self) -> None:
        self.config = True

    def exit_config_mode(self) -> None:
        self.config = False


@pytest.mark.parametrize("key", ["huawei_ce", "huawei_ne"])
def test_abort_trial_answers_its_question(key: str) -> None:
    drv = DRIVERS[key](ConnParams("huawei_vrpv8", "192.0.2.1"))
    drv.conn = _Trial()
    out = drv.cancel_commit()
    assert [c for c, _ in drv.conn.said] == ["abort trial", "Y"]
    assert drv.conn.said[0][1] == r"\[Y/N\]"  # waits for the question, not a prompt
    assert "Succeeded" in out and not drv.conn.config


@pytest.mark.parametrize(("key", "trial"), [("huawei_vrp", False), ("huawei_ar", False),
                                            ("huawei_ce", True), ("huawei_ne", True)])
def test_commit_model_per_family(key: str, trial: bool) -> None:
    """VRP8 has a native trial commit; VRP5 and AR have none (the engine falls back to
    pushing the backup back)."""
    assert DRIVERS[key].supports_commit_confirm is trial
    assert DRIVERS[key].commit_model.name == ("commit-trial" if trial else "backup-push")
    assert DRIVERS[key].commit_model.native is trial


def test_vlan_batches_hold_at_most_ten_items() -> None:
    assert batches([5, 10, 11, 12, 20]) == ["5 10 to 12 20"]
    many = batches(list(range(100, 200, 2)))
    assert len(many) == 5 and all(len(b.split()) == 10 for b in many)


def test_banner_is_ascii_where_no_character_set_is_documented() -> None:
    text = "Authorized use only. All activity is logged and audited. 仅限授权使用, 均被记录."
    assert ascii_banner(text) == "Authorized use only. All activity is logged and audited."
    assert ascii_banner("仅限授权使用") == ASCII_BANNER
    for dev, (_, cfg) in render_case("vrp_families")[0].items():
        assert cfg.isascii(), dev


def test_hook_derivations_per_family() -> None:
    ctx = contexts("vrp_families")
    trunk = next(i for i in ctx["ce-1"]["interfaces"] if i["name"] == "100GE1/0/1")
    assert trunk["trunk_vlans"] == ["10 20 30 90 99"]
    assert ctx["ce-1"]["vrp"]["preempt"] == "preempt"
    ne = ctx["ne-1"]
    assert ne["vrp"]["parents"] == ["GigabitEthernet0/1/0"]
    sub = next(i for i in ne["interfaces"] if i["dot1q"])
    assert (sub["name"], sub["dot1q"]) == ("GigabitEthernet0/1/0.99", 99)
    assert sub["name"] in ne["vrp"]["ospf_itfs"]
    assert ne["vrp"]["vlan_batches"] == [] and ctx["ar-1"]["vrp"]["vlan_batches"] == []


def test_kind_of_names_the_family() -> None:
    from pesdc.model import validate
    from tests.render.vendor_util import CASES

    topo = validate([CASES["vrp_families"]]).topology
    kinds = {d.name: kind_of(d).name for d in topo.datacenters["vrpfam"].devices
             if d.platform.value == "huawei_vrp"}
    assert kinds == {"ce-1": "huawei_ce", "ce-2": "huawei_ce", "ne-1": "huawei_ne",
                     "ar-1": "huawei_ar"}


def _fixture_devices() -> list[tuple[str, str, str]]:
    return [(case, dev, kind) for case in ("vrp_core", "vrp_families")
            for dev, (kind, _) in sorted(render_case(case)[0].items())
            if kind in ("huawei_vrp", "huawei_ce", "huawei_ne", "huawei_ar")]


@pytest.mark.parametrize(("case", "dev", "family"), _fixture_devices())
def test_fixture_devices_walk_their_family_reference(case: str, dev: str,
                                                     family: str) -> None:
    """The example topologies have no S-series switch; the fixture cases do (and the
    trunk ports the examples lack): their lines are judged by the reference too."""
    from pesdc.platforms.reference import reference

    unmatched = reference(family).check(render_case(case)[0][dev][1])
    assert not unmatched, "\n".join(map(str, unmatched))


@pytest.mark.parametrize(("case", "dev", "family"), _fixture_devices())
def test_no_line_the_family_rejected_comes_back(case: str, dev: str, family: str) -> None:
    """`fixed:` in commands.yaml lists what the one shared template wrote and the family
    rejects (a `pattern`) or misused (a role model, no pattern): no such line may be
    rendered again."""
    import re

    import yaml

    from pesdc.platforms import platform

    data = yaml.safe_load((platform(family).folder / "commands.yaml").read_text("utf-8"))
    fixed = [re.compile(f["pattern"]) for f in data.get("fixed") or [] if "pattern" in f]
    lines = [ln.strip() for ln in render_case(case)[0][dev][1].splitlines()]
    back = [ln for ln in lines for rx in fixed if rx.search(ln)]
    assert not back, back


@pytest.mark.parametrize(("dev", "family", "ntp"), [
    ("ce-1", "huawei_ce", "ntp unicast-server"), ("ne-1", "huawei_ne", "ntp-service"),
    ("ar-1", "huawei_ar", "ntp-service")])
def test_the_audit_reads_each_family_in_its_own_syntax(dev: str, family: str,
                                                        ntp: str) -> None:
    from pesdc.platforms import dialect_of

    _, text = render_case("vrp_families")[0][dev]
    own = dialect_of(family)
    servers = contexts("vrp_families")[dev]["mgmt"]["ntp_servers"]
    assert own.time_sources(text) == servers and ntp in text
    gaps = own.remote_access_gaps(text)
    # VRP8: no CE or NE source disables HTTP, so the audit cannot see it off: a gap.
    assert gaps == (["http"] if family in ("huawei_ce", "huawei_ne") else [])
    if family == "huawei_ce":  # read in VRP5's syntax, CE's lines prove nothing
        vrp5 = dialect_of("huawei_vrp")
        assert vrp5.time_sources(text) == [] and "telnet" in vrp5.remote_access_gaps(text)
