"""Huawei USG policy readback: `security-policy` rules, `nat server` relays and the
zones' interfaces, through the hier_config tree of the configuration.

The firewall itself is the Local zone (usg.zrnko.cz sec_admin_secpolicy_0006_new): a
rule to `destination-zone local` admits traffic to the device (read as ``local``), one
from `source-zone local` lets it open connections (read as ``own``); neither forwards."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from hier_config import Platform as HierPlatform

from pesdc.render.readback import (
    Reader,
    ReadPolicy,
    Relay,
    RuleParts,
    Section,
    Shape,
    ZoneRule,
    mask_net,
    ordered_rules,
    sections,
    top_sections,
)

_USG_ADDR = re.compile(r"^(source|destination)-address (\S+) (?:mask )?(\S+)$")
_USG_SERVICE = re.compile(r"^service protocol (tcp|udp) destination-port (\d+)$")
_USG_ZONE = re.compile(r"^firewall zone (?:name )?(\S+)(?: id \d+)?$")
_USG_MEMBER = re.compile(r"^add interface (\S+)$")
LOCAL = "local"
_USG_NAT = re.compile(r"^nat server (\S+) protocol (tcp|udp) global (\S+) (\d+) "
                      r"inside (\S+) (\d+)( no-reverse)?$")
# Top-level policy forms pesdc never renders: present, they could permit what we cannot see.
_USG_FOREIGN = ("policy interzone", "firewall packet-filter", "nat-policy",
                "security-policy ", "firewall interzone")


_HEADS = ("security-policy", "nat server", "firewall zone", *_USG_FOREIGN)


def read_usg(text: str) -> ReadPolicy:
    return _read_sections(sections(text, _HEADS))


@lru_cache(maxsize=64)
def _read_sections(kept: str) -> ReadPolicy:
    # Cached by the policy sections alone, all that is read: the two firewalls of a pair
    # differ in their names and addresses, not in these (the result is read only).
    out = ReadPolicy(zones={})
    for top in top_sections(HierPlatform.HUAWEI_VRP, kept):
        if m := _USG_ZONE.match(top.text):
            _usg_zone(m.group(1), top, out)
        elif top.text == "security-policy":
            out.found = True
            _usg_rules(top, out)
        elif top.text.startswith("nat server"):
            _usg_relay(top.text, out)
        elif top.text.startswith(_USG_FOREIGN):
            out.problems.append(f"policy statement not understood: {top.text}")
    return out


def _usg_zone(name: str, zone: Section, out: ReadPolicy) -> None:
    assert out.zones is not None
    members = out.zones.setdefault(name, [])
    for c in zone.children:
        if m := _USG_MEMBER.match(c.text):
            members.append(m.group(1))
        elif not c.text.startswith("set priority "):
            out.problems.append(f"firewall zone {name}: not understood: {c.text}")


def _usg_relay(line: str, out: ReadPolicy) -> None:
    m = _USG_NAT.match(line)
    if m is None:
        out.problems.append(f"nat server not understood: {line}")
        return
    if not m.group(7):  # without no-reverse the inside server can also reach out
        out.problems.append(f"nat server {m.group(1)} also translates the reverse "
                            "direction (no-reverse missing)")
    out.relays.append(Relay(m.group(2), m.group(3), int(m.group(4)), m.group(5),
                            int(m.group(6))))


def _usg_rules(section: Section, out: ReadPolicy) -> None:
    def rules() -> Iterator[tuple[str, RuleParts | None]]:
        for rule in section.children:
            if not rule.text.startswith("rule name "):
                out.problems.append(f"security-policy: not understood: {rule.text}")
                continue
            name = rule.text.split(" ", 2)[2]
            yield name, _usg_rule(name, rule, out)
    ordered_rules("security-policy", "permit", "deny", rules(), out)
    _split_local(out)


def _split_local(out: ReadPolicy) -> None:
    """Permits to or from the Local zone are the device's own traffic, not forwarding."""
    forwarding = []
    for p in out.permits:
        src_local, dst_local = p.zones[0] == LOCAL, p.zones[1] == LOCAL
        if src_local and dst_local:
            out.problems.append(f"security-policy: a rule from local to local: {p}")
        elif dst_local:
            out.local.append(p)
        elif src_local:
            out.own.append(p)
        else:
            forwarding.append(p)
    out.permits = forwarding


def _usg_rule(name: str, rule: Section, out: ReadPolicy) -> RuleParts | None:
    read = ZoneRule()
    for c in rule.children:
        t = c.text
        if read.take(t):
            continue
        if m := _USG_ADDR.match(t):
            try:
                read.addrs[m.group(1)].append(mask_net(m.group(2), m.group(3)))
            except ValueError:
                read.bad.append(t)
        elif m := _USG_SERVICE.match(t):
            read.services.append((m.group(1), int(m.group(2))))
        elif t == "service icmp":
            read.services.append(("icmp", None))
        elif t in ("action permit", "action deny"):
            read.action = t.split()[1]
        else:
            read.bad.append(t)
    return read.parts("security-policy", name, out)


# Rules between zones, relays by `nat server`.
READER = Reader("device.cfg", read_usg, Shape(zones=True, relay_src=False, atoms=False,
                                              masquerade=False))
