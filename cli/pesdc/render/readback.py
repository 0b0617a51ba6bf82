"""Read back what a rendered firewall or gatekeeper permits, from the rendered text.

The templates are trusted to turn the normalised policy (pesdc/policy.py) into device
syntax, but a template bug or a value that escaped its quoting would change what the
device lets through while every model-side check still passes. So the rendered text is
parsed again, as the device would read it, and the permits found there must equal the
policy rule for rule: an extra permit, a missing one, or anything in a policy section
this module does not understand is a render error (fail closed).

- nftables (Linux gear): the rendered file, or ``nft list ruleset`` / ``nft -j list
  ruleset`` output of the running gear. Forward-chain accepts are the zone policy, the
  input chain may only admit management from the management networks, the nat table
  holds the gatekeeper relays;
- Huawei USG ``security-policy`` and ``nat server``; H3C Comware ``security-policy ip``
  over object groups and interface ``nat server``; Cisco IOS zone-based firewall
  (zone-pair -> inspect policy -> class-map -> extended ACL), each through the
  hier_config tree of the configuration.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import socket
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from hier_config import HConfig, get_hconfig
from hier_config import Platform as HierPlatform
from hier_config.child import HConfigChild

from pesdc.model.diagnostics import Diagnostic
from pesdc.model.schema import Device

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
    # nftables input chain: what reaches the device itself (management)
    local: list[Permit] = field(default_factory=list)
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
    parsed = [ipaddress.ip_network(v, strict=False) for v in values]
    v4 = [n for n in parsed if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in parsed if isinstance(n, ipaddress.IPv6Network)]
    return tuple(str(n) for n in [*ipaddress.collapse_addresses(v4),
                                  *ipaddress.collapse_addresses(v6)])


def _range_nets(lo: str, hi: str) -> list[str]:
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

    what: str  # extra, missing, unread (text not understood), local, none
    detail: str

    @property
    def en(self) -> str:
        return {"extra": f"extra {self.detail} (not in the policy)",
                "missing": f"missing {self.detail} (in the policy)",
                "local": f"the device itself accepts {self.detail} from outside the "
                         "management networks",
                }.get(self.what, self.detail)

    @property
    def zh(self) -> str:
        return {"extra": f"多出策略中没有的放行：{self.detail}",
                "missing": f"缺少策略中的放行：{self.detail}",
                "local": f"设备自身接受来自安全管理区以外的连接：{self.detail}",
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
    return out


def _masq(m: tuple[str, str, int]) -> str:
    return f"return path of relays to {m[0]} {m[1]}/{m[2]}"


def _counted(what: str, want: Iterable[Any], got: Iterable[Any]) -> list[Difference]:
    w, g = Counter(want), Counter(got)
    label = f"{what} " if what else ""
    return ([Difference("extra", f"{label}{x}") for x in sorted((g - w).elements())]
            + [Difference("missing", f"{label}{x}") for x in sorted((w - g).elements())])


# -- nftables ---------------------------------------------------------------------------

@dataclass
class NftRule:
    text: str
    matches: dict[str, Any] = field(default_factory=dict)
    verdict: str | None = None  # accept, drop, masquerade, dnat
    dnat: tuple[str, int] | None = None
    unknown: list[str] = field(default_factory=list)


@dataclass
class NftChain:
    name: str
    type: str | None = None
    hook: str | None = None
    policy: str | None = None
    rules: list[NftRule] = field(default_factory=list)


@dataclass
class NftTable:
    family: str
    name: str
    sets: dict[str, list[str]] = field(default_factory=dict)
    chains: dict[str, NftChain] = field(default_factory=dict)


_LEX = re.compile(r'(?P<str>"[^"\n]*")|(?P<comment>#[^\n]*)|(?P<cont>\\\n)|(?P<nl>\n)'
                  r'|(?P<punct>[{};,])|(?P<ws>[ \t\r]+)|(?P<word>[^\s{};,"#\\]+)|(?P<bad>.)')


def _tokens(text: str, problems: list[str]) -> list[str]:
    out: list[str] = []
    for m in _LEX.finditer(text):
        kind = m.lastgroup
        if kind in ("comment", "cont", "ws"):
            continue
        if kind == "bad":
            problems.append(f"nftables text not understood at {m.group()!r} "
                            f"(offset {m.start()})")
            continue
        out.append(m.group())
    return out


class _NftText:
    """A recursive reader of nftables text: top level -> tables -> sets and chains."""

    def __init__(self, text: str, problems: list[str]):
        self.toks = _tokens(text, problems)
        self.pos = 0
        self.problems = problems

    def peek(self) -> str | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def statement(self, literal_sets: bool) -> tuple[list[Any], bool]:
        """One statement up to a newline or ``;``. Returns (items, opens_block): with
        literal_sets, ``{ a, b }`` is read as one list item (an anonymous set)."""
        items: list[Any] = []
        while (tok := self.peek()) is not None:
            if tok in ("\n", ";"):
                self.pos += 1
                if items:
                    break
                continue
            if tok == "}":
                break
            if tok == "," and items and isinstance(items[-1], str):
                # a flag list outside braces: ct state established,related
                self.pos += 1
                nxt = self.peek()
                if nxt is not None and nxt not in ("\n", ";", "{", "}", ","):
                    items[-1] += "," + nxt
                    self.pos += 1
                continue
            if tok == "{":
                self.pos += 1
                if not literal_sets:
                    return items, True
                items.append(self.literal())
                continue
            self.pos += 1
            items.append(tok)
        return items, False

    def literal(self) -> list[str]:
        elems: list[str] = []
        while (tok := self.peek()) is not None:
            self.pos += 1
            if tok == "}":
                return elems
            if tok == "{":
                self.problems.append("nested braces in an nftables set not understood")
            elif tok not in (",", "\n"):
                elems.append(tok)
        self.problems.append("an nftables set is not closed")
        return elems

    def close(self) -> None:
        if self.peek() == "}":
            self.pos += 1
        else:
            self.problems.append("an nftables block is not closed")

    def ruleset(self) -> list[NftTable]:
        tables: list[NftTable] = []
        while self.peek() is not None:
            if self.peek() == "}":
                self.problems.append("unbalanced '}' in the nftables text")
                self.pos += 1
                continue
            items, block = self.statement(literal_sets=False)
            if block and len(items) == 3 and items[0] == "table":
                tables.append(self.table(NftTable(items[1], items[2])))
            elif items == ["flush", "ruleset"] and not block:
                continue
            elif items or block:
                self.problems.append(f"nftables statement not understood: {_join(items)}")
                if block:
                    self.skip_block()
        return tables

    def skip_block(self) -> None:
        depth = 1
        while depth and (tok := self.peek()) is not None:
            self.pos += 1
            depth += {"{": 1, "}": -1}.get(tok, 0)

    def table(self, table: NftTable) -> NftTable:
        while (tok := self.peek()) is not None and tok != "}":
            items, block = self.statement(literal_sets=False)
            if block and len(items) == 2 and items[0] == "set":
                table.sets[items[1]] = self.set_body(items[1])
            elif block and len(items) == 2 and items[0] == "chain":
                table.chains[items[1]] = self.chain_body(NftChain(items[1]))
            elif items or block:
                self.problems.append(f"in table {table.family} {table.name}: "
                                     f"not understood: {_join(items)}")
                if block:
                    self.skip_block()
        self.close()
        return table

    def set_body(self, name: str) -> list[str]:
        elems: list[str] = []
        while (tok := self.peek()) is not None and tok != "}":
            items, _ = self.statement(literal_sets=True)
            if items[:2] == ["elements", "="] and len(items) == 3 and isinstance(items[2],
                                                                                 list):
                elems += items[2]
            elif items not in (["type", "ipv4_addr"], ["flags", "interval"]) and items:
                self.problems.append(f"in set {name}: not understood: {_join(items)}")
        self.close()
        return elems

    def chain_body(self, chain: NftChain) -> NftChain:
        while (tok := self.peek()) is not None and tok != "}":
            items, _ = self.statement(literal_sets=True)
            if items[:1] == ["type"] and len(items) >= 4 and items[2] == "hook":
                chain.type, chain.hook = items[1], items[3]
            elif items[:1] == ["policy"] and len(items) == 2:
                chain.policy = items[1]
            elif items:
                chain.rules.append(_rule_from_text(items))
        self.close()
        return chain


def _join(items: list[Any]) -> str:
    return " ".join("{ " + ", ".join(i) + " }" if isinstance(i, list) else str(i)
                    for i in items)


def _text_addrs(value: Any) -> Any:
    """An address match value: a set reference, or networks."""
    if isinstance(value, str) and value.startswith("@"):
        return value
    out: list[str] = []
    for v in value if isinstance(value, list) else [value]:
        if "-" in v:
            lo, hi = v.split("-", 1)
            out += _range_nets(lo, hi)
        else:
            out.append(v)
    return nets(out)


def _port(value: str | int, proto: str) -> int:
    if isinstance(value, int) or value.isdigit():
        return int(value)
    return socket.getservbyname(value, proto)  # nft accepts service names


def _text_ports(value: Any, proto: str) -> tuple[int, ...]:
    out: set[int] = set()
    for v in value if isinstance(value, list) else [value]:
        if "-" in v:
            lo, hi = v.split("-", 1)
            out.update(range(_port(lo, proto), _port(hi, proto) + 1))
        else:
            out.add(_port(v, proto))
    return tuple(sorted(out))


def _flags(value: Any) -> frozenset[str]:
    parts = value if isinstance(value, list) else [value]
    return frozenset(x for p in parts for x in str(p).split(","))


def _rule_from_text(items: list[Any]) -> NftRule:
    rule = NftRule(_join(items))
    i = 0

    def take(n: int) -> list[Any]:
        nonlocal i
        got = items[i:i + n]
        i += n
        return got

    while i < len(items):
        head = items[i]
        pair = tuple(items[i:i + 2]) if all(isinstance(x, str) for x in items[i:i + 2]) \
            else ()
        try:
            if pair in (("ip", "saddr"), ("ip", "daddr")) and len(items) > i + 2:
                _, field_, value = take(3)
                _match(rule, field_, _text_addrs(value))
            elif pair in (("tcp", "dport"), ("udp", "dport")) and len(items) > i + 2:
                proto, _, value = take(3)
                _match(rule, "l4", (proto, _text_ports(value, proto)))
            elif pair == ("icmp", "type") and len(items) > i + 2:
                _match(rule, "icmp", take(3)[2])
            elif pair in (("ct", "state"), ("ct", "status")) and len(items) > i + 2:
                _, key, value = take(3)
                _match(rule, f"ct {key}", _flags(value))
            elif pair == ("ip", "protocol") and len(items) > i + 2:
                _match(rule, "ip protocol", take(3)[2])
            elif head == "iif" and len(items) > i + 1:
                _match(rule, "iif", str(take(2)[1]).strip('"'))
            elif head == "counter":
                take(5 if items[i + 1:i + 2] == ["packets"] else 1)
            elif head == "comment" and len(items) > i + 1:
                take(2)
            elif pair == ("dnat", "to") and len(items) > i + 2:
                target = str(take(3)[2])
                addr, _, port = target.rpartition(":")
                _verdict(rule, "dnat")
                rule.dnat = (addr, int(port))
            elif head in ("accept", "drop", "masquerade"):
                _verdict(rule, str(take(1)[0]))
            else:
                rule.unknown.append(_join(take(1)))
        except (ValueError, OSError) as exc:  # a bad address, port or service name
            rule.unknown.append(f"{_join(items[i - 3:i])} ({exc})")
    return rule


def _match(rule: NftRule, key: str, value: Any) -> None:
    if key in rule.matches:  # two matches on one field narrow it: not what we render
        rule.unknown.append(f"a second {key} match")
    rule.matches[key] = value


def _verdict(rule: NftRule, verdict: str) -> None:
    if rule.verdict is not None:
        rule.unknown.append(f"a second verdict {verdict}")
    rule.verdict = verdict


def read_nft_text(text: str) -> ReadPolicy:
    problems: list[str] = []
    tables = _NftText(text, problems).ruleset()
    out = ReadPolicy(problems=problems)
    _classify_tables(tables, out)
    return out


# nftables JSON (``nft -j list ruleset``): nft's own parse of a loaded ruleset.

def read_nft_json(doc: dict[str, Any]) -> ReadPolicy:
    tables: dict[tuple[str, str], NftTable] = {}
    out = ReadPolicy()
    for obj in doc.get("nftables", []):
        (kind, body), = obj.items()
        if kind == "metainfo":
            continue
        key = (body.get("family"), body.get("table", body.get("name")))
        if kind == "table":
            tables[key] = NftTable(body["family"], body["name"])
        elif kind == "set":
            tables[key].sets[body["name"]] = [
                n for e in body.get("elem", []) for n in _json_addrs(e)]
        elif kind == "chain":
            tables[key].chains[body["name"]] = NftChain(
                body["name"], body.get("type"), body.get("hook"), body.get("policy"))
        elif kind == "rule":
            tables[key].chains[body["chain"]].rules.append(_rule_from_json(body["expr"]))
        else:
            out.problems.append(f"nftables object not understood: {kind}")
    _classify_tables(list(tables.values()), out)
    return out


def _json_addrs(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and "prefix" in value:
        return [f"{value['prefix']['addr']}/{value['prefix']['len']}"]
    if isinstance(value, dict) and "range" in value:
        return _range_nets(*value["range"])
    if isinstance(value, dict) and "set" in value:
        return [n for v in value["set"] for n in _json_addrs(v)]
    if isinstance(value, dict) and "elem" in value:
        return _json_addrs(value["elem"]["val"])
    raise ValueError(f"address value not understood: {value!r}")


def _json_ports(value: Any) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,)
    if isinstance(value, dict) and "range" in value:
        lo, hi = value["range"]
        return tuple(range(lo, hi + 1))
    if isinstance(value, dict) and "set" in value:
        return tuple(sorted({p for v in value["set"] for p in _json_ports(v)}))
    raise ValueError(f"port value not understood: {value!r}")


def _json_match(rule: NftRule, m: dict[str, Any]) -> None:
    left, right, op = m["left"], m["right"], m["op"]
    if op not in ("==", "in"):
        raise ValueError(f"operator {op}")
    pay = left.get("payload", {})
    field_ = (pay.get("protocol"), pay.get("field"))
    if field_ in (("ip", "saddr"), ("ip", "daddr")):
        value = right if isinstance(right, str) and right.startswith("@") \
            else nets(_json_addrs(right))
        _match(rule, field_[1], value)
    elif field_ in (("tcp", "dport"), ("udp", "dport")):
        _match(rule, "l4", (field_[0], _json_ports(right)))
    elif field_ == ("icmp", "type"):
        _match(rule, "icmp", right)
    elif field_ == ("ip", "protocol"):
        _match(rule, "ip protocol", right)
    elif "ct" in left and left["ct"].get("key") in ("state", "status"):
        _match(rule, f"ct {left['ct']['key']}", _flags(right))
    elif left.get("meta", {}).get("key") in ("iif", "iifname"):
        _match(rule, "iif", right)
    else:
        raise ValueError(f"match on {left!r}")


def _rule_from_json(exprs: list[dict[str, Any]]) -> NftRule:
    rule = NftRule(repr(exprs))
    for e in exprs:
        (kind, body), = e.items()
        try:
            if kind == "match":
                _json_match(rule, body)
            elif kind == "counter":
                continue
            elif kind in ("accept", "drop", "masquerade"):
                _verdict(rule, kind)
            elif kind == "dnat":
                _verdict(rule, "dnat")
                rule.dnat = (body["addr"], int(body["port"]))
            else:
                raise ValueError(kind)
        except (ValueError, KeyError, TypeError) as exc:
            rule.unknown.append(f"{kind} ({exc})")
    return rule


# The meaning of each chain, by its hook: the same for the text and the JSON reader.

def _classify_tables(tables: list[NftTable], out: ReadPolicy) -> None:
    for table in tables:
        for chain in table.chains.values():
            where = f"table {table.family} {table.name} chain {chain.name}"
            reader = _CHAINS.get((chain.type, chain.hook))
            if reader is None:
                out.problems.append(f"{where}: a chain of type {chain.type} hook "
                                    f"{chain.hook} is not part of a pesdc policy")
                continue
            out.found = out.found or chain.hook == "forward"
            for rule in chain.rules:
                rule = _resolve_sets(rule, table, out, where)
                if rule.unknown:
                    out.problems.append(f"{where}: rule not understood ("
                                        f"{'; '.join(rule.unknown)}): {rule.text}")
                    continue
                reader(chain, rule, out, where)
            if chain.hook == "forward" and chain.policy != "drop":
                out.permits.append(Permit((ANY,), (ANY,), "any"))  # accept by default
            if chain.hook == "input" and chain.policy != "drop":
                out.local.append(Permit((ANY,), (ANY,), "any"))


def _resolve_sets(rule: NftRule, table: NftTable, out: ReadPolicy, where: str) -> NftRule:
    for key in ("saddr", "daddr"):
        value = rule.matches.get(key)
        if isinstance(value, str):
            name = value[1:]
            if name not in table.sets:
                rule.unknown.append(f"set {value} not defined")
                continue
            try:
                rule.matches[key] = nets(table.sets[name])
            except ValueError as exc:
                rule.unknown.append(f"set {value}: {exc}")
    return rule


def _as_permit(rule: NftRule) -> Permit | None:
    """The permit of an accept rule whose matches are the ones pesdc renders."""
    m = dict(rule.matches)
    if m.pop("ct state", frozenset({"new"})) != frozenset({"new"}):
        return None
    src, dst = m.pop("saddr", (ANY,)), m.pop("daddr", (ANY,))
    proto, ports = "any", ()
    if "l4" in m:
        proto, ports = m.pop("l4")
    elif m.get("icmp") == "echo-request":
        m.pop("icmp")
        proto = "icmp"
    if m:
        return None
    return Permit(src, dst, proto, ports)


def _forward(chain: NftChain, rule: NftRule, out: ReadPolicy, where: str) -> None:
    state = rule.matches.get("ct state")
    if rule.verdict == "accept" and len(rule.matches) == 1 and state == {"established",
                                                                         "related"}:
        return  # replies of connections a permit let through
    if rule.verdict == "drop" and len(rule.matches) == 1 and state == {"invalid"}:
        return
    if rule.verdict is None and not rule.matches:
        return  # a counter (the default deny's tally)
    permit = _as_permit(rule) if rule.verdict == "accept" else None
    if permit is None:
        out.problems.append(f"{where}: rule not understood: {rule.text}")
    else:
        out.permits.append(permit)


def _input(chain: NftChain, rule: NftRule, out: ReadPolicy, where: str) -> None:
    m = rule.matches
    if rule.verdict == "accept" and m in (
            {"iif": "lo"}, {"ct state": frozenset({"established", "related"})},
            # VRRP adverts between the pair go to their link-local multicast group
            {"ip protocol": "vrrp", "daddr": ("224.0.0.18/32",)}):
        return
    if (rule.verdict == "drop" and m == {"ct state": frozenset({"invalid"})}) or (
            rule.verdict is None and not m):
        return
    permit = _as_permit(rule) if rule.verdict == "accept" else None
    if permit is None:
        out.problems.append(f"{where}: rule not understood: {rule.text}")
    else:
        out.local.append(permit)


def _output(chain: NftChain, rule: NftRule, out: ReadPolicy, where: str) -> None:
    out.problems.append(f"{where}: rule not understood: {rule.text}")


def _prerouting(chain: NftChain, rule: NftRule, out: ReadPolicy, where: str) -> None:
    m = rule.matches
    if rule.verdict == "dnat" and rule.dnat and set(m) == {"saddr", "daddr", "l4"} \
            and len(m["daddr"]) == 1 and m["daddr"][0].endswith("/32") \
            and len(m["l4"][1]) == 1:
        listen = m["daddr"][0].split("/")[0]
        proto, (port,) = m["l4"]
        out.relays.append(Relay(proto, listen, port, rule.dnat[0], rule.dnat[1], m["saddr"]))
    else:
        out.problems.append(f"{where}: rule not understood: {rule.text}")


def _postrouting(chain: NftChain, rule: NftRule, out: ReadPolicy, where: str) -> None:
    m = rule.matches
    if rule.verdict == "masquerade" and set(m) == {"daddr", "l4", "ct status"} \
            and m["ct status"] == {"dnat"} and len(m["daddr"]) == 1 \
            and m["daddr"][0].endswith("/32") and len(m["l4"][1]) == 1:
        out.masquerades.append((m["daddr"][0].split("/")[0], m["l4"][0], m["l4"][1][0]))
    else:
        out.problems.append(f"{where}: rule not understood: {rule.text}")


_ChainReader = Callable[[NftChain, NftRule, ReadPolicy, str], None]
_CHAINS: dict[tuple[str | None, str | None], _ChainReader] = {
    ("filter", "forward"): _forward,
    ("filter", "input"): _input,
    ("filter", "output"): _output,
    ("nat", "prerouting"): _prerouting,
    ("nat", "postrouting"): _postrouting,
}


# -- vendor security policies, through hier_config ------------------------------------

def _tree(platform: HierPlatform, text: str, heads: tuple[str, ...]) -> HConfig:
    """hier_config's tree of the top-level sections that start with one of ``heads``
    (a section is its line and the indented lines under it). The rest of a configuration
    is never read here, and parsing a whole one costs hier_config a tenth of a second."""
    keep: list[str] = []
    taking = False
    for line in text.splitlines():
        if line and not line[0].isspace():
            taking = line.startswith(heads)
        if taking:
            keep.append(line)
    return _parsed(platform, "\n".join(keep) + "\n")


@lru_cache(maxsize=64)
def _parsed(platform: HierPlatform, text: str) -> HConfig:
    # Cached: the two firewalls of a pair carry the same policy sections (read only).
    return get_hconfig(platform, text)


@cache
def _mask_net(addr: str, mask: str) -> str:
    return str(ipaddress.ip_network(f"{addr}/{mask}", strict=False))


def _zone_permits(szones: list[str], dzones: list[str], src: list[str], dst: list[str],
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


_USG_ADDR = re.compile(r"^(source|destination)-address (\S+) (?:mask )?(\S+)$")
_USG_SERVICE = re.compile(r"^service protocol (tcp|udp) destination-port (\d+)$")
_USG_NAT = re.compile(r"^nat server (\S+) protocol (tcp|udp) global (\S+) (\d+) "
                      r"inside (\S+) (\d+)( no-reverse)?$")
# Top-level policy forms pesdc never renders: present, they could permit what we cannot see.
_USG_FOREIGN = ("policy interzone", "firewall packet-filter", "nat-policy",
                "security-policy ", "firewall interzone")


def read_usg(text: str) -> ReadPolicy:
    out = ReadPolicy()
    heads = ("security-policy", "nat server", *_USG_FOREIGN)
    for top in _tree(HierPlatform.HUAWEI_VRP, text, heads).children:
        if top.text == "security-policy":
            out.found = True
            _usg_rules(top, out)
        elif top.text.startswith("nat server"):
            _usg_relay(top.text, out)
        elif top.text.startswith(_USG_FOREIGN):
            out.problems.append(f"policy statement not understood: {top.text}")
    return out


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


RuleParts = tuple[str, list[Permit], bool]  # action, permits, has conditions


def _ordered_rules(what: str, allow: str, deny: str,
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


def _usg_rules(section: HConfigChild, out: ReadPolicy) -> None:
    def rules() -> Iterator[tuple[str, RuleParts | None]]:
        for rule in section.children:
            if not rule.text.startswith("rule name "):
                out.problems.append(f"security-policy: not understood: {rule.text}")
                continue
            name = rule.text.split(" ", 2)[2]
            yield name, _usg_rule(name, rule, out)
    _ordered_rules("security-policy", "permit", "deny", rules(), out)


def _usg_rule(name: str, rule: HConfigChild, out: ReadPolicy
              ) -> RuleParts | None:
    zones: dict[str, list[str]] = {"source": [], "destination": []}
    addrs: dict[str, list[str]] = {"source": [], "destination": []}
    services: list[tuple[str, int | None]] = []
    action = None
    bad = []
    for c in rule.children:
        t = c.text
        if t.startswith("description "):
            continue
        if m := re.match(r"^(source|destination)-zone (\S+)$", t):
            zones[m.group(1)].append(m.group(2))
        elif m := _USG_ADDR.match(t):
            try:
                addrs[m.group(1)].append(_mask_net(m.group(2), m.group(3)))
            except ValueError:
                bad.append(t)
        elif m := _USG_SERVICE.match(t):
            services.append((m.group(1), int(m.group(2))))
        elif t == "service icmp":
            services.append(("icmp", None))
        elif t in ("action permit", "action deny"):
            action = t.split()[1]
        else:
            bad.append(t)
    if bad or action is None:
        why = "; ".join(bad) if bad else "no action"
        out.problems.append(f"security-policy rule {name} not understood: {why}")
        return None
    conditions = any(zones.values()) or any(addrs.values()) or bool(services)
    return action, _zone_permits(zones["source"], zones["destination"], addrs["source"],
                                 addrs["destination"], services), conditions


_CW_ADDR = re.compile(r"^\d+ network (?:host address (\S+)|subnet (\S+) (\S+))$")
_CW_SERVICE = re.compile(r"^\d+ service (?:(icmp)|(tcp|udp) destination eq (\d+))$")
_CW_NAT = re.compile(r"^nat server protocol (tcp|udp) global (\S+) (\d+) "
                     r"inside (\S+) (\d+)$")
_CW_FOREIGN = ("object-policy", "security-policy ", "packet-filter", "aspf")


def read_comware(text: str) -> ReadPolicy:
    from pesdc.render.output import comware_normalise

    out = ReadPolicy()
    heads = ("object-group", "security-policy", "interface ", "zone-pair", *_CW_FOREIGN)
    tree = _tree(HierPlatform.HP_COMWARE5, comware_normalise(text), heads)
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
            found.append(f"{m.group(1)}/32" if m.group(1) else _mask_net(m.group(2),
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
    _ordered_rules("security-policy ip", "pass", "drop", rules(), out)


def _cw_rule(name: str, rule: HConfigChild, addresses: dict[str, list[str]],
             services: dict[str, list[tuple[str, int | None]]], out: ReadPolicy
             ) -> RuleParts | None:
    zones: dict[str, list[str]] = {"source": [], "destination": []}
    addrs: dict[str, list[str]] = {"source": [], "destination": []}
    svc: list[tuple[str, int | None]] = []
    action, bad = None, []
    for c in rule.children:
        t = c.text
        if t.startswith("description "):
            continue
        if m := re.match(r"^(source|destination)-zone (\S+)$", t):
            zones[m.group(1)].append(m.group(2))
        elif (m := re.match(r"^(source|destination)-ip (\S+)$", t)) and \
                m.group(2) in addresses:
            addrs[m.group(1)] += addresses[m.group(2)]
        elif (m := re.match(r"^service (\S+)$", t)) and m.group(1) in services:
            svc += services[m.group(1)]
        elif t in ("action pass", "action drop"):
            action = t.split()[1]
        else:
            bad.append(t)
    if bad or action is None:
        why = "; ".join(bad) if bad else "no action"
        out.problems.append(f"security-policy ip rule {name} not understood: {why}")
        return None
    conditions = any(zones.values()) or any(addrs.values()) or bool(svc)
    return action, _zone_permits(zones["source"], zones["destination"], addrs["source"],
                                 addrs["destination"], svc), conditions


_IOS_ACE = re.compile(r"^(?:\d+ )?permit (tcp|udp|icmp|ip) (any|host \S+|\S+ \S+) "
                      r"(any|host \S+|\S+ \S+)(?: eq (\d+))?$")


def read_ios(text: str) -> ReadPolicy:
    """Zone-based firewall: zone-pair -> inspect policy -> class -> ACL entries."""
    out = ReadPolicy()
    tree = _tree(HierPlatform.CISCO_IOS, text,
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
        out.found = True
        zones = (m.group(1), m.group(2))
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


# -- one entry per platform that renders a zone policy ---------------------------------

@dataclass(frozen=True)
class Reader:
    file: str  # the rendered file that holds the policy
    read: Callable[[str], ReadPolicy]
    shape: Shape


READERS: dict[str, Reader] = {
    "linux_nftables": Reader("nftables.conf", read_nft_text, Shape(False, True, False, True)),
    "huawei_usg": Reader("device.cfg", read_usg, Shape(True, False, False, False)),
    "h3c_comware": Reader("device.cfg", read_comware, Shape(True, False, False, False)),
    "cisco_ios": Reader("device.cfg", read_ios, Shape(True, False, True, False)),
}


def read_back(kind_name: str, files: dict[str, str]) -> ReadPolicy | None:
    """What the rendered files of a device permit; None: the platform renders no zone
    policy (switches, FRR routers, Linux hosts)."""
    reader = READERS.get(kind_name)
    if reader is None:
        return None
    text = files.get(reader.file)
    if text is None:
        return ReadPolicy()
    return copy.deepcopy(_read_text(kind_name, text))


@lru_cache(maxsize=256)
def _read_text(kind_name: str, text: str) -> ReadPolicy:
    # Cached by text: the two firewalls of a pair carry the same policy, and the audit
    # reads again what render just read (hier_config takes ~0.1 s per large policy).
    reader = READERS[kind_name]
    try:
        return reader.read(text)
    except Exception as exc:  # a parser surprise is a failed readback, never a crash
        return ReadPolicy(problems=[f"{reader.file} could not be read back: "
                                    f"{type(exc).__name__}: {exc}"])


def policy_differences(kind_name: str, device_kind: str, files: dict[str, str],
                       ctx: dict[str, Any]) -> list[Difference] | None:
    """How the rendered files differ from the policy the template was given (``ctx``
    from render/context.py). None: nothing to compare on this platform."""
    got = read_back(kind_name, files)
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
