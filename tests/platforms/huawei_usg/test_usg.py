"""The USG family's own derivations (huawei_usg/context.py) and readback, judged against
the family's command reference (commands.yaml, read from USG documents) and the
rendered fixture pair of tests/render/fixtures/vendor/usg_fw."""

from __future__ import annotations

from typing import Any

import pytest

from pesdc.netpush.secrets import Secrets
from pesdc.platforms.huawei_usg.context import ascii_text, usg_context
from pesdc.platforms.huawei_usg.policy import READER, read_usg
from pesdc.platforms.reference import reference
from pesdc.render.readback import differences, expected
from tests.render.vendor_util import contexts, render_case


@pytest.fixture(scope="module")
def pair() -> dict[str, str]:
    files, problems = render_case("usg_fw")
    assert not problems, [p.message for p in problems]
    return {dev: text for dev, (_, text) in files.items()}


def _lines(text: str) -> list[str]:
    return [ln.rstrip() for ln in text.splitlines()]


def test_the_pair_runs_hrp_toward_each_other(pair: dict[str, str]) -> None:
    ctxs = contexts("usg_fw")
    for me, other in (("fw-1", "fw-2"), ("fw-2", "fw-1")):
        lines = _lines(pair[me])
        mgmt = next(i for i in ctxs[me]["interfaces"]
                    if i["zone_kind"] == "security_management")
        theirs = next(i["address"] for i in ctxs[other]["interfaces"]
                      if i["segment"] == mgmt["segment"])
        assert "hrp enable" in lines
        assert f"hrp interface {mgmt['name']} remote {theirs}" in lines
        assert {"hrp standby config enable", "hrp auto-sync config static-route"} <= set(lines)
    # VRRP and HRP agree: fw-1 is active in every group, fw-2 standby in every group
    assert "hrp standby-device" not in _lines(pair["fw-1"])
    assert "hrp standby-device" in _lines(pair["fw-2"])
    assert all(ln.endswith(" active") for ln in _lines(pair["fw-1"]) if " vrrp vrid " in ln)
    assert all(ln.endswith(" standby") for ln in _lines(pair["fw-2"]) if " vrrp vrid " in ln)
    assert not any(ln.startswith("hrp") for ln in _lines(pair["gk-1"]))  # no partner


def _ctx(priorities: list[int], peer: bool = True, name: str = "fw-1") -> dict[str, Any]:
    """fw-1 (or ``name``) with two VRRP groups at ``priorities``; its partner fw-2 at
    priority 110 in both."""
    itfs = [{"name": f"Eth-Trunk1.{n}", "segment": f"s{n}", "address": f"10.0.{n}.2",
             "zone_kind": "security_management" if n == 90 else "production",
             "vlan": None, "description": "x", "vrrp": {"group": n, "priority": p}}
            for n, p in zip((10, 90), priorities, strict=True)]
    return {"device": {"name": name, "peer": {"name": "fw-2", "interfaces": [
                {"segment": i["segment"], "address": i["address"][:-1] + "3",
                 "name": i["name"], "vrrp_group": i["vrrp"]["group"], "vrrp_priority": 110}
                for i in itfs]} if peer else None},
            "interfaces": itfs, "rules": [],
            "mgmt": {"banner": "b", "ssh_sources": [], "ntp_servers": [],
                     "syslog_servers": []}}


def test_load_sharing_mirrors_sessions_and_sub_interfaces_get_their_trunk() -> None:
    ctx = _ctx([120, 100])  # active in one group, standby in the other: paths may cross
    usg_context(ctx)
    assert ctx["usg"]["vrrp"] == {"Eth-Trunk1.10": "active", "Eth-Trunk1.90": "standby"}
    hrp = ctx["usg"]["hrp"]
    assert hrp == {"interface": "Eth-Trunk1.90", "remote": "10.0.90.3", "standby": False,
                   "mirror": True}
    assert ctx["usg"]["trunks"] == ["Eth-Trunk1"]
    assert ctx["usg"]["dot1q"] == {"Eth-Trunk1.10": 10, "Eth-Trunk1.90": 90}
    alone = _ctx([120, 120], peer=False)
    usg_context(alone)
    assert alone["usg"]["hrp"] is None


@pytest.mark.parametrize(("text", "ascii"), [
    ("Authorized use only. All activity is logged and audited. 仅限授权使用, 所有操作均被"
     "记录和审计.", "Authorized use only. All activity is logged and audited."),
    ("ETL (抽取): the decision zone pulls", "ETL: the decision zone pulls"),
    ("district agencies work in the systems (经办)", "district agencies work in the systems"),
    ("仅限授权", ""),
    ("plain text", "plain text"),
])
def test_text_is_ascii(text: str, ascii: str) -> None:
    assert ascii_text(text) == ascii


def test_nothing_rendered_is_outside_ascii(pair: dict[str, str]) -> None:
    for dev, text in pair.items():
        assert text.isascii(), dev


def test_the_three_administrators_hold_three_predefined_roles(pair: dict[str, str]) -> None:
    m = contexts("usg_fw")["fw-1"]["mgmt"]["admins"]
    lines = _lines(pair["fw-1"])
    assert {f" bind manager-user {m['system']} role system-admin",
            f" bind manager-user {m['security']} role device-admin",
            f" bind manager-user {m['audit']} role audit-admin"} <= set(lines)
    levels = {lines[i - 3].split()[-1]: lines[i].split()[-1]
              for i, ln in enumerate(lines) if ln.startswith("  level ")}
    assert levels == {m["system"]: "15", m["security"]: "2", m["audit"]: "1"}


def test_the_snmp_user_takes_its_keys_in_one_line_at_push_time(pair: dict[str, str]) -> None:
    ref = reference("huawei_usg")
    [line] = [ln for ln in _lines(pair["fw-1"]) if ln.startswith("snmp-agent usm-user")]
    filled = Secrets({"snmp-auth": "Auth-Key-2024x", "snmp-priv": "Priv-Key-2024y"}).fill(line)
    assert filled.endswith("simple authentication-mode sha Auth-Key-2024x privacy-mode "
                           "aes256 Priv-Key-2024y")
    assert ref.check(filled) == [] and ref.check(line) == []
    # the forms the template wrote before (DEFECTS U1-U3) are rejected by the reference
    for old in ("snmp-agent usm-user v3 pesdc-monitor",
                "snmp-agent usm-user v3 pesdc-monitor group pesdc-v3",
                "snmp-agent usm-user v3 pesdc-monitor authentication-mode sha2-256 cipher K"):
        assert len(ref.check(old)) == 1, old


def test_the_reference_rejects_text_outside_ascii() -> None:
    ref = reference("huawei_usg")
    assert ref.check('header login information "Authorized 仅限授权使用"') != []
    assert ref.check('header login information "Authorized use only."') == []


def test_the_firewall_keeps_its_own_management_before_the_default_deny(
        pair: dict[str, str]) -> None:
    ctx = contexts("usg_fw")["fw-1"]
    read = read_usg(pair["fw-1"])
    assert not read.problems
    mgmt = [n["cidr"] for n in ctx["mgmt"]["ssh_sources"]]
    assert {(p.protocol, p.ports) for p in read.local} >= {("tcp", (22,)), ("udp", (161,))}
    assert {(p.dst, p.protocol, p.ports) for p in read.own} >= {
        (tuple(f"{s}/32" for s in ctx["mgmt"]["ntp_servers"]), "udp", (123,)),
        (tuple(f"{s}/32" for s in ctx["mgmt"]["syslog_servers"]), "udp", (514,))}
    want = expected(READER.shape, ctx["rules"], ctx["relays"])
    assert differences(want, read, mgmt) == []
    assert read.zones is not None and all(read.zones[z["name"]] == z["interfaces"]
                                          for z in ctx["zones"])


def test_local_zone_rules_beyond_the_management_networks_are_differences(
        pair: dict[str, str]) -> None:
    ctx = contexts("usg_fw")["fw-1"]
    mgmt = [n["cidr"] for n in ctx["mgmt"]["ssh_sources"]]
    wide = pair["fw-1"].replace(
        " rule name pesdc-default-deny\n",
        " rule name wide-in\n  destination-zone local\n  service protocol tcp "
        "destination-port 22\n  action permit\n"
        " rule name wide-out\n  source-zone local\n  destination-address 192.0.2.0 mask "
        "255.255.255.0\n  action permit\n rule name pesdc-default-deny\n")
    read = read_usg(wide)
    diffs = differences(expected(READER.shape, ctx["rules"], ctx["relays"]), read, mgmt)
    assert sorted(d.what for d in diffs) == ["local", "own"]
    assert "192.0.2.0/24" in next(d.en for d in diffs if d.what == "own")


INTENDED_USM = ("snmp-agent usm-user v3 mon pesdc-v3 simple authentication-mode sha "
                "%%PESDC_SECRET:snmp-auth%% privacy-mode aes256 %%PESDC_SECRET:snmp-priv%%")


@pytest.mark.parametrize("shown", [
    "snmp-agent usm-user v3 mon pesdc-v3 authentication-mode sha %^%#a1%^%# privacy-mode "
    "aes256 %^%#p1%^%#",
    "snmp-agent usm-user v3 mon pesdc-v3 cipher authentication-mode sha %^%#a1%^%# "
    "privacy-mode aes256 cipher %^%#p1%^%#",
])
def test_a_pushed_snmp_key_plans_nothing(shown: str) -> None:
    """The device shows its ciphertext, never the key: the user in place is no change."""
    from pesdc.platforms.huawei_usg.driver import USG

    assert USG.remediation(f"#\n{shown}\n#\nreturn\n", f"#\n{INTENDED_USM}\n#\nreturn\n") == []


def test_a_changed_snmp_user_is_removed_in_the_undo_form_the_usg_takes() -> None:
    from pesdc.platforms.huawei_usg.driver import USG

    running = ("#\nsnmp-agent usm-user v3 mon old-group authentication-mode sha %^%#a1%^%#"
               " privacy-mode aes256 %^%#p1%^%#\n#\nreturn\n")
    lines = USG.remediation(running, f"#\n{INTENDED_USM}\n#\nreturn\n")
    # the page's undo Format: `undo snmp-agent usm-user v3 user-name group-name`
    assert lines == ["undo snmp-agent usm-user v3 mon old-group", INTENDED_USM]


def test_each_vrrp_group_has_one_active_member_even_on_a_tie() -> None:
    one, two = _ctx([110, 110], name="fw-1"), _ctx([110, 110], name="fw-3")
    usg_context(one)
    usg_context(two)
    # partner fw-2 has 110 too: the lower name is active
    assert set(one["usg"]["vrrp"].values()) == {"active"}
    assert set(two["usg"]["vrrp"].values()) == {"standby"}
    assert two["usg"]["hrp"]["standby"] and not one["usg"]["hrp"]["standby"]
