"""What only the USG template needs, derived once from the device's context
(``Kind.context``): the HRP pairing, the Eth-Trunks that carry its sub-interfaces, the
rules that keep the firewall's own management and NTP/syslog flows through the default
deny (the Local zone), and its text in ASCII.

Sources are in ``commands.yaml`` (hrp_interface, sec_admin_hotstandby_0121,
sec_admin_secpolicy_0006_new, sec_admin_network_interface_0017, sec_admin_charset_0001).
"""

from __future__ import annotations

import re
from typing import Any

SNMP_PORT = 161
SSH_PORT = 22
NTP_PORT = 123
SYSLOG_PORT = 514  # info-center loghost sends UDP 514 unless told otherwise
_SUB = re.compile(r"^(?P<parent>\S+?)\.(?P<num>\d+)$")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def usg_context(ctx: dict[str, Any]) -> None:
    """Add ``ctx["usg"]``: hrp, trunks, dot1q tags, local-zone rules and ASCII text."""
    roles = vrrp_roles(ctx)
    ctx["usg"] = {
        "vrrp": roles,
        "hrp": _hrp(ctx, set(roles.values())),
        "trunks": _trunks(ctx["interfaces"]),
        "dot1q": _dot1q(ctx["interfaces"]),
        "banner": ascii_text(ctx["mgmt"]["banner"]) or "Authorized use only.",
        "descriptions": {i["name"]: ascii_text(i["description"])
                         for i in ctx["interfaces"]},
        "rule_descriptions": {r["name"]: ascii_text(r["description"] or "")
                              for r in ctx["rules"]},
    }
    ctx["usg"]["local_rules"] = local_rules(ctx["mgmt"])


def ascii_text(text: str) -> str:
    """Text without its non-ASCII runs. pesdc sends UTF-8 while a USG stores its
    configuration in GBK by default (sec_admin_charset_0001): Chinese text would be
    mis-encoded, so only the ASCII part is kept (with the punctuation that only
    separated a removed run, and brackets left empty)."""
    out = _NON_ASCII.sub("\0", text)
    out = re.sub(r"\0[\s\0,.;:]*", " ", out)
    out = re.sub(r"\(\s*\)", "", out)
    out = re.sub(r"\s+([,.;:)])", r"\1", out)
    return re.sub(r"\s{2,}", " ", out).strip()


def vrrp_roles(ctx: dict[str, Any]) -> dict[str, str]:
    """Interface -> `active` or `standby`: the VGMP group its VRRP group joins. Of the
    pair, the member with the higher priority is active (a tie: the one with the lower
    name, as the lab's stand-ins elect their master), so each group has exactly one
    active member and HRP agrees with VRRP; a member without a partner is active."""
    peer = ctx["device"]["peer"]
    theirs = {(i["segment"], i["vrrp_group"]): i["vrrp_priority"]
              for i in (peer["interfaces"] if peer else [])}
    me = ctx["device"]["name"]
    out = {}
    for i in ctx["interfaces"]:
        if not i["vrrp"]:
            continue
        other = theirs.get((i["segment"], i["vrrp"]["group"]))
        active = other is None or (i["vrrp"]["priority"], peer["name"]) > (other, me)
        out[i["name"]] = "active" if active else "standby"
    return out


def _hrp(ctx: dict[str, Any], roles: set[str]) -> dict[str, Any] | None:
    """The HRP heartbeat of a pair: the management sub-interface (a service interface
    may carry it; hrp_interface) toward the partner's address on the same segment.
    ``standby``: every VRRP group of this member is standby (`hrp standby-device`);
    ``mirror``: the members share the groups (load sharing), so a connection's two
    directions can cross different members and sessions are mirrored."""
    peer = ctx["device"]["peer"]
    if peer is None:
        return None
    theirs = {i["segment"]: i["address"] for i in peer["interfaces"]
              if i["segment"] and i["address"]}
    shared = [i for i in ctx["interfaces"]
              if i["segment"] in theirs and i["address"]]
    shared.sort(key=lambda i: i["zone_kind"] != "security_management")
    if not shared:
        return None
    return {"interface": shared[0]["name"], "remote": theirs[shared[0]["segment"]],
            "standby": roles == {"standby"}, "mirror": len(roles) > 1}


def _trunks(interfaces: list[dict[str, Any]]) -> list[str]:
    """The main interfaces (Eth-Trunk1, ...) of sub-interfaces the model lists without
    their parent: a sub-interface works only while its main interface is up
    (sec_admin_network_interface_0017), so the parent is built too."""
    names = {i["name"] for i in interfaces}
    out: list[str] = []
    for i in interfaces:
        m = _SUB.match(i["name"])
        if m and m["parent"] not in names and m["parent"] not in out:
            out.append(m["parent"])
    return out


def _dot1q(interfaces: list[dict[str, Any]]) -> dict[str, int]:
    """Sub-interface -> its 802.1Q tag: the segment's VLAN, else the sub-interface
    number (the examples number them after their VLAN)."""
    out = {}
    for i in interfaces:
        m = _SUB.match(i["name"])
        if m:
            out[i["name"]] = int(i["vlan"] or m["num"])
    return out


def _host(addr: str) -> dict[str, Any]:
    return {"network": addr, "netmask": "255.255.255.255", "cidr": f"{addr}/32"}


def local_rules(mgmt: dict[str, Any]) -> list[dict[str, Any]]:
    """Security-policy rules for the firewall's own traffic, before the default deny:
    the firewall is the Local zone (sec_admin_secpolicy_0006_new), so SSH, SNMP and ping
    from the management networks need `destination-zone local`, and its NTP and syslog
    to the management servers `source-zone local`. No rule for the HRP heartbeat: HRP
    pairs in USG configuration copies run with a policy that admits nothing between the
    heartbeat zone and Local (commands.yaml, hrp), so the policy does not govern it."""
    nets = [{k: n[k] for k in ("network", "netmask", "cidr")} for n in mgmt["ssh_sources"]]
    out = []
    if nets:
        out.append({"name": "pesdc-local-manage", "to_local": True, "nets": nets,
                    "description": "SSH, SNMP and ping to the firewall from the "
                                   "management networks",
                    "services": [("tcp", SSH_PORT), ("udp", SNMP_PORT), ("icmp", None)]})
    for name, servers, port, what in (
            ("pesdc-local-ntp", mgmt["ntp_servers"], NTP_PORT, "NTP to the time sources"),
            ("pesdc-local-syslog", mgmt["syslog_servers"], SYSLOG_PORT,
             "syslog to the log servers")):
        if servers:
            out.append({"name": name, "to_local": False,
                        "nets": [_host(s) for s in servers],
                        "description": f"the firewall's own {what}",
                        "services": [("udp", port)]})
    return out
