"""Rendered vendor configurations, read back through hier_config: the sections each
platform must have, remediation from a factory running configuration, no secret
literals, and the kind registry refusing what a platform cannot express (RENDER001).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hier_config import HConfig

from pesdc.kinds import KINDS
from pesdc.model import validate
from pesdc.model.diagnostics import Diagnostic
from pesdc.platforms import dialect_of
from pesdc.platforms.cisco_ios.context import ios_banner
from pesdc.render import render_device_files, render_tree
from pesdc.render.context import CenterFacts
from pesdc.render.output import remediation
from tests.conftest import MINI
from tests.render.vendor_util import (
    CASES,
    RUNNING,
    SECRET_RE,
    comware_normalise,
    contexts,
    hconfig,
    render_case,
)

ALL = [(case, dev) for case in sorted(CASES) for dev in sorted(render_case(case)[0])]
# The vendor kinds, from the platform folders: those whose devices manage themselves.
VENDOR_KINDS = sorted(k.name for k in KINDS.values() if dialect_of(k.platform).manages_itself)


def _rendered(case: str, dev: str) -> tuple[str, str]:
    return render_case(case)[0][dev]


def _tree(case: str, dev: str) -> HConfig:
    kind, text = _rendered(case, dev)
    return hconfig(kind, text)


def _lines(node: Any) -> list[str]:
    return [c.text for c in node.children]


def _child(node: Any, text: str) -> Any:
    found = node.get_child(equals=text)
    assert found is not None, f"no {text!r} in {_lines(node)}"
    return found


def _startswith(node: Any, prefix: str) -> list[str]:
    return [t for t in _lines(node) if t.startswith(prefix)]


# --- every platform: management hardening ----------------------------------------

# The Comware 7 families share their management lines (h3c_comware/comware.j2).
COMWARE_HARDENING = ["ssh server enable", "undo telnet server enable", "undo ip http enable",
                     "undo ip https enable", "snmp-agent sys-info version v3",
                     "password-control enable", "ssh server acl 2001"]
HARDENING = {
    "huawei_vrp": ["stelnet server enable", "undo telnet server enable",
                   "undo http server enable", "undo http secure-server enable",
                   "snmp-agent sys-info version v3", "undo ssh server compatible-ssh1x enable",
                   "command-privilege level 1 view shell display current-configuration",
                   "command-privilege level 15 view system aaa"],
    "huawei_ar": ["stelnet server enable", "undo telnet server enable",
                  "undo http server enable", "snmp-agent sys-info version v3",
                  "command-privilege level 1 view shell display current-configuration"],
    # VRP8: its own telnet form; no HTTP switch was found in a CE or NE source.
    "huawei_ce": ["stelnet server enable", "telnet server disable",
                  "telnet ipv6 server disable", "snmp-agent sys-info version v3"],
    "huawei_ne": ["stelnet server enable", "undo telnet server enable",
                  "snmp-agent sys-info version v3"],
    "huawei_usg": ["stelnet server enable", "undo telnet server enable",
                   "undo web-manager enable", "undo web-manager security enable",
                   "snmp-agent sys-info version v3"],
    "h3c_comware": COMWARE_HARDENING,
    "h3c_secpath": COMWARE_HARDENING,
    "h3c_msr": COMWARE_HARDENING,
    "cisco_ios": ["ip ssh version 2", "no ip http server", "no ip http secure-server",
                  "aaa new-model"],
}
HARDENING["cisco_iosxe"] = HARDENING["cisco_ios"]  # one configuration model, two families


@pytest.mark.parametrize(("case", "dev"), ALL)
def test_hardening(case: str, dev: str) -> None:
    kind, text = _rendered(case, dev)
    ctx = contexts(case)[dev]
    m = ctx["mgmt"]
    tree = hconfig(kind, text)
    top = _lines(tree)
    for line in HARDENING[kind]:
        assert line in top, f"{dev}: missing {line!r}"
    assert not [t for t in top if "community" in t], "SNMP communities are not allowed"
    for s in m["syslog_servers"]:
        assert {f"info-center loghost {s}", f"logging host {s}"} & set(top)
    for s in m["ntp_servers"]:
        assert {f"ntp-service unicast-server {s}", f"ntp server {s}",
                f"ntp unicast-server {s}"} & set(top)
    users = m["admins"].values()
    attempts, lock, idle = (m["login_fail_attempts"], m["lockout_minutes"],
                            m["idle_timeout_minutes"])
    if kind in ("huawei_vrp", "huawei_ar", "huawei_ce", "huawei_ne"):
        aaa = _child(tree, "aaa")
        assert (f"local-aaa-user wrong-password retry-interval 5 retry-time {attempts} "
                f"block-time {lock}") in _lines(aaa)
        a = m["admins"]
        if kind in ("huawei_vrp", "huawei_ar"):  # command levels (VRP5)
            levels = {u: _startswith(aaa, f"local-user {u} privilege level") for u in users}
            assert levels == {
                a["system"]: [f"local-user {a['system']} privilege level 3"],
                a["audit"]: [f"local-user {a['audit']} privilege level 1"],
                a["security"]: [f"local-user {a['security']} privilege level 15"]}
        else:  # VRP8 RBAC: one user group (and task group) per role
            for role, u in a.items():
                assert f"local-user {u} user-group pesdc-{role}-ug" in _lines(aaa)
                ug = _child(aaa, f"user-group pesdc-{role}-ug")
                assert _lines(ug) == [f"task-group pesdc-{role}-tg"]
            audit = _lines(_child(aaa, "task-group pesdc-audit-tg"))
            assert audit and all(t.endswith(" read") for t in audit), audit
        vty = _child(tree, "user-interface vty 0 4")
        assert {"protocol inbound ssh", "acl 2001 inbound", f"idle-timeout {idle} 0",
                "authentication-mode aaa"} <= set(_lines(vty))
        assert any(t.startswith("header login information") for t in top)
    elif kind == "huawei_usg":
        aaa = _child(tree, "aaa")
        assert f"lock-authentication failed-count {attempts}" in _lines(aaa)
        assert f"lock-authentication timeout {lock}" in _lines(aaa)
        roles = {t.split()[2]: t.split()[-1] for t in _startswith(aaa, "bind manager-user")}
        assert roles == {m["admins"]["system"]: "system-admin",
                         m["admins"]["audit"]: "audit-admin",
                         m["admins"]["security"]: "device-admin"}
        vty = _child(tree, "user-interface vty 0 4")
        assert {"protocol inbound ssh", "acl 2001 inbound", f"idle-timeout {idle} 0"} <= \
            set(_lines(vty))
    elif kind in ("h3c_comware", "h3c_secpath", "h3c_msr"):
        assert f"password-control login-attempt {attempts} exceed lock-time {lock}" in top
        assert f"password-control length {m['password_min_length']}" in top
        audit = _child(tree, f"local-user {m['admins']['audit']} class manage")
        # security-audit is exclusive (assigning it removes the user's other roles)
        assert [t for t in _lines(audit) if "user-role" in t] == \
            ["authorization-attribute user-role security-audit"]
        assert all(t.isascii() for t in top if t.startswith("header "))
        vty = _child(tree, "line vty 0 63")
        assert {"protocol inbound ssh", "authentication-mode scheme",
                f"idle-timeout {idle} 0"} <= set(_lines(vty))
        assert any(t.startswith("header login ") for t in top)
    else:
        assert f"aaa local authentication attempts max-fail {attempts}" in top
        assert any(t.startswith(f"login block-for {lock * 60} attempts {attempts}")
                   for t in top)
        assert f"security passwords min-length {m['password_min_length']}" in top
        privs = sorted(int(t.split()[3]) for t in top if t.startswith("username "))
        assert privs == [5, 7, 15]  # auditor, security administrator, system administrator
        for vty_name in ("line vty 0 4", "line vty 5 15"):
            vty = _child(tree, vty_name)
            assert {"transport input ssh", "access-class PESDC-SSH in",
                    f"exec-timeout {idle} 0"} <= set(_lines(vty))
        acl = _child(tree, "ip access-list standard PESDC-SSH")
        assert [t for t in _lines(acl) if "permit" in t] == \
            [f"10 permit {n['network']} {n['wildcard']}" for n in m["ssh_sources"]]
        # hier_config reads the banner as one block: the delimiter, the text, the delimiter.
        banners = [t for t in top if t.startswith("banner motd ")]
        assert len(banners) == 1
        head, *body, end = banners[0].split("\n")
        assert head == f"banner motd {end}" and len(end) == 1 and end not in m["banner"]
        assert body == [ios_banner(m["banner"])] and body[0].isascii()
        assert any(t.startswith("snmp-server group PESDC-V3 v3 priv") for t in top)


# Lines that name a password setting but carry none.
NOT_A_SECRET = ("password-control", "service password-encryption", "security passwords",
                "set password min-length", "local-aaa-user password policy",
                "password history", "password expire", "password min-length",
                "authentication-mode aaa", "authentication-mode scheme", "ssh user ",
                "local-aaa-user wrong-password",
                "lock-authentication", "ssh server cipher")


@pytest.mark.parametrize(("case", "dev"), ALL)
def test_no_secret_literals(case: str, dev: str) -> None:
    """Passwords and keys are placeholders only; no community, no hash, no literal."""
    _, text = _rendered(case, dev)
    keywords = re.compile(r"\b(password|secret|cipher|community|authentication-mode|"
                          r"privacy-mode|auth sha|priv aes)\b")
    for line in text.splitlines():
        if not keywords.search(line) or line.strip().startswith(NOT_A_SECRET):
            continue
        stripped = SECRET_RE.sub("", line)
        assert SECRET_RE.search(line), f"{dev}: secret-bearing line without placeholder: {line}"
        assert "$" not in stripped and "%" not in stripped, f"{dev}: literal in {line}"
    assert "community" not in text


# --- interfaces, VLANs, VRRP, OSPF, routes -----------------------------------------

L3_PREFIX = {"huawei_vrp": "vrrp vrid {g} virtual-ip {vip}",
             "huawei_ce": "vrrp vrid {g} virtual-ip {vip}",
             "huawei_ne": "vrrp vrid {g} virtual-ip {vip}",
             "huawei_ar": "vrrp vrid {g} virtual-ip {vip}",
             "huawei_usg": "vrrp vrid {g} virtual-ip {vip} ",
             "h3c_comware": "vrrp vrid {g} virtual-ip {vip}",
             "h3c_secpath": "vrrp vrid {g} virtual-ip {vip}",
             "h3c_msr": "vrrp vrid {g} virtual-ip {vip}",
             "cisco_ios": "vrrp {g} ip {vip}",
             "cisco_iosxe": "vrrp {g} address-family ipv4"}  # VRRPv3: the address inside


@pytest.mark.parametrize(("case", "dev"), ALL)
def test_interfaces_vrrp_routes(case: str, dev: str) -> None:
    kind, _ = _rendered(case, dev)
    tree = _tree(case, dev)
    ctx = contexts(case)[dev]
    for itf in ctx["interfaces"]:
        node = _child(tree, f"interface {itf['name']}")
        if itf["address"]:
            assert f"ip address {itf['address']} {itf['net']['netmask']}" in _lines(node)
        if itf["description"]:
            assert f"description {itf['description']}" in _lines(node)
        if itf["vrrp"]:
            want = L3_PREFIX[kind].format(g=itf["vrrp"]["group"], vip=itf["vrrp"]["vip"])
            assert [t for t in _lines(node) if t.startswith(want)], (dev, itf["name"])
    top = _lines(tree)
    is_switch = ctx["device"]["kind"].endswith("_switch")
    if kind in ("huawei_vrp", "huawei_ce") and ctx["vlans"]:
        assert [f"vlan batch {b}" for b in ctx["vrp"]["vlan_batches"]] == \
            _startswith(tree, "vlan batch ")
        ids: set[int] = set()
        for b in ctx["vrp"]["vlan_batches"]:
            items = re.findall(r"\d+(?: to \d+)?", b)
            assert len(items) <= 10, f"{dev}: more than 10 items in vlan batch {b}"
            for item in items:
                lo, _, hi = item.partition(" to ")
                ids |= set(range(int(lo), int(hi or lo) + 1))
        assert ids == {v["id"] for v in ctx["vlans"]}
        for itf in ctx["interfaces"]:
            if itf["trunk_vlans"]:
                node = _lines(_child(tree, f"interface {itf['name']}"))
                assert "port link-type trunk" in node
                assert [f"port trunk allow-pass vlan {b}" for b in itf["trunk_vlans"]] == \
                    [t for t in node if t.startswith("port trunk allow-pass vlan")]
    if kind in ("huawei_ne", "huawei_ar"):  # routers: no VLAN objects
        assert not _startswith(tree, "vlan ")
    if kind == "huawei_ne":
        for itf in ctx["interfaces"]:
            if itf["dot1q"]:
                assert f"vlan-type dot1q {itf['dot1q']}" in \
                    _lines(_child(tree, f"interface {itf['name']}"))
    if kind in ("h3c_comware", "cisco_ios", "cisco_iosxe"):
        for v in ctx["vlans"]:
            if is_switch:
                assert f"name {v['name']}" in _lines(_child(tree, f"vlan {v['id']}"))
            else:
                assert tree.get_child(equals=f"vlan {v['id']}") is None
    if kind == "h3c_comware":  # a port toward another switch trunks the zone VLANs
        for itf in ctx["interfaces"]:
            if itf["trunk_vlans"]:
                node = _lines(_child(tree, f"interface {itf['name']}"))
                assert {"port link-type trunk", "port trunk permit vlan "
                        + " ".join(map(str, itf["trunk_vlans"]))} <= set(node)
                assert all(tree.get_child(equals=f"vlan {v}") for v in itf["trunk_vlans"])
    if kind in ("cisco_ios", "cisco_iosxe"):  # trunks toward switch peers; VRRPv3 on XE
        for itf in ctx["interfaces"]:
            node = _child(tree, f"interface {itf['name']}")
            if itf["trunk_vlans"]:
                assert {"switchport mode trunk", "switchport trunk allowed vlan "
                        + ",".join(map(str, itf["trunk_vlans"]))} <= set(_lines(node))
                assert all(tree.get_child(equals=f"vlan {v}") for v in itf["trunk_vlans"])
            if itf["vrrp"] and kind == "cisco_iosxe":
                group = _child(node, f"vrrp {itf['vrrp']['group']} address-family ipv4")
                assert f"address {itf['vrrp']['vip']} primary" in _lines(group)
        assert ("fhrp version vrrp v3" in top) == (
            kind == "cisco_iosxe" and any(i["vrrp"] for i in ctx["interfaces"]))
    for r in ctx["static_routes"]:
        assert [t for t in top if t.startswith(("ip route-static ", "ip route "))
                and r["network"] in t and r["next_hop"] in t], r
    if ctx["ospf"]:
        o = ctx["ospf"]
        if kind in ("cisco_ios", "cisco_iosxe"):
            node = _child(tree, "router ospf 1")
            assert f"router-id {o['router_id']}" in _lines(node)
            for n in o["networks"]:
                assert f"network {n['network']} {n['wildcard']} area {o['area']}" in \
                    _lines(node)
        else:
            node = _child(tree, f"ospf 1 router-id {o['router_id']}")
            area = _child(node, f"area {o['area']}")
            assert _lines(area) == [f"network {n['network']} {n['wildcard']}"
                                    for n in o["networks"]]


# --- zone policy -------------------------------------------------------------------

def test_usg_security_policy() -> None:
    ctxs = contexts("usg_fw")
    for dev in ("fw-1", "fw-2", "gk-1"):
        tree = _tree("usg_fw", dev)
        ctx = ctxs[dev]
        pol = _child(tree, "security-policy")
        # the model's rules, then the firewall's own (Local zone), then the final deny
        assert _lines(pol) == [f"rule name {r['name']}" for r in ctx["rules"]] + \
            [f"rule name {r['name']}" for r in ctx["usg"]["local_rules"]] + \
            ["rule name pesdc-default-deny"]
        for r in ctx["rules"]:
            rule = _lines(_child(pol, f"rule name {r['name']}"))
            assert f"source-zone {r['src_zone']}" in rule
            assert f"destination-zone {r['dst_zone']}" in rule
            assert rule[-1] == "action permit"
            for n in r["dst_nets"]:
                assert f"destination-address {n['network']} mask {n['netmask']}" in rule
            for p in r["ports"]:
                assert f"service protocol {r['protocol']} destination-port {p}" in rule
        assert _lines(_child(pol, "rule name pesdc-default-deny"))[-1] == "action deny"
        prios = []
        for z in ctx["zones"]:
            zone = _child(tree, f"firewall zone name {z['name']} id "
                          f"{ctx['zones'].index(z) + 4}")
            assert {f"add interface {i}" for i in z["interfaces"]} <= set(_lines(zone))
            prios += [int(t.split()[-1]) for t in _lines(zone) if t.startswith("set priority")]
        assert len(set(prios)) == len(prios)
        assert not set(prios) & {100, 85, 50, 5}, "collides with a built-in zone"
    gk = _tree("usg_fw", "gk-1")
    pol = _child(gk, "security-policy")
    sources = [t for r in pol.children for t in _lines(r)
               if t.startswith("source-zone") and t != "source-zone local"]
    assert sources == ["source-zone exchange"], "a gatekeeper only lets exchange->production"
    assert "nat server exch-to-mis-8443 protocol tcp global 10.41.2.5 8443 inside " \
        "10.41.1.30 8443 no-reverse" in _lines(gk)


def test_comware_security_policy() -> None:
    ctxs = contexts("comware")
    for dev in ("fw-1", "gk-1"):
        tree = _tree("comware", dev)
        ctx = ctxs[dev]
        pol = _child(tree, "security-policy ip")
        # the model's rules, the device's own (zone Local), then the final drop
        own = ctx["local_rules"]
        assert _lines(pol) == [f"rule {r['id']} name {r['name']}" for r in ctx["rules"]] + \
            [f"rule {r['id']} name {r['name']}" for r in own] + \
            [f"rule {len(ctx['rules']) + len(own) + 1} name pesdc-default-deny"]
        local = {r["name"]: _lines(_child(pol, f"rule {r['id']} name {r['name']}"))
                 for r in own}
        assert {"action pass", "destination-zone Local", "source-ip pesdc-local-mgmt-src",
                "service pesdc-local-mgmt-svc"} <= set(local["pesdc-local-mgmt"])
        for name in ("pesdc-local-syslog", "pesdc-local-ntp"):
            assert {"action pass", "source-zone Local", f"destination-ip {name}-dst"} <= \
                set(local[name])
        for r in ctx["rules"]:
            rule = _lines(_child(pol, f"rule {r['id']} name {r['name']}"))
            assert {"action pass", f"source-zone {r['src_zone']}",
                    f"destination-zone {r['dst_zone']}", f"source-ip {r['name']}-src",
                    f"destination-ip {r['name']}-dst"} <= set(rule)
            assert tree.get_child(equals=f"object-group ip address {r['name']}-dst")
        assert "action drop" in _lines(pol.children[-1])
        pairs = sorted({(r["src_zone"], r["dst_zone"]) for r in ctx["rules"]})
        assert sorted(_startswith(tree, "zone-pair security")) == \
            [f"zone-pair security source {a} destination {b}" for a, b in pairs]
        for z in ctx["zones"]:
            assert {f"import interface {i}" for i in z["interfaces"]} <= \
                set(_lines(_child(tree, f"security-zone name {z['name']}")))
    gk = _tree("comware", "gk-1")
    assert _startswith(gk, "zone-pair security") == \
        ["zone-pair security source exchange destination production"]
    # A switch carries no zone policy even when its interfaces span two zones.
    assert _tree("comware", "sw-1").get_child(equals="security-policy ip") is None


def test_ios_zone_based_firewall() -> None:
    ctx = contexts("ios")["isr-1"]
    tree = _tree("ios", "isr-1")
    pairs = sorted({(r["src_zone"], r["dst_zone"]) for r in ctx["rules"]})
    zp = _startswith(tree, "zone-pair security ")
    # The router's own traffic: the management zone's pairs with IOS's self zone.
    own = [("mgmt", "self"), ("self", "mgmt")]
    assert sorted(zp) == sorted(f"zone-pair security {a}-{b} source {a} destination {b}"
                                for a, b in pairs + own)
    self_in = _lines(_child(tree, "ip access-list extended PESDC-mgmt-self"))
    assert "10 permit tcp 10.43.9.0 0.0.0.255 any eq 22" in self_in
    self_out = _lines(_child(tree, "ip access-list extended PESDC-self-mgmt"))
    assert {"10 permit udp any host 10.43.9.11 eq 123",
            "20 permit udp any host 10.43.9.10 eq 514"} <= set(self_out)  # NTP, syslog
    for a, b in pairs:
        assert _lines(_child(tree, f"zone-pair security {a}-{b} source {a} destination {b}")) \
            == [f"service-policy type inspect PESDC-{a}-{b}"]
        pm = _child(tree, f"policy-map type inspect PESDC-{a}-{b}")
        assert _lines(_child(pm, "class class-default")) == ["drop log"]
        assert _lines(_child(pm, f"class type inspect PESDC-{a}-{b}")) == ["inspect"]
        cm = _child(tree, f"class-map type inspect match-any PESDC-{a}-{b}")
        assert _lines(cm) == [f"match access-group name PESDC-{a}-{b}"]
        assert _child(tree, f"ip access-list extended PESDC-{a}-{b}").children
    acl = _lines(_child(tree, "ip access-list extended PESDC-exchange-production"))
    assert acl == ["10 permit tcp 10.43.2.0 0.0.0.255 host 10.43.1.10 eq 8080"]
    for itf in ctx["interfaces"]:
        assert f"zone-member security {itf['zone']}" in \
            _lines(_child(tree, f"interface {itf['name']}"))
    # The access switch is not a policy point: no ZBF there.
    acc = _tree("ios", "acc-1")
    assert not _startswith(acc, "zone")


# --- remediation ---------------------------------------------------------------------

FACTORY_EXPECT = {
    "huawei_vrp": ("vrp_core", "core-1", [
        "undo telnet server enable", "undo snmp-agent community read cipher %^%#FACTORY%^%#",
        "undo interface Vlanif1", "vlan batch 10 20 30 50 90"],
        {"aaa": ["undo local-user admin"],
         "user-interface vty 0 4": ["undo protocol inbound telnet", "protocol inbound ssh"]}),
    "huawei_ce": ("vrp_families", "ce-1", [
        "telnet server disable", "undo snmp-agent community read cipher %^%#FACTORY%^%#",
        "ntp unicast-server 10.44.9.11", "vlan batch 10 20 30 90 99"],
        {"aaa": ["undo local-user admin",
                 "local-user auditadmin user-group pesdc-audit-ug"],
         "user-interface vty 0 4": ["undo protocol inbound telnet", "protocol inbound ssh"],
         "interface 100GE1/0/1": ["port link-type trunk"]}),
    "huawei_ne": ("vrp_families", "ne-1", [
        "undo telnet server enable", "undo snmp-agent community read cipher %^%#FACTORY%^%#",
        "ntp-service unicast-server 10.44.9.11"],
        {"aaa": ["undo local-user admin", "user-group pesdc-audit-ug"],
         "interface GigabitEthernet0/1/0": ["undo shutdown"],
         "interface GigabitEthernet0/1/0.99": ["vlan-type dot1q 99"],
         "user-interface vty 0 4": ["undo protocol inbound all", "protocol inbound ssh"]}),
    "huawei_ar": ("vrp_families", "ar-1", [
        "undo telnet server enable", "undo http server enable",
        "command-privilege level 1 view shell display current-configuration"],
        {"aaa": ["undo local-user admin",
                 "local-user auditadmin privilege level 1"],
         "user-interface vty 0 4": ["undo protocol inbound telnet", "protocol inbound ssh"]}),
    "huawei_usg": ("usg_fw", "fw-1", [
        "undo telnet server enable", "undo web-manager security enable"],
        {"security-policy": ["undo rule name trust-to-any", "rule name web-in"],
         "firewall zone trust": ["undo add interface GigabitEthernet0/0/0"]}),
    "h3c_comware": ("comware", "agg-1", [
        "undo telnet server enable", "undo ip http enable", "vlan 10",
        "undo snmp-agent community read public", "undo local-user admin class manage"],
        {"line vty 0 63": ["undo authentication-mode none", "protocol inbound ssh"],
         "interface Ten-GigabitEthernet1/0/49": ["port link-type trunk"]}),
    "h3c_msr": ("comware", "rt-1", [
        "undo telnet server enable", "undo ip http enable",
        "undo snmp-agent community read public", "ospf 1 router-id 10.42.255.8"],
        {"line vty 0 63": ["undo authentication-mode none", "protocol inbound ssh"]}),
    "h3c_secpath": ("comware", "fw-1", [
        "undo telnet server enable", "undo ip http enable",
        "undo snmp-agent community read public", "undo local-user admin class manage"],
        {"line vty 0 63": ["undo authentication-mode none", "protocol inbound ssh"]}),
    "cisco_iosxe": ("ios", "acc-1", [
        "no ip http server", "no snmp-server community public RO",
        "no enable password FACTORY", "no interface Vlan1", "ip ssh version 2",
        "fhrp version vrrp v3"],
        {"line vty 0 4": ["no password FACTORY", "transport input ssh"]}),
    "cisco_ios": ("ios", "isr-1", [
        "no ip http server", "no snmp-server community public RO",
        "no enable password FACTORY", "ip ssh version 2", "zone security production"],
        {"line vty 0 4": ["no password FACTORY", "transport input ssh"],
         "interface GigabitEthernet0/0": ["zone-member security production"]}),
}


def test_every_vendor_kind_has_its_cases() -> None:
    """A new vendor platform brings a fixture case, its hardening lines, a factory
    running configuration and what its remediation from it must hold."""
    rendered = {kind for case in CASES for kind, _ in render_case(case)[0].values()}
    assert rendered == set(VENDOR_KINDS)
    assert set(HARDENING) == set(FACTORY_EXPECT) == set(VENDOR_KINDS)
    assert {p.stem for p in RUNNING.glob("*.cfg")} == set(VENDOR_KINDS)


@pytest.mark.parametrize("kind", VENDOR_KINDS)
def test_remediation_from_factory(kind: str) -> None:
    case, dev, top_expect, nested = FACTORY_EXPECT[kind]
    _, intended = _rendered(case, dev)
    running = (RUNNING / f"{kind}.cfg").read_text("utf-8")
    if kind.startswith("h3c_"):  # a Comware display: `#` lines, one-space globals
        running = comware_normalise(running)
    rem = remediation(kind, running, intended)
    tree = hconfig(kind, rem)
    top = _lines(tree)
    for line in top_expect:
        assert line in top, f"{kind}: remediation lacks {line!r}:\n{rem}"
    for section, lines in nested.items():
        node = _child(tree, section)
        for line in lines:
            assert line in _lines(node), f"{kind}: {section} lacks {line!r}:\n{rem}"


@pytest.mark.parametrize(("case", "dev"), ALL)
def test_remediation_to_itself_is_empty(case: str, dev: str) -> None:
    kind, text = _rendered(case, dev)
    assert remediation(kind, text, text) == ""


def test_comware_normalise_reads_a_device_display() -> None:
    running = (RUNNING / "h3c_comware.cfg").read_text("utf-8")
    tree = hconfig("h3c_comware", running)
    assert "sysname H3C" in _lines(tree)
    assert _lines(_child(tree, "interface Vlan-interface1")) == ["ip address dhcp-alloc"]


# --- the kind registry refuses what a platform cannot express ------------------------

def _mini_with(tmp_path: Path, old: str, new: str) -> Path:
    dst = tmp_path / "mini"
    shutil.copytree(MINI, dst)
    city = dst / "city.yaml"
    text = city.read_text("utf-8")
    assert old in text
    city.write_text(text.replace(old, new), "utf-8")
    return dst


def test_vrp_firewall_is_render001(tmp_path: Path) -> None:
    tree = _mini_with(tmp_path, "firewall: {platform: huawei_usg, model: USG6650E}",
                      "firewall: {platform: huawei_vrp, model: S6730-H}")
    result = validate([tree])
    problems: list[Diagnostic] = []
    facts = CenterFacts.of(result.topology, result.topology.datacenters["jinan"])
    assert render_device_files(facts, "fw-1", problems) == {}
    assert [p.rule for p in problems] == ["RENDER001"]
    assert "fw-1" in problems[0].message and "zone_policy" in problems[0].message
    whole = render_tree(result.topology)
    assert {p.message.split(":")[0] for p in whole.problems
            if p.rule == "RENDER001"} == {"device fw-1", "device fw-2"}


def test_ios_gatekeeper_is_render001(tmp_path: Path) -> None:
    tree = _mini_with(
        tmp_path,
        "    - {name: fw-2, kind: firewall",
        "    - {name: gk-9, kind: gatekeeper, platform: cisco_ios, model: ISR4331, "
        "mgmt: 10.38.9.9}\n    - {name: fw-2, kind: firewall")
    result = validate([tree])
    problems: list[Diagnostic] = []
    facts = CenterFacts.of(result.topology, result.topology.datacenters["jinan"])
    assert render_device_files(facts, "gk-9", problems) == {}
    assert any(p.rule == "RENDER001" and "gk-9" in p.message
               and "one_way_policy" in p.message for p in problems)


def test_mini_tree_vendor_devices_render(tmp_path: Path) -> None:
    """The mini tree's VRP core switches and USG firewalls (no interfaces) render."""
    result = validate([MINI])
    rendered = render_tree(result.topology)
    assert not rendered.problems, [p.message for p in rendered.problems]
    for dev in ("core-1", "core-2", "fw-1", "fw-2"):
        text = rendered.files[f"devices/jinan/{dev}/device.cfg"]
        kind = "huawei_vrp" if dev.startswith("core") else "huawei_usg"
        assert "stelnet server enable" in _lines(hconfig(kind, text))
        assert remediation(kind, text, text) == ""
