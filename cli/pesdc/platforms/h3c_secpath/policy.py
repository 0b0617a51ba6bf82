"""H3C SecPath policy readback: `security-policy ip` over object groups and the
interfaces' `nat server` relays, through the hier_config tree of the configuration."""

from __future__ import annotations

import re
from collections.abc import Iterator

from hier_config import Platform as HierPlatform
from hier_config.child import HConfigChild

from pesdc.platforms.h3c_comware.syntax import comware_normalise
from pesdc.render.readback import (
    Reader,
    ReadPolicy,
    Relay,
    RuleParts,
    Shape,
    ZoneRule,
    config_tree,
    mask_net,
    ordered_rules,
)

_CW_ADDR = re.compile(r"^\d+ network (?:host address (\S+)|subnet (\S+) (\S+))$")
_CW_SERVICE = re.compile(r"^\d+ service (?:(icmp)|(tcp|udp) destination eq (\d+))$")
_CW_NAT = re.compile(r"^nat server protocol (tcp|udp) global (\S+) (\d+) "
                     r"inside (\S+) (\d+)$")
LOCAL = "Local"  # the zone of the device itself
_CW_FOREIGN = ("object-policy", "security-policy ", "packet-filter", "aspf")


def read_comware(text: str) -> ReadPolicy:
    out = ReadPolicy()
    heads = ("object-group", "security-policy", "interface ", "zone-pair", *_CW_FOREIGN)
    tree = config_tree(HierPlatform.HP_COMWARE5, comware_normalise(text), heads)
    addresses: dict[str, list[str]] = {}
    services: dict[str, list[tuple[str, int | None]]] = {}
    policy = None
    for top in tree.children:
        t = top.text
        if t.startswith("object-group ip address "):
            addresses[t.split(" ", 3)[3]] = _cw_addresses(top, out)
        elif t.startswith("object-group service "):
            services[t.split(" ", 2)[2]] = _cw_services(top, out)
        elif t == "security-policy ip":
            policy = top
        elif t.startswith("interface "):
            for c in top.children:
                if c.text.startswith("nat server"):
                    _cw_relay(c.text, out)
        elif t.startswith("zone-pair security") and top.children:
            out.problems.append(f"{t}: {top.children[0].text} not understood")
        elif t.startswith(_CW_FOREIGN) and t != "security-policy ip":
            out.problems.append(f"policy statement not understood: {t}")
    if policy is not None:
        out.found = True
        _cw_rules(policy, addresses, services, out)
    return out


def _cw_addresses(group: HConfigChild, out: ReadPolicy) -> list[str]:
    found = []
    for c in group.children:
        m = _CW_ADDR.match(c.text)
        if m is None:
            out.problems.append(f"{group.text}: not understood: {c.text}")
            continue
        try:
            found.append(f"{m.group(1)}/32" if m.group(1) else mask_net(m.group(2),
                                                                         m.group(3)))
        except ValueError:
            out.problems.append(f"{group.text}: not an address: {c.text}")
    return found


def _cw_services(group: HConfigChild, out: ReadPolicy) -> list[tuple[str, int | None]]:
    found: list[tuple[str, int | None]] = []
    for c in group.children:
        m = _CW_SERVICE.match(c.text)
        if m is None:
            out.problems.append(f"{group.text}: not understood: {c.text}")
        elif m.group(1):
            found.append(("icmp", None))
        else:
            found.append((m.group(2), int(m.group(3))))
    return found


def _cw_relay(line: str, out: ReadPolicy) -> None:
    m = _CW_NAT.match(line)
    if m is None:
        out.problems.append(f"nat server not understood: {line}")
        return
    out.relays.append(Relay(m.group(1), m.group(2), int(m.group(3)), m.group(4),
                            int(m.group(5))))


def _cw_rules(section: HConfigChild, addresses: dict[str, list[str]],
              services: dict[str, list[tuple[str, int | None]]], out: ReadPolicy) -> None:
    def rules() -> Iterator[tuple[str, RuleParts | None]]:
        for rule in section.children:
            m = re.match(r"^rule \d+ name (\S+)$", rule.text)
            if m is None:
                out.problems.append(f"security-policy ip: not understood: {rule.text}")
                continue
            yield m.group(1), _cw_rule(m.group(1), rule, addresses, services, out)
    ordered_rules("security-policy ip", "pass", "drop", rules(), out)


def _cw_rule(name: str, rule: HConfigChild, addresses: dict[str, list[str]],
             services: dict[str, list[tuple[str, int | None]]], out: ReadPolicy
             ) -> RuleParts | None:
    read = ZoneRule()
    for c in rule.children:
        t = c.text
        if read.take(t):
            continue
        if (m := re.match(r"^(source|destination)-ip (\S+)$", t)) and \
                m.group(2) in addresses:
            read.addrs[m.group(1)] += addresses[m.group(2)]
        elif (m := re.match(r"^service (\S+)$", t)) and m.group(1) in services:
            read.services += services[m.group(1)]
        elif t in ("action pass", "action drop"):
            read.action = t.split()[1]
        else:
            read.bad.append(t)
    if read.action == "pass" and LOCAL in read.zones["source"] + read.zones["destination"]:
        # The device's own traffic (its management, syslog and NTP): not a flow between
        # zones of the model's policy, so not one of the permits read back.
        return None
    return read.parts("security-policy ip", name, out)


# Rules between zones, relays by `nat server`.
READER = Reader("device.cfg", read_comware, Shape(zones=True, relay_src=False, atoms=False,
                                              masquerade=False))
