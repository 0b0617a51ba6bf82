"""nftables policy readback (Linux gear): the rendered nftables.conf, or the running
gear's `nft list ruleset` / `nft -j list ruleset`. Forward-chain accepts are the zone
policy, the input chain may only admit management from the management networks, the
nat table holds the gatekeeper relays."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pesdc.render.readback import (
    ANY,
    Permit,
    Reader,
    ReadPolicy,
    Relay,
    Shape,
    nets,
    range_nets,
)


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
            out += range_nets(lo, hi)
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
        return range_nets(*value["range"])
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


# No zones (chains by address), relays that match their sources and masquerade back.
READER = Reader("nftables.conf", read_nft_text, Shape(zones=False, relay_src=True,
                                                     atoms=False, masquerade=True))
