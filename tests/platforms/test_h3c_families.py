"""The three H3C Comware 7 families behind `platform: h3c_comware`: which model goes to
which folder, what a family refuses to express, and the facts their context hooks
derive (the ASCII header, the Local-zone rules of a SecPath, the trunks of a switch)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pesdc.model import validate
from pesdc.model.diagnostics import Diagnostic
from pesdc.platforms import PlatformError, family_of
from pesdc.platforms.h3c_comware.context import ASCII_NOTICE, ascii_banner
from pesdc.platforms.h3c_comware.syntax import COMWARE
from pesdc.render import render_device_files
from pesdc.render.context import CenterFacts
from tests.render.vendor_util import CASES, contexts

H3C = "h3c_comware"


@pytest.mark.parametrize("model, family", [
    ("S6520X-30QC-EI", "h3c_comware"), ("S5130S-52S-EI", "h3c_comware"),
    ("S12508G-AF", "h3c_comware"), ("SecPath F1070", "h3c_secpath"),
    ("F5000-AK", "h3c_secpath"), ("M9006", "h3c_secpath"), ("MSR5680", "h3c_msr"),
    ("MSR3610-X1", "h3c_msr"),
])
def test_each_model_has_its_family(model: str, family: str) -> None:
    assert family_of(H3C, model) == family


def test_an_unclaimed_h3c_model_lists_the_three_families() -> None:
    with pytest.raises(PlatformError) as err:
        family_of(H3C, "WX3510X")  # a wireless controller: no family takes it
    for family in ("h3c_comware", "h3c_secpath", "h3c_msr"):
        assert family in str(err.value)


def _with(tmp_path: Path, old: str, new: str) -> Path:
    dst = tmp_path / "comware"
    shutil.copytree(CASES["comware"], dst)
    center = dst / "center.yaml"
    text = center.read_text("utf-8")
    assert text.count(old) == 1, old
    center.write_text(text.replace(old, new), "utf-8")
    return dst


def _render(tree: Path, device: str) -> tuple[dict[str, str], list[Diagnostic]]:
    topo = validate([tree]).topology
    problems: list[Diagnostic] = []
    facts = CenterFacts.of(topo, topo.datacenters["h3cdc"])
    return render_device_files(facts, device, problems), problems


def test_a_switch_model_in_a_firewall_role_is_refused(tmp_path: Path) -> None:
    """The family that takes the model decides: a Comware switch has no zone policy,
    so a firewall of that model renders nothing and says why."""
    tree = _with(tmp_path, "      kind: gatekeeper\n      platform: h3c_comware\n"
                 "      model: SecPath F1030\n",
                 "      kind: gatekeeper\n      platform: h3c_comware\n"
                 "      model: S6520X-30QC-EI\n")
    files, problems = _render(tree, "gk-1")
    assert files == {}
    assert problems and "one_way_policy" in problems[0].message


def test_a_router_model_in_a_firewall_role_is_refused(tmp_path: Path) -> None:
    tree = _with(tmp_path, "      kind: gatekeeper\n      platform: h3c_comware\n"
                 "      model: SecPath F1030\n",
                 "      kind: gatekeeper\n      platform: h3c_comware\n"
                 "      model: MSR5680\n")
    files, problems = _render(tree, "gk-1")
    assert files == {} and problems


def test_the_header_is_ascii() -> None:
    assert ascii_banner("Authorized use only. 仅限授权使用.") == "Authorized use only."
    assert ascii_banner("仅限授权使用") == ASCII_NOTICE
    assert ascii_banner("plain text") == "plain text"


def test_secpath_local_rules_cover_its_own_management() -> None:
    ctxs = contexts("comware")
    mgmt = ctxs["fw-1"]["mgmt"]
    rules = {r["name"]: r for r in ctxs["fw-1"]["local_rules"]}
    assert set(rules) == {"pesdc-local-mgmt", "pesdc-local-syslog", "pesdc-local-ntp"}
    inbound = rules["pesdc-local-mgmt"]
    assert (inbound["src_zones"], inbound["dst_zones"]) == (["mgmt"], ["Local"])
    assert inbound["services"] == [("tcp", 22), ("udp", 161)]
    assert inbound["src_nets"] == [f"network subnet {n['network']} {n['netmask']}"
                                   for n in mgmt["ssh_sources"]]
    assert rules["pesdc-local-syslog"]["dst_nets"] == \
        [f"network host address {s}" for s in mgmt["syslog_servers"]]
    assert rules["pesdc-local-ntp"]["dst_nets"] == \
        [f"network host address {s}" for s in mgmt["ntp_servers"]]
    # A gatekeeper with no interface in the management zone reaches it through its zones.
    gk = {r["name"]: r for r in ctxs["gk-1"]["local_rules"]}
    assert gk["pesdc-local-mgmt"]["src_zones"] == ["exchange", "production"]
    # Only the SecPath family adds them: a switch or a router has no zone policy.
    assert "local_rules" not in ctxs["sw-1"] and "local_rules" not in ctxs["rt-1"]


def test_switch_trunks_carry_every_zone_vlan() -> None:
    ctx = contexts("comware")["agg-1"]
    every = [v["id"] for v in ctx["center_vlans"]]
    assert every == [10, 20, 30, 50, 90]
    assert [i["trunk_vlans"] for i in ctx["interfaces"]] == [every, every]
    assert [v["id"] for v in ctx["vlans"]] == every
    # A core switch port with an address of its own is no trunk.
    assert all(not i["trunk_vlans"] for i in contexts("comware")["sw-1"]["interfaces"])


def test_one_value_commands_are_replaced_and_undone_without_argument() -> None:
    running = ("interface GigabitEthernet1/0/1\n description old\n"
               "local-user a class manage\n password hash $h$6$x\n")
    intended = "interface GigabitEthernet1/0/1\n description new\nlocal-user a class manage\n"
    assert COMWARE.remediation(running, intended) == [
        "interface GigabitEthernet1/0/1", " description new", " quit",
        "local-user a class manage", " undo password", " quit"]
    assert COMWARE.remediation(intended, "interface GigabitEthernet1/0/1\n"
                               "local-user a class manage\n") == [
        "interface GigabitEthernet1/0/1", " undo description", " quit"]


def test_snmpv3_keys_displayed_as_ciphertext_are_in_place() -> None:
    """The template gives the keys in plaintext (`simple`, filled at push time); the
    device shows `cipher` and ciphertext: that user is in place. Another group is not."""
    intended = ("snmp-agent usm-user v3 mon pesdc-v3 simple authentication-mode sha "
                "%%PESDC_SECRET:snmp-auth%% privacy-mode aes128 %%PESDC_SECRET:snmp-priv%%\n")
    shown = ("snmp-agent usm-user v3 mon pesdc-v3 cipher authentication-mode sha $c$3$a== "
             "privacy-mode aes128 $c$3$b==\n")
    assert COMWARE.remediation(shown, intended) == []
    assert COMWARE.remediation(shown.replace("pesdc-v3", "other"), intended)
    assert COMWARE.remediation(shown.replace(" sha ", " md5 "), intended)


def test_the_auditor_role_is_confirmed_when_pushed() -> None:
    """Assigning security-audit asks to delete the user's other roles: the push answers."""
    from pesdc.platforms.h3c_comware.driver import with_answers

    lines = ["local-user auditadmin class manage",
             " authorization-attribute user-role security-audit", " quit"]
    assert with_answers(lines) == [lines[0], lines[1], " Y", lines[2]]
    assert with_answers(["sysname a"]) == ["sysname a"]


def test_a_secpath_pair_runs_rbm_toward_its_partner() -> None:
    ctxs = contexts("comware")
    one, two = ctxs["fw-1"]["rbm"], ctxs["fw-2"]["rbm"]
    assert (one["role"], two["role"]) == ("primary", "secondary")
    assert (one["local_ip"], one["remote_ip"]) == (two["remote_ip"], two["local_ip"])
    # the channel is on the management segment both members share
    assert one["interface"] == "GigabitEthernet1/0/4" and one["local_ip"] == "10.42.9.4"
    assert ctxs["gk-1"]["rbm"] is None  # no partner
