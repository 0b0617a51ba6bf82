"""Cisco IOS policy readback: the zone-based firewall (zone-pair -> inspect policy ->
class-map -> extended ACL), through the hier_config tree of the configuration."""

from __future__ import annotations

import ipaddress
import re

from hier_config import Platform as HierPlatform
from hier_config.child import HConfigChild

from pesdc.render.readback import (
    ANY,
    Permit,
    Reader,
    ReadPolicy,
    Shape,
    config_tree,
    nets,
)

_IOS_ACE = re.compile(r"^(?:\d+ )?permit (tcp|udp|icmp|ip) (any|host \S+|\S+ \S+) "
                      r"(any|host \S+|\S+ \S+)(?: eq (\d+))?$")


# IOS's zone for the router itself: its pairs govern traffic to and from the router
# (its SSH, SNMP, NTP, syslog), which the center policy does not model.
SELF = "self"


def read_ios(text: str) -> ReadPolicy:
    """Zone-based firewall: zone-pair -> inspect policy -> class -> ACL entries; the
    pairs with the self zone are left out (the device's own management plane)."""
    out = ReadPolicy()
    tree = config_tree(HierPlatform.CISCO_IOS, text,
                 ("zone-pair", "class-map", "policy-map", "ip access-list"))
    acls = {c.text.split()[-1]: c for c in tree.children
            if c.text.startswith("ip access-list extended ")}
    classes = {c.text.split()[-1]: c for c in tree.children
               if c.text.startswith("class-map type inspect ")}
    policies = {c.text.split()[-1]: c for c in tree.children
                if c.text.startswith("policy-map type inspect ")}
    for pair in tree.children:
        m = re.match(r"^zone-pair security \S+ source (\S+) destination (\S+)$", pair.text)
        if m is None:
            continue
        zones = (m.group(1), m.group(2))
        if SELF in zones:
            continue  # the router's own traffic (management plane), not the center policy
        out.found = True
        for c in pair.children:
            pm = re.match(r"^service-policy type inspect (\S+)$", c.text)
            if pm is None or pm.group(1) not in policies:
                out.problems.append(f"{pair.text}: not understood: {c.text}")
                continue
            _ios_policy(policies[pm.group(1)], classes, acls, zones, out)
    return out


def _ios_policy(policy: HConfigChild, classes: dict[str, HConfigChild],
                acls: dict[str, HConfigChild], zones: tuple[str, str],
                out: ReadPolicy) -> None:
    for cls in policy.children:
        actions = [a.text for a in cls.children]
        passes = any(a in ("inspect", "pass") or a.startswith("pass ") for a in actions)
        drops = all(a in ("drop", "drop log") for a in actions) and bool(actions)
        if not passes and not drops:
            out.problems.append(f"{policy.text} {cls.text}: actions not understood: "
                                f"{actions}")
            continue
        if not passes:
            continue
        if cls.text == "class class-default":  # everything else between the zones
            out.permits.append(Permit((ANY,), (ANY,), "any", (), zones))
            continue
        name = cls.text.split()[-1]
        if not cls.text.startswith("class type inspect ") or name not in classes:
            out.problems.append(f"{policy.text}: class not understood: {cls.text}")
            continue
        for match in classes[name].children:
            am = re.match(r"^match access-group name (\S+)$", match.text)
            if am is None or am.group(1) not in acls:
                out.problems.append(f"{classes[name].text}: not understood: {match.text}")
                continue
            _ios_acl(acls[am.group(1)], zones, out)


def _ios_addr(spec: str) -> str:
    if spec == "any":
        return ANY
    if spec.startswith("host "):
        return f"{spec[5:]}/32"
    addr, wildcard = spec.split()
    return str(ipaddress.ip_network(f"{addr}/{wildcard}", strict=False))


def _ios_acl(acl: HConfigChild, zones: tuple[str, str], out: ReadPolicy) -> None:
    for ace in acl.children:
        text = re.sub(r"^\d+ ", "", ace.text)
        if text.startswith("remark "):
            continue
        m = _IOS_ACE.match(text)
        try:
            if m is None:
                raise ValueError("not a permit pesdc renders")
            proto = "any" if m.group(1) == "ip" else m.group(1)
            ports = (int(m.group(4)),) if m.group(4) else ()
            if (proto in ("tcp", "udp")) != bool(ports):
                raise ValueError("ports do not fit the protocol")
            out.permits.append(Permit(nets([_ios_addr(m.group(2))]),
                                      nets([_ios_addr(m.group(3))]), proto, ports, zones))
        except ValueError as exc:
            out.problems.append(f"{acl.text}: not understood ({exc}): {ace.text}")


# One permit per source, destination and port: an ACE each.
READER = Reader("device.cfg", read_ios, Shape(zones=True, relay_src=False, atoms=True,
                                               masquerade=False))
