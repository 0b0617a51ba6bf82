"""Read back what a rendered firewall or gatekeeper permits, from the rendered text.

The templates are trusted to turn the normalised policy (pesdc/policy.py) into device
syntax, but a template bug or a value that escaped its quoting would change what the
device lets through while every model-side check still passes. So the rendered text is
parsed again, as the device would read it, and the permits found there must equal the
policy rule for rule: an extra permit, a missing one, or anything in a policy section
this module does not understand is a render error (fail closed).

This module is the shared model (``Permit``, ``Relay``, ``ReadPolicy``, ``Shape``, the
expected side and the differences) and the dispatch; each platform's reader lives in
its folder (``pesdc/platforms/<name>/policy.py``) and is its kind's ``reader``: nftables
on Linux gear, the USG and Comware security policies, the IOS zone-based firewall.
The vendor readers share the helpers below (a hier_config tree of the policy sections,
the permits of one zone rule, a rule list read in order).
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, Protocol

from hier_config import HConfig, get_hconfig
from hier_config import Platform as HierPlatform

from pesdc.model import netparse
from pesdc.model.diagnostics import Diagnostic
from pesdc.model.schema import Device
from pesdc.platforms import derived, kinds
from pesdc.render import plaintree

ANY = "0.0.0.0/0"
FILTERING = ("firewall", "gatekeeper")


# -- what a policy permits, whoever wrote it down -------------------------------------

@dataclass(frozen=True, order=True)
class Permit:
    """New connections a rule lets through. Networks are collapsed, so two spellings
    of one address space (a /24 or two /25s, a range) compare equal."""

    src: tuple[str, ...]
    dst: tuple[str, ...]
    protocol: str  # tcp, udp, icmp, any
    ports: tuple[int, ...] = ()  # empty: every port (or a protocol without ports)
    zones: tuple[str, ...] = ()  # (source zone, destination zone) on vendor gear

    def __str__(self) -> str:
        where = f"{self.zones[0]} -> {self.zones[1]} " if self.zones else ""
        what = self.protocol + (f"/{','.join(map(str, self.ports))}" if self.ports else "")
        return f"{where}{_show(self.src)} -> {_show(self.dst)} {what}"


@dataclass(frozen=True, order=True)
class Relay:
    """A gatekeeper relay: connections to listen:port are forwarded to target."""

    protocol: str
    listen: str
    port: int
    target: str
    target_port: int
    src: tuple[str, ...] = ()  # the sources it admits (nftables matches them)

    def __str__(self) -> str:
        frm = f" from {_show(self.src)}" if self.src else ""
        return (f"relay {self.protocol} {self.listen}:{self.port} -> "
                f"{self.target}:{self.target_port}{frm}")


@dataclass
class ReadPolicy:
    permits: list[Permit] = field(default_factory=list)
    relays: list[Relay] = field(default_factory=list)
    # nftables: replies of relayed connections come back through the gatekeeper
    masquerades: list[tuple[str, str, int]] = field(default_factory=list)
    # nftables input chain, a vendor's Local-zone destination: what reaches the device
    # itself (management); it must come from the management networks
    local: list[Permit] = field(default_factory=list)
    # a vendor's Local-zone source: what the device itself opens (its NTP, syslog, HA
    # heartbeat); it must go to the management networks
    own: list[Permit] = field(default_factory=list)
    # zone -> the interfaces the configuration binds to it, for readers that read zones
    # (None: this reader does not; the lab's stand-in then matches addresses only)
    zones: dict[str, list[str]] | None = None
    problems: list[str] = field(default_factory=list)  # text not understood
    found: bool = False  # a policy section was present at all


@dataclass(frozen=True)
class Shape:
    """How a platform writes a policy down, so the expected side is built alike."""

    zones: bool  # rules match on source and destination zone
    relay_src: bool  # relays match their sources
    atoms: bool  # one entry per source, destination and port (IOS ACEs)
    masquerade: bool  # relays need a masquerade for the way back


def _show(nets: tuple[str, ...]) -> str:
    if nets == (ANY,):
        return "any"
    return "{" + ", ".join(nets) + "}" if len(nets) != 1 else nets[0]


def nets(values: Iterable[str]) -> tuple[str, ...]:
    """Collapsed, sorted networks (the device's view: host bits are ignored)."""
    return _collapsed(tuple(values))


@cache
def _collapsed(values: tuple[str, ...]) -> tuple[str, ...]:
    # Cached: a city's private network stands for all its sites, so the same long list
    # of networks recurs in many rules of every firewall of the center.
    v4_ints = [netparse.loose_ipv4(*v.partition("/")[::2]) if "/" in v else None
               for v in values]
    if None not in v4_ints:  # all plain IPv4 networks: integers, as ipaddress would
        return tuple(netparse.ipv4_text(n, p)
                     for n, p in netparse.collapse_ipv4(v4_ints))  # type: ignore[arg-type]
    return _collapsed_by_ipaddress(values)


def _collapsed_by_ipaddress(values: tuple[str, ...]) -> tuple[str, ...]:
    parsed = [ipaddress.ip_network(v, strict=False) for v in values]
    v4 = [n for n in parsed if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in parsed if isinstance(n, ipaddress.IPv6Network)]
    return tuple(str(n) for n in [*ipaddress.collapse_addresses(v4),
                                  *ipaddress.collapse_addresses(v6)])


def range_nets(lo: str, hi: str) -> list[str]:
    a, b = ipaddress.ip_address(lo), ipaddress.ip_address(hi)
    return [str(n) for n in ipaddress.summarize_address_range(a, b)]


def _within(inner: tuple[str, ...], outer: list[str]) -> bool:
    nets_out = [ipaddress.ip_network(n) for n in outer]
    return all(any(ipaddress.ip_network(n).subnet_of(o)  # type: ignore[arg-type]
                   for o in nets_out if o.version == ipaddress.ip_network(n).version)
               for n in inner)


# -- the expected side: what render/context.py handed the template --------------------

def expected(shape: Shape, rules: list[dict[str, Any]],
             relays: list[dict[str, Any]]) -> ReadPolicy:
    out = ReadPolicy(found=True)
    for r in rules:
        zones = (r["src_zone"], r["dst_zone"]) if shape.zones else ()
        src = [n["cidr"] for n in r["src_nets"]]
        dst = [n["cidr"] for n in r["dst_nets"]]
        proto = r["protocol"]
        ports = tuple(sorted(set(r["ports"]))) if proto in ("tcp", "udp") else ()
        if not shape.atoms:
            out.permits.append(Permit(nets(src), nets(dst), proto, ports, zones))
            continue
        for s in src:
            for d in dst:
                for port in ports or (None,):
                    out.permits.append(Permit(nets([s]), nets([d]), proto,
                                              (port,) if port is not None else (), zones))
    for x in relays:
        admitted = nets(x["src"]) if shape.relay_src else ()
        out.relays.append(Relay(x["protocol"], x["listen"], x["port"], x["target"],
                                x["target_port"], admitted))
        if shape.masquerade:
            out.masquerades.append((x["target"], x["protocol"], x["target_port"]))
    return out


@dataclass(frozen=True, order=True)
class Difference:
    """One way the rendered text differs from the policy, in words for both languages."""

    what: str  # extra, missing, unread (text not understood), local, own, none
    detail: str

    @property
    def en(self) -> str:
        return {"extra": f"extra {self.detail} (not in the policy)",
                "missing": f"missing {self.detail} (in the policy)",
                "local": f"the device itself accepts {self.detail} from outside the "
                         "management networks",
                "own": f"the device itself may open {self.detail} to outside the "
                       "management networks",
                }.get(self.what, self.detail)

    @property
    def zh(self) -> str:
        return {"extra": f"多出策略中没有的放行：{self.detail}",
                "missing": f"缺少策略中的放行：{self.detail}",
                "local": f"设备自身接受来自安全管理区以外的连接：{self.detail}",
                "own": f"设备自身可向安全管理区以外发起连接：{self.detail}",
                "none": f"配置中没有区域访问控制策略（{self.detail}）",
                }.get(self.what, f"无法解读的策略内容（按不一致处理）：{self.detail}")


def differences(want: ReadPolicy, got: ReadPolicy, mgmt_nets: list[str]) -> list[Difference]:
    """Every way the rendered text differs from the policy."""
    out = [Difference("unread", p) for p in got.problems]
    out += _counted("permit", want.permits, got.permits)
    out += _counted("", want.relays, got.relays)
    out += _counted("masquerade", [_masq(m) for m in want.masquerades],
                    [_masq(m) for m in got.masquerades])
    for p in got.local:
        if p.src == (ANY,) or not _within(p.src, mgmt_nets):
            out.append(Difference("local", str(p)))
    for p in got.own:
        if p.dst == (ANY,) or not _within(p.dst, mgmt_nets):
            out.append(Difference("own", str(p)))
    return out


def _masq(m: tuple[str, str, int]) -> str:
    return f"return path of relays to {m[0]} {m[1]}/{m[2]}"


def _counted(what: str, want: Iterable[Any], got: Iterable[Any]) -> list[Difference]:
    w, g = Counter(want), Counter(got)
    label = f"{what} " if what else ""
    return ([Difference("extra", f"{label}{x}") for x in sorted((g - w).elements())]
            + [Difference("missing", f"{label}{x}") for x in sorted((w - g).elements())])


# -- vendor security policies, through hier_config ------------------------------------

def config_tree(platform: HierPlatform, text: str, heads: tuple[str, ...]) -> HConfig:
    """hier_config's tree of the top-level sections that start with one of ``heads``
    (a section is its line and the indented lines under it). The rest of a configuration
    is never read here, and parsing a whole one costs hier_config a tenth of a second."""
    return _parsed(platform, sections(text, heads))


def sections(text: str, heads: tuple[str, ...]) -> str:
    """The top-level sections of ``text`` that start with one of ``heads``, as text."""
    keep: list[str] = []
    taking = False
    for line in text.splitlines():
        if line and not line[0].isspace():
            taking = line.startswith(heads)
        if taking:
            keep.append(line)
    return "\n".join(keep) + "\n"


class Section(Protocol):
    """A line of a parsed configuration and the lines under it: a hier_config child,
    or a node of the same tree built by plaintree."""

    @property
    def text(self) -> str: ...

    @property
    def children(self) -> Iterable[Section]: ...


def top_sections(platform: HierPlatform, kept: str) -> Iterable[Section]:
    """The top-level lines of hier_config's tree of text that :func:`sections` kept
    (shared: read only): for the plainest Huawei VRP text the same tree built by
    plaintree, else hier_config's."""
    if platform is HierPlatform.HUAWEI_VRP:
        tree = plaintree.plain_tree(kept)
        if tree is not None:
            return tree.children
    return _parsed(platform, kept).children


@lru_cache(maxsize=64)
def _parsed(platform: HierPlatform, text: str) -> HConfig:
    # Cached: the two firewalls of a pair carry the same policy sections (read only).
    return get_hconfig(platform, text)


@cache
def mask_net(addr: str, mask: str) -> str:
    """``str(ip_network(f"{addr}/{mask}", strict=False))`` (a prefix or a netmask)."""
    v4 = netparse.loose_ipv4(addr, mask)
    if v4 is not None:
        return netparse.ipv4_text(*v4)
    return str(ipaddress.ip_network(f"{addr}/{mask}", strict=False))


def zone_permits(szones: list[str], dzones: list[str], src: list[str], dst: list[str],
                  services: list[tuple[str, int | None]]) -> list[Permit]:
    """The permits of one vendor rule: every zone pair, one permit per protocol."""
    by_proto: dict[str, set[int]] = {}
    for proto, port in services or [("any", None)]:
        by_proto.setdefault(proto, set())
        if port is not None:
            by_proto[proto].add(port)
    s, d = nets(src or [ANY]), nets(dst or [ANY])
    return [Permit(s, d, proto, tuple(sorted(ports)), (sz, dz))
            for sz in szones or ["any"] for dz in dzones or ["any"]
            for proto, ports in sorted(by_proto.items())]


RuleParts = tuple[str, list[Permit], bool]  # action, permits, has conditions
_ZONE_LINE = re.compile(r"^(source|destination)-zone (\S+)$")


@dataclass
class ZoneRule:
    """One vendor zone rule as its lines are read: ``take`` the lines every platform
    writes alike, the platform's reader the rest, ``parts`` the result."""

    zones: dict[str, list[str]] = field(default_factory=lambda: {"source": [],
                                                                 "destination": []})
    addrs: dict[str, list[str]] = field(default_factory=lambda: {"source": [],
                                                                 "destination": []})
    services: list[tuple[str, int | None]] = field(default_factory=list)
    action: str | None = None
    bad: list[str] = field(default_factory=list)

    def take(self, line: str) -> bool:
        """A description or a zone line: read here (True), else the caller's."""
        if line.startswith("description "):
            return True
        if m := _ZONE_LINE.match(line):
            self.zones[m.group(1)].append(m.group(2))
            return True
        return False

    def parts(self, what: str, name: str, out: ReadPolicy) -> RuleParts | None:
        if self.bad or self.action is None:
            why = "; ".join(self.bad) if self.bad else "no action"
            out.problems.append(f"{what} rule {name} not understood: {why}")
            return None
        conditions = any(self.zones.values()) or any(self.addrs.values()) \
            or bool(self.services)
        return self.action, zone_permits(self.zones["source"], self.zones["destination"],
                                         self.addrs["source"], self.addrs["destination"],
                                         self.services), conditions


def ordered_rules(what: str, allow: str, deny: str,
                   rules: Iterable[tuple[str, RuleParts | None]], out: ReadPolicy) -> None:
    """A vendor policy read in order: permits up to the catch-all ``deny`` (nothing after
    it is ever reached); a deny with conditions is not something pesdc renders."""
    closed = None
    for name, parts in rules:
        if parts is None:
            continue
        action, permits, conditions = parts
        if closed is not None:
            out.problems.append(f"{what} rule {name} comes after the final {deny} "
                                f"{closed} and is never reached")
        elif action == allow:
            out.permits += permits
        elif conditions:
            out.problems.append(f"{what} rule {name}: a {deny} with conditions is "
                                "not part of a pesdc policy")
        else:
            closed = name


# -- one reader per kind that renders a zone policy -------------------------------------

@dataclass(frozen=True)
class Reader:
    file: str  # the rendered file that holds the policy
    read: Callable[[str], ReadPolicy]
    shape: Shape


# kind name -> its reader, derived from the platform folders (pesdc.platforms).
READERS: Mapping[str, Reader] = derived(
    lambda: {k.name: k.reader for k in kinds().values() if k.reader is not None})


def read_back(kind_name: str, files: dict[str, str]) -> ReadPolicy | None:
    """What the rendered files of a device permit; None: the platform renders no zone
    policy (switches, FRR routers, Linux hosts)."""
    reader = READERS.get(kind_name)
    return None if reader is None else read_with(reader, files)


def read_with(reader: Reader, files: dict[str, str]) -> ReadPolicy:
    """What a device's files permit, read by this reader (a copy: callers may edit it)."""
    return copy.deepcopy(peek_with(reader, files))


def peek_back(kind_name: str, files: dict[str, str]) -> ReadPolicy | None:
    """:func:`read_back` without the copy, for callers that only read the result: the
    reading is shared (cached by text), so it must never be edited."""
    reader = READERS.get(kind_name)
    return None if reader is None else peek_with(reader, files)


def peek_with(reader: Reader, files: dict[str, str]) -> ReadPolicy:
    """:func:`read_with` without the copy (shared: never edit it)."""
    text = files.get(reader.file)
    if text is None:
        return ReadPolicy()
    return _read_text(reader, text)


@lru_cache(maxsize=256)
def _read_text(reader: Reader, text: str) -> ReadPolicy:
    # Cached by text: the two firewalls of a pair carry the same policy, and the audit
    # reads again what render just read (hier_config takes ~0.1 s per large policy).
    try:
        return reader.read(text)
    except Exception as exc:  # a parser surprise is a failed readback, never a crash
        return ReadPolicy(problems=[f"{reader.file} could not be read back: "
                                    f"{type(exc).__name__}: {exc}"])


def policy_differences(kind_name: str, device_kind: str, files: dict[str, str],
                       ctx: dict[str, Any]) -> list[Difference] | None:
    """How the rendered files differ from the policy the template was given (``ctx``
    from render/context.py). None: nothing to compare on this platform."""
    got = peek_back(kind_name, files)  # only read here
    if got is None:
        return None
    if not got.found and not got.problems:
        if device_kind in FILTERING:
            return [Difference("none", f"{READERS[kind_name].file} holds no zone policy")]
        return None  # a switch or router that does not filter: nothing rendered
    want = expected(READERS[kind_name].shape, ctx["rules"], ctx["relays"])
    mgmt = [n["cidr"] for n in ctx["mgmt"]["ssh_sources"]]
    return differences(want, got, mgmt)


def readback_diagnostics(dev: Device, kind_name: str, files: dict[str, str],
                         ctx: dict[str, Any]) -> list[Diagnostic]:
    """RENDER004 for every way a rendered policy differs from the normalised one."""
    diffs = policy_differences(kind_name, dev.kind.value, files, ctx) or []
    file, path = dev._src
    return [Diagnostic("RENDER004", f"device {dev.name}: rendered policy differs from the "
                       f"normalised policy: {d.en}", file, path,
                       "a template or an unescaped value changed what the device permits; "
                       "fix the template or the value (the files were not written)")
            for d in diffs]
