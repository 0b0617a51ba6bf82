"""A cache of the problems the per-center rules found in a center, so an unchanged
center of an edited tree is not judged again.

The rules written one center at a time (``registry.center_rule``) read that center, its
own schema failures and, of the rest of the tree, only a few facts: which centers exist
(and which failed the schema), their tiers and division codes. An entry holds, per rule,
the problems found in one center, as plain data, under
``$XDG_CACHE_HOME/pesdc/rules/``, named by the sha256 of everything they depend on:

- the center's validated-model key (pesdc.model.modelcache: its file's bytes and name,
  the defaults files applied, pesdc's model and rules code, pesdc/pydantic/Python);
- what the tree's loading added to the center afterwards: the mirror uplinks of its
  ``downlink:`` interfaces (taken from the lower centers' files) and the addresses and
  uplinks those interfaces took (``derived``);
- the tree's facts above (``tree_facts``), its own schema failures, the source of
  pesdc.norms and pesdc.i18n, which the rules call, and this cache's format.

A center without a model key (a file with problems, one defined twice) is judged every
run; so is every rule that reads more of the tree (ADDR001, NET005, XC001-XC003, and
PLAT001, whose platform folders may change with ``PESDC_PLATFORM_PATH``).

A problem is stored as its parts (rule, file, YAML path, severity, English message and
hint, catalog templates and values); a value that is not a string, number or phrase is
stored as the text it shows, and only when every template that shows it (in every
language of the catalog) shows it as ``{name}``, as ``format`` does; otherwise the
center is not stored. The language a run shows its problems in is therefore no part of
the key: the templates are translated when shown, as the rules' own problems are.
Entries are read with the parse cache's plain-data unpickler; one that does not load is
a miss. ``validate --no-cache`` (``PESDC_NO_CACHE=1``) reads and writes none.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pesdc
from pesdc.model import modelcache, parsecache
from pesdc.model.diagnostics import Diagnostic, Phrase, Severity
from pesdc.model.schema import DataCenter
from pesdc.model.tree import Topology

#: Bump when an entry changes shape or a per-center rule starts reading more of the tree.
FORMAT = 1
_PLAIN = (str, int, float, bool, type(None))


def folder() -> Path:
    return parsecache.folder().parent / "rules"


@cache
def code_digest() -> str:
    """The model and rules code (modelcache.code_digest), the modules outside them
    that the per-center rules call (pesdc.norms; pesdc.i18n's marker), and the compiled
    catalogs, whose templates decide which values may be stored as text (``_freeze``)."""
    from pesdc.i18n import DOMAIN, LOCALE_DIR, LOCALES

    h = hashlib.sha256(modelcache.code_digest().encode())
    root = Path(pesdc.__file__).resolve().parent
    for name in ("norms.py", "i18n.py"):
        h.update(f"\n{name}\n".encode())
        h.update((root / name).read_bytes())
    for lang, locale in sorted(LOCALES.items()):
        mo = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
        h.update(f"\ncatalog {lang}\n".encode())
        h.update(mo.read_bytes() if mo.is_file() else b"(none)")
    return h.hexdigest()


def tree_facts(topo: Topology) -> str:
    """The digest of what a per-center rule may read of the other centers: every
    center's name, tier and division code, and the names that failed the schema."""
    facts = sorted((name, dc.tier.value, dc.division_code)
                   for name, dc in topo.datacenters.items())
    h = hashlib.sha256(repr(facts).encode())
    h.update(repr(sorted(topo.invalid_datacenters)).encode())
    return h.hexdigest()


def derived(dc: DataCenter) -> str:
    """The digest of what loading the tree added to ``dc`` after its own validation
    (pesdc.model.downlinks): its mirror uplinks, whole, and the uplink and address of
    each of its downlink interfaces."""
    mirrors = [(u.model_dump(), u._src, u.downlink_of) for u in dc.uplinks if u.downlink_of]
    ends = [(d.name, i, itf.downlink, itf.uplink, itf.address)
            for d in dc.devices for i, itf in enumerate(d.interfaces) if itf.downlink]
    return hashlib.sha256(repr((mirrors, ends)).encode()).hexdigest()


def entry_key(topo: Topology, dc: DataCenter, facts: str) -> str | None:
    model_key = topo.cache_keys.get(dc.name)
    if model_key is None:
        return None
    invalid = sorted((s, sorted(n)) for s, n in topo.invalid_items.get(dc.name, {}).items())
    h = hashlib.sha256(f"pesdc rules format {FORMAT} code {code_digest()}\n".encode())
    h.update(f"model {model_key}\nfacts {facts}\nderived {derived(dc)}\n".encode())
    h.update(f"invalid {invalid!r}\n".encode())
    return h.hexdigest()


class Uncacheable(Exception):
    """A problem's value that cannot be stored as the text it shows."""


def _fields(template: str) -> list[tuple[str, str, str | None]]:
    """(field name, format spec, conversion) of each replacement field of a template."""
    try:
        return [(f, spec or "", conv) for _, f, spec, conv in string.Formatter().parse(template)
                if f is not None]
    except ValueError:
        return [("", "", "?")]  # not a template format can read: store nothing


def _templates(template: str) -> list[str]:
    """A catalog template and its translations, in every language of the catalog."""
    from pesdc.i18n import LOCALES, translator

    return [template] + [translator(lang).gettext(template) for lang in LOCALES]


def _freeze(value: Any, name: str, templates: list[str]) -> Any:
    if isinstance(value, Phrase):
        return ("phrase", value.template, _freeze_args(value.template, value.args))
    if type(value) in _PLAIN:
        return value
    for t in templates:
        for field, spec, conv in _fields(t):
            root = field.split(".")[0].split("[")[0]
            if root == name and (field != name or spec or conv is not None):
                raise Uncacheable(name)
    return format(value, "")  # what "{name}" shows


def _freeze_args(*templates_and_args: Any) -> dict[str, Any]:
    *plain, args = templates_and_args
    templates = [t for template in plain if template for t in _templates(template)]
    return {k: _freeze(v, k, templates) for k, v in args.items()}


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple):
        _, template, args = value
        return Phrase(template, {k: _thaw(v) for k, v in args.items()})
    return value


def encode(d: Diagnostic) -> tuple[Any, ...]:
    """A problem as plain data (raises Uncacheable)."""
    args = None if d.args is None else _freeze_args(d.template, d.hint_template, d.args)
    return (d.rule, d.message, d.file, d.path, d.hint, d.severity.value, d.line, d.column,
            args, d.template, d.hint_template)


def decode(t: tuple[Any, ...]) -> Diagnostic:
    rule, message, file, path, hint, severity, line, column, args, template, hint_t = t
    return Diagnostic(rule, message, file, tuple(path), hint, Severity(severity), line,
                      column, None if args is None else {k: _thaw(v) for k, v in args.items()},
                      template, hint_t)


class RuleCache:
    """The per-center rules' problems of one run: ``get`` a center's from its entry,
    ``put`` the ones judged, ``save`` the entries of centers judged by every rule. An
    entry also holds data a rule of the whole tree derives from one center alone
    (``center_data``: ADDR001's subnets as integers)."""

    def __init__(self, topo: Topology, rule_ids: list[str], complete: bool):
        self.topo, self.rule_ids, self.complete = topo, rule_ids, complete
        self.on = parsecache.enabled() and bool(rule_ids)
        self._facts = tree_facts(topo) if self.on else ""
        self._keys: dict[str, str | None] = {}
        self._loaded: dict[str, dict[str, Any] | None] = {}
        self._fresh: dict[str, dict[str, list[Any]] | None] = {}
        self._data: dict[str, dict[str, Any]] = {}
        self._folder = folder()

    def __enter__(self) -> RuleCache:
        self._outer = _active.get(id(self.topo))
        _active[id(self.topo)] = self
        return self

    def __exit__(self, *exc: object) -> None:
        if self._outer is None:
            _active.pop(id(self.topo), None)
        else:
            _active[id(self.topo)] = self._outer

    def _key(self, name: str) -> str | None:
        if name not in self._keys:
            self._keys[name] = entry_key(self.topo, self.topo.datacenters[name], self._facts)
        return self._keys[name]

    def _entry(self, name: str) -> dict[str, Any] | None:
        if name not in self._loaded:
            key = self._key(name)
            ok, data = parsecache.get_entry(self._folder / key) if key else (False, None)
            good = ok and isinstance(data, dict) and isinstance(data.get("rules"), dict) \
                and isinstance(data.get("data"), dict)
            self._loaded[name] = data if good else None
        return self._loaded[name]

    def get(self, name: str, rule_id: str) -> list[Diagnostic] | None:
        """The center's problems of this rule from its entry; None: judge them."""
        if not self.on:
            return None
        entry = self._entry(name)
        if entry is None or rule_id not in entry["rules"]:
            return None
        try:
            return [decode(t) for t in entry["rules"][rule_id]]
        except Exception:  # a damaged entry: judged again
            self._loaded[name] = None
            return None

    def put(self, name: str, rule_id: str, diags: list[Diagnostic]) -> None:
        if not self.on or not self.complete:
            return
        fresh = self._fresh.setdefault(name, {})
        if fresh is None:
            return
        try:
            fresh[rule_id] = [encode(d) for d in diags]
        except Uncacheable:
            self._fresh[name] = None

    def data(self, dc: DataCenter, what: str, derive: Callable[[DataCenter], Any]) -> Any:
        """``derive(dc)`` (plain data that depends on ``dc`` alone), from the center's
        entry when it has it."""
        if self.on:
            entry = self._entry(dc.name)
            if entry is not None and what in entry["data"]:
                return entry["data"][what]
        value = derive(dc)
        self._data.setdefault(dc.name, {})[what] = value
        return value

    def save(self) -> None:
        """Store every center judged by all the per-center rules in this run."""
        if not self.on or not self.complete:
            return
        for name, fresh in self._fresh.items():
            key = self._key(name)
            if fresh is not None and key and set(fresh) == set(self.rule_ids):
                parsecache.store(self._folder / key, {"rules": fresh,
                                                  "data": self._data.get(name, {})})


# The rule cache of each topology whose rules are running (run_rules), by id.
_active: dict[int, RuleCache] = {}


def center_data(topo: Topology, dc: DataCenter, what: str,
                derive: Callable[[DataCenter], Any]) -> Any:
    """``derive(dc)``, from the rule cache of ``topo``'s rules now running (run_rules)
    when it holds it; computed (and kept for that cache) otherwise."""
    store = _active.get(id(topo))
    if store is None or store.topo is not topo or topo.datacenters.get(dc.name) is not dc:
        return derive(dc)
    return store.data(dc, what, derive)
