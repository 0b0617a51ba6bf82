"""What a SecPath firewall derives for its template: the Local-zone rules that keep the
device's own management and its log and time flows alive under the default drop."""

from __future__ import annotations

import ipaddress
from typing import Any

from pesdc.platforms.h3c_comware import context as comware

# The security policy governs traffic to and from the device itself (zone Local): it
# is dropped unless a rule passes it (SecPath security-zone guide).
LOCAL = "Local"
# The zone policy the security administrator writes.
SECURITY_COMMANDS = ["acl", "object-group", "security-zone", "zone-pair", "security-policy"]


def member(cidr: str) -> str:
    """An address object-group member: a host or a subnet with its mask."""
    net = ipaddress.ip_network(cidr)
    if net.prefixlen == 32:
        return f"network host address {net.network_address}"
    return f"network subnet {net.network_address} {net.netmask}"


def _rule(ctx: dict[str, Any], name: str, inbound: bool, zones: list[str],
          nets: list[str], services: list[tuple[str, int]], why: str) -> dict[str, Any]:
    far = {"zones": zones, "nets": [member(n) for n in nets]}
    near: dict[str, Any] = {"zones": [LOCAL], "nets": []}
    src, dst = (far, near) if inbound else (near, far)
    return {"id": len(ctx["rules"]) + 1, "name": name, "description": why,
            "src_zones": src["zones"], "dst_zones": dst["zones"], "src_nets": src["nets"],
            "dst_nets": dst["nets"], "services": services}


def local_rules(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules between Local and the management zone: SSH and SNMP in from the
    management networks, syslog out to the log servers, NTP out to the time sources. A
    device with no interface in the management zone reaches the management networks
    through its other zones: those zones then, with the same address limits."""
    mgmt = ctx["mgmt"]
    zones = [z["name"] for z in ctx["zones"] if z["kind"] == "security_management"] \
        or [z["name"] for z in ctx["zones"]]
    if not zones:
        return []
    hosts = {"syslog": [f"{s}/32" for s in mgmt["syslog_servers"]],
             "ntp": [f"{s}/32" for s in mgmt["ntp_servers"]]}
    wanted = [
        _rule(ctx, "pesdc-local-mgmt", True, zones,
              [n["cidr"] for n in mgmt["ssh_sources"]], [("tcp", 22), ("udp", 161)],
              "SSH and SNMP to the device from the management networks"),
        _rule(ctx, "pesdc-local-syslog", False, zones, hosts["syslog"], [("udp", 514)],
              "syslog from the device to the log servers"),
        _rule(ctx, "pesdc-local-ntp", False, zones, hosts["ntp"], [("udp", 123)],
              "NTP from the device to the time sources"),
    ]
    out = [r for r in wanted if r["src_nets"] or r["dst_nets"]]
    for n, r in enumerate(out):
        r["id"] += n
    return out


def rbm(ctx: dict[str, Any]) -> dict[str, Any] | None:
    """A SecPath pair's own redundancy, RBM (`remote-backup group`): its control channel
    and data channel on a segment both members share (the management one first)
    toward the partner's address there; configuration synchronised, service entries
    (sessions) backed up. The primary member is the one whose VRRP groups have the
    higher priority, or the first by name when the pair has none. None without a
    partner or a shared segment."""
    peer = ctx["device"]["peer"]
    if peer is None:
        return None
    theirs = {i["segment"]: i["address"] for i in peer["interfaces"]
              if i["segment"] and i["address"]}
    shared = sorted((i for i in ctx["interfaces"] if i["segment"] in theirs
                     and i["address"]),
                    key=lambda i: i["zone_kind"] != "security_management")
    if not shared:
        return None
    prios = {i["vrrp"]["priority"] > 100 for i in ctx["interfaces"] if i["vrrp"]}
    first = prios == {True} if prios else ctx["device"]["name"] < peer["name"]
    channel = shared[0]
    return {"role": "primary" if first else "secondary", "local_ip": channel["address"],
            "remote_ip": theirs[channel["segment"]], "interface": channel["name"]}


def secpath(ctx: dict[str, Any]) -> None:
    comware.common(ctx, SECURITY_COMMANDS)
    ctx["local_rules"] = local_rules(ctx)
    ctx["rbm"] = rbm(ctx)
