"""The lab's stand-in of a vendor firewall runs what the vendor configuration permits.

Vendor gear cannot run here, so a firewall's stand-in is an nftables namespace. Were
its ruleset rendered from the model, `lab probe` would test the model twice and never
the USG, SecPath or IOS configuration pesdc writes. So the vendor configuration is
rendered as for the real device, parsed back by its family's policy reader (the one
render and the audit use: ``Kind.reader``, pesdc/render/readback.py), and that reading
is written as the stand-in's ruleset: a permit missing from or added to a vendor
template is missing from or added to the stand-in, and the probe sees it.

The translation, reader by reader (nothing here knows a vendor):

- forwarding permits -> the forward chain (addresses, protocol, ports, new
  connections), in the rule forms the Linux reader reads, so the lab's running policy
  is judged as before (verify, the audit's lab evidence);
- zones: where the reader reads the zones' interfaces (``ReadPolicy.zones``), a permit
  through a zone the configuration binds no interface to matches nothing on the
  device, so it is not translated (a stand-in without the vendor's interfaces cannot
  match on them otherwise: it matches the addresses);
- permits to the device itself (the Local zone, ``local``) -> the input chain;
- relays (`nat server`) -> destination NAT from the sources the policy admits to the
  inside server, and the masquerade of its replies, as the Linux gatekeeper does;
- the device's own connections (``own``: NTP, syslog, HA heartbeat) are read and
  checked by the readback (to the management networks only) but not enforced: the
  stand-in's output chain accepts, as the model's stand-in does.

A configuration the reader does not fully understand, or that holds no policy, is an
error (LAB001): never a fall-back to the model's ruleset.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from pesdc.kinds import Kind, kind_of
from pesdc.model.diagnostics import Diagnostic
from pesdc.model.schema import Device, DeviceKind, Platform
from pesdc.model.tree import Topology
from pesdc.render import render_device_files
from pesdc.render.context import CenterFacts
from pesdc.render.readback import ANY, Permit, ReadPolicy, Relay, read_with

if TYPE_CHECKING:
    from pesdc.lab.plan import LabPlan

RULESET = "nftables.conf"
RULE = "LAB001"
FILTERING = (DeviceKind.firewall, DeviceKind.gatekeeper)


def vendor_devices(plan: LabPlan) -> list[Device]:
    """The center's filtering devices that are vendor gear (not Linux themselves)."""
    return [d for d in plan.dc.devices
            if d.kind in FILTERING and d.platform is not Platform.linux]


def translate_vendor_gear(plan: LabPlan, files: dict[str, dict[str, str]],
                          problems: list[Diagnostic]) -> None:
    """Replace each vendor firewall's stand-in ruleset in ``files`` (node -> file name
    -> text, the stand-ins as rendered) with the translation of its vendor
    configuration; what cannot be translated is a LAB001 problem (its file stays the
    model's, and the plan's ``gear()`` refuses to run with problems)."""
    devices = vendor_devices(plan)
    if not devices:
        return
    facts = vendor_facts(plan)
    for dev in devices:
        if dev.name not in files:
            continue
        text, why = vendor_ruleset(facts, dev, files[dev.name].get(RULESET, ""))
        if text is None:
            file, path = dev._src
            problems.append(Diagnostic(
                RULE, f"device {dev.name}: the lab's stand-in cannot run its vendor "
                f"configuration's policy: {why}", file, path,
                "fix the vendor template or its policy reader; the lab never falls back "
                "to the model's policy for a vendor firewall"))
        else:
            files[dev.name][RULESET] = text


def vendor_facts(plan: LabPlan) -> CenterFacts:
    """The center facts of the center as it is (its vendor gear), not the lab's view."""
    view = plan.view
    topo = Topology(files=view.files, datacenters={**view.datacenters, plan.dc.name: plan.dc},
                    dc_file=view.dc_file)
    return CenterFacts.of(topo, plan.dc)


def vendor_ruleset(facts: CenterFacts, dev: Device, standin: str
                   ) -> tuple[str | None, str]:
    """The stand-in ruleset of a vendor device, or None and why not. ``standin`` is the
    model's stand-in ruleset (only whether it runs VRRP is looked at)."""
    kind = kind_of(dev)
    if kind.reader is None:
        return None, f"its family {kind.platform} has no policy reader"
    problems: list[Diagnostic] = []
    files = render_device_files(facts, dev.name, problems)
    if problems:
        return None, "its vendor configuration does not render: " + "; ".join(
            p.message for p in problems[:3])
    return translate(kind, dev, files, "ip protocol vrrp" in standin)


def translate(kind: Kind, dev: Device, files: dict[str, str], vrrp: bool
              ) -> tuple[str | None, str]:
    """The stand-in ruleset of rendered vendor ``files``, read by the kind's reader; None
    and why when the reader does not fully understand them or finds no policy."""
    if kind.reader is None:
        return None, f"its family {kind.platform} has no policy reader"
    read = read_with(kind.reader, files)
    if read.problems:
        return None, f"{kind.reader.file} is not fully understood: " + "; ".join(
            read.problems[:3])
    if not read.found:
        return None, f"{kind.reader.file} holds no security policy"
    header = (f"# stand-in of {dev.name} ({kind.platform}, {dev.model}): its rules are "
              f"read from the rendered {kind.reader.file}, not from the model")
    return ruleset(read, header, vrrp), ""


def reachable(read: ReadPolicy, permits: list[Permit]) -> tuple[list[Permit], list[str]]:
    """The permits a packet can match on the device: through zones the configuration
    binds interfaces to (Local and `any` need none); the others, each with why."""
    if read.zones is None:
        return list(permits), []
    bound = {z for z, itfs in read.zones.items() if itfs} | {"local", "any"}
    keep, dropped = [], []
    for p in permits:
        unbound = [z for z in p.zones if z not in bound]
        if unbound:
            dropped.append(f"{p} (zone {', '.join(unbound)} has no interface)")
        else:
            keep.append(p)
    return keep, dropped


def _set(nets: tuple[str, ...]) -> str:
    return "{ " + ", ".join(nets) + " }"


def _match(p: Permit) -> str:
    """nftables matches of a permit, in the Linux stand-in's own forms."""
    parts = []
    if p.src != (ANY,):
        parts.append(f"ip saddr {_set(p.src)}")
    if p.dst != (ANY,):
        parts.append(f"ip daddr {_set(p.dst)}")
    if p.protocol == "icmp":
        parts.append("icmp type echo-request")
    elif p.protocol in ("tcp", "udp"):
        parts.append(f"{p.protocol} dport {_set(tuple(map(str, p.ports)))}"
                     if p.ports else f"meta l4proto {p.protocol}")
    return " ".join(parts)


def _comment(text: str) -> str:
    """An nftables comment: no quote, at most 128 bytes (the kernel's limit)."""
    text = text.replace('"', "'")
    while len(text.encode("utf-8")) > 120:
        text = text[:-1]
    return f'"{text}"'


def ruleset(read: ReadPolicy, header: str, vrrp: bool) -> str:
    """The nftables ruleset that permits what ``read`` permits, and nothing else."""
    forward, dropped = reachable(read, read.permits)
    local, dropped_local = reachable(read, read.local)
    out = ["#!/usr/sbin/nft -f", header,
           "# forward: the configuration's permits; input: its Local-zone permits;",
           "# output accepts (the device's own flows are checked by the readback only).",
           *(f"# not translated, it can match nothing: {d}" for d in dropped + dropped_local),
           "", "flush ruleset", "", "table inet pesdc {",
           "\tchain input {",
           "\t\ttype filter hook input priority filter; policy drop;",
           "\t\tct state established,related accept",
           "\t\tct state invalid drop",
           '\t\tiif "lo" accept']
    for p in local:
        out.append(f"\t\t{_match(p)} ct state new accept comment {_comment(str(p))}")
    if vrrp:
        out.append('\t\tip protocol vrrp ip daddr 224.0.0.18 accept comment '
                   '"lab: vrrp between the pair"')
    out += ['\t\tcounter comment "input default deny"', "\t}", "",
            "\tchain forward {",
            "\t\ttype filter hook forward priority filter; policy drop;",
            "\t\tct state established,related accept",
            "\t\tct state invalid drop"]
    for p in forward:
        out.append(f"\t\t{_match(p)} ct state new counter accept comment {_comment(str(p))}")
    out += ['\t\tcounter comment "forward default deny"', "\t}", "",
            "\tchain output {",
            "\t\ttype filter hook output priority filter; policy accept;",
            "\t}", "}"]
    out += _relays(read.relays, forward)
    return "\n".join(out) + "\n"


def _relay_sources(x: Relay, permits: list[Permit]) -> tuple[str, ...]:
    """Who may use a relay: the sources of the permits to its inside server and port
    (a vendor matches its policy after the destination translation)."""
    target = ipaddress.ip_address(x.target)
    src: list[str] = []
    for p in permits:
        if p.protocol != x.protocol or (p.ports and x.target_port not in p.ports):
            continue
        if any(target in ipaddress.ip_network(d) for d in p.dst):
            src += [s for s in p.src if s not in src]
    return tuple(src)


def _relays(relays: list[Relay], permits: list[Permit]) -> list[str]:
    rows: list[tuple[Relay, tuple[str, ...]]] = [(x, _relay_sources(x, permits))
                                                 for x in relays]
    rows = [(x, s) for x, s in rows if s]  # a relay no permit admits carries nothing
    if not rows:
        return []
    out = ["", "table ip pesdc_relay {", "\tchain prerouting {",
           "\t\ttype nat hook prerouting priority dstnat; policy accept;"]
    for x, src in rows:
        out.append(f"\t\tip saddr {_set(src)} ip daddr {x.listen} {x.protocol} dport "
                   f"{x.port} dnat to {x.target}:{x.target_port} comment {_comment(str(x))}")
    out += ["\t}", "", "\tchain postrouting {",
            "\t\ttype nat hook postrouting priority srcnat; policy accept;"]
    for x, _ in rows:
        out.append(f"\t\tip daddr {x.target} {x.protocol} dport {x.target_port} ct status "
                   f"dnat masquerade comment {_comment(str(x))}")
    out += ["\t}", "}"]
    return out

