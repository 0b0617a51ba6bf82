"""The rule registry: every check on a loaded topology is a function keyed by rule id.

Rules read the Topology and yield Diagnostics that point at the offending object
(``at(obj, "field")``); the loader's locator turns those into lines afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pesdc.model.diagnostics import Diagnostic, Severity
from pesdc.model.schema import DataCenter, Strict
from pesdc.model.tree import Topology

RuleFn = Callable[[Topology], Iterable[Diagnostic]]
CenterFn = Callable[[Topology, DataCenter], Iterable[Diagnostic]]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    summary: str
    fn: RuleFn
    # A rule judged one center at a time (``center_rule``): its problems with a center
    # depend on that center and on the tree's facts (pesdc.rules.cache) only, so they
    # may come from the rule cache. None: the rule reads the whole tree, every run.
    per_center: CenterFn | None = None


RULES: dict[str, Rule] = {}

# Rules the loader reports before any rule function runs; listed so `pesdc rules`
# and the docs show the whole set in one place.
LOADER_RULES: dict[str, tuple[str, str]] = {
    "YAML001": ("yaml-syntax", "the file is not valid YAML"),
    "YAML002": ("duplicate-key", "a mapping repeats a key"),
    "YAML003": ("not-a-topology", "empty, binary, unreadable or not a mapping"),
    "YAML004": ("symlink-out-of-tree", "a symlink leads outside the tree; not followed"),
    "SCH001": ("unknown-key", "a key the schema does not know"),
    "SCH002": ("wrong-type", "a value of the wrong type or out of range"),
    "SCH003": ("missing-field", "a required key is missing"),
    "SCH005": ("free-text", "a string is not one printable line of bounded length"),
    "SCH006": ("identifier", "a name does not follow the identifier pattern"),
}


def rule(rule_id: str, name: str, summary: str) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        if rule_id in RULES:  # pragma: no cover - programming error
            raise ValueError(f"rule {rule_id} registered twice")
        RULES[rule_id] = Rule(rule_id, name, summary, fn)
        return fn

    return register


def center_rule(rule_id: str, name: str, summary: str) -> Callable[[CenterFn], CenterFn]:
    """A rule written for one center: ``fn(topo, dc)`` reads ``dc``, its own
    ``topo.invalid_items`` and, of the other centers, nothing but the facts
    ``pesdc.rules.cache.tree_facts`` digests (names, tiers, division codes, the names
    that failed the schema). As a rule of the tree it is run center by center, in the
    tree's order."""
    def register(fn: CenterFn) -> CenterFn:
        if rule_id in RULES:  # pragma: no cover - programming error
            raise ValueError(f"rule {rule_id} registered twice")

        def whole(topo: Topology) -> Iterator[Diagnostic]:
            for dc in topo.datacenters.values():
                yield from fn(topo, dc)

        RULES[rule_id] = Rule(rule_id, name, summary, whole, fn)
        return fn

    return register


def at(obj: Strict, *sub: Any) -> tuple[str, tuple[Any, ...]]:
    file, path = obj._src
    return file, (*path, *sub)


def problem(rule_id: str, where: tuple[str, tuple[Any, ...]], message: str, hint: str = "",
            severity: Severity = Severity.error, **args: Any) -> Diagnostic:
    """A rule's problem at ``where``. With ``args``, ``message`` and ``hint`` are catalog
    templates (marked ``N_``) filled with them, shown in the command line's language;
    without, a text as written (translated when the catalog has it as it is)."""
    file, path = where
    if args:
        return Diagnostic.marked(rule_id, message, file, path, hint, severity, **args)
    return Diagnostic(rule_id, message, file, path, hint, severity)


def all_rules() -> dict[str, Rule]:
    """Every registered rule (importing the rule modules registers them)."""
    from pesdc.rules import (  # noqa: F401
        addressing,
        crosscenter,
        mlps,
        references,
        source,
        structure,
    )

    return RULES


def run_rules(topo: Topology, only: Iterable[str] | None = None) -> Iterator[Diagnostic]:
    """Every rule (or those of ``only``) in rule-id order, each center by center in the
    tree's order: the same problems in the same order whether a center's come from the
    rule cache (pesdc.rules.cache) or from its rules."""
    from pesdc.rules import cache

    all_rules()
    wanted = set(only) if only is not None else None
    ids = [rid for rid in sorted(RULES) if wanted is None or rid in wanted]
    per_center = [rid for rid in ids if RULES[rid].per_center is not None]
    with cache.RuleCache(topo, per_center, complete=wanted is None) as store:
        for rid in ids:
            one = RULES[rid].per_center
            if one is None:
                yield from RULES[rid].fn(topo)
                continue
            for dc in topo.datacenters.values():
                found = store.get(dc.name, rid)
                if found is None:
                    found = list(one(topo, dc))
                    store.put(dc.name, rid, found)
                yield from found
        store.save()
