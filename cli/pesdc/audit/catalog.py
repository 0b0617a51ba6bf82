"""The MLPS 2.0 level-3 control catalog (data in pesdc/data/mlps/catalog.yaml).

Families, items (one per clause or lettered sub-requirement) and the rules pesdc checks
for each item. An audit profile (YAML) overrides rule parameters, severities, or turns
a rule off. Items without rules are checked by a person (人工核查): the loader gives each
one a manual rule ``M-<item id>`` so every item maps to at least one rule.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

KINDS = ("topology", "rendered", "host", "device", "manual")
ITEM_KEYS = frozenset({"id", "clause", "family", "indicator", "zh", "en", "level", "rules"})
SEVERITIES = ("critical", "high", "medium", "low")

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(ValueError):
    """The catalog or a profile is malformed (reported without a traceback)."""


@dataclass(frozen=True)
class Family:
    id: str
    key: str
    zh: str
    en: str
    weight: float = 1.0

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Item:
    id: str
    clause: str
    family: str
    zh: str
    en: str
    indicator: str = ""  # GB/T 28448-2019 test indicator id, empty where not certain
    level: int = 3
    rules: tuple[str, ...] = ()

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass
class RuleDef:
    id: str
    kind: str
    severity: str
    en: str
    zh: str
    params: dict[str, Any] = field(default_factory=dict)
    fix_en: str = ""
    fix_zh: str = ""
    enabled: bool = True
    items: list[str] = field(default_factory=list)  # the items this rule serves

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def fix(self, lang: str) -> str:
        return (self.fix_zh or self.fix_en) if lang == "zh" else self.fix_en


@dataclass
class Catalog:
    families: dict[str, Family]
    items: dict[str, Item]
    rules: dict[str, RuleDef]
    standard: str = "GB/T 22239-2019"
    level: int = 3
    profile: str = "default"

    def items_of(self, family: str) -> list[Item]:
        return [i for i in self.items.values() if i.family == family]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {k: 0 for k in KINDS}
        for r in self.rules.values():
            out[r.kind] += 1
        return out


def _req(d: dict[str, Any], key: str, where: str) -> Any:
    if key not in d:
        raise CatalogError(f"{where}: missing {key!r}")
    return d[key]


def parse_catalog(data: Any) -> Catalog:
    if not isinstance(data, dict):
        raise CatalogError("catalog: not a mapping")
    fams: dict[str, Family] = {}
    for f in data.get("families") or []:
        fam = Family(str(_req(f, "id", "family")), str(_req(f, "key", "family")),
                     str(f.get("zh", "")), str(f.get("en", "")), float(f.get("weight", 1)))
        fams[fam.id] = fam
    rules: dict[str, RuleDef] = {}
    for r in data.get("rules") or []:
        rid = str(_req(r, "id", "rule"))
        kind = str(_req(r, "kind", rid))
        sev = str(r.get("severity", "medium"))
        if kind not in KINDS:
            raise CatalogError(f"rule {rid}: kind {kind!r} is not one of {', '.join(KINDS)}")
        if sev not in SEVERITIES:
            raise CatalogError(f"rule {rid}: severity {sev!r} is not one of "
                               f"{', '.join(SEVERITIES)}")
        if rid in rules:
            raise CatalogError(f"rule {rid} defined twice")
        fix = r.get("fix") or {}
        rules[rid] = RuleDef(rid, kind, sev, str(r.get("en", "")), str(r.get("zh", "")),
                             dict(r.get("params") or {}), str(fix.get("en", "")),
                             str(fix.get("zh", "")))
    items: dict[str, Item] = {}
    for i in data.get("items") or []:
        iid = str(_req(i, "id", "item"))
        fam_id = str(_req(i, "family", iid))
        if fam_id not in fams:
            raise CatalogError(f"item {iid}: unknown family {fam_id}")
        if iid in items:
            raise CatalogError(f"item {iid} defined twice")
        # A comma in an unquoted flow-mapping title ends it and the rest becomes a key.
        unknown = sorted(str(k) for k in i if k not in ITEM_KEYS)
        if unknown:
            raise CatalogError(f"item {iid}: unknown keys {', '.join(map(repr, unknown))} "
                               "(quote a title that holds a comma)")
        refs = tuple(str(x) for x in i.get("rules") or [])
        for ref in refs:
            if ref not in rules:
                raise CatalogError(f"item {iid}: unknown rule {ref}")
        if not refs:
            mid = f"M-{iid}"
            rules[mid] = RuleDef(mid, "manual", "medium", f"Checked by a person: {i['en']}",
                                 f"人工核查：{i['zh']}", {},
                                 "record the evidence (documents, interviews, site visit) "
                                 "and a waiver or result file", "记录核查证据（文档、访谈、现场）")
            refs = (mid,)
        items[iid] = Item(iid, str(i.get("clause") or iid), fam_id, str(i["zh"]), str(i["en"]),
                          str(i.get("indicator") or ""), int(i.get("level", 3)), refs)
        for ref in refs:
            rules[ref].items.append(iid)
    orphans = [r for r in rules.values() if not r.items]
    if orphans:
        raise CatalogError(f"rules not used by any item: {', '.join(r.id for r in orphans)}")
    return Catalog(fams, items, rules, str(data.get("standard", "GB/T 22239-2019")),
                   int(data.get("level", 3)))


@lru_cache(maxsize=1)
def _bundled() -> Catalog:
    text = resources.files("pesdc").joinpath("data/mlps/catalog.yaml").read_text("utf-8")
    # Bundled data: libyaml reads it (the same data, read once per process, 3x faster).
    return parse_catalog(yaml.load(text, Loader=_LOADER))


def load_catalog(profile: Path | None = None) -> Catalog:
    """The bundled catalog, with an audit profile applied when given."""
    cat = copy.deepcopy(_bundled())
    if profile is not None:
        apply_profile(cat, read_yaml(profile, "profile"), profile.name)
    return cat


def read_yaml(path: Path, what: str) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"{what} {path}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{what} {path}: not valid YAML: {exc}") from None


def apply_profile(cat: Catalog, data: Any, name: str = "profile") -> None:
    """``params:`` (name -> value, for every rule that has the parameter) and
    ``rules: {ID: {params: {...}, severity: ..., enabled: false}}``."""
    if data is None:
        return
    if not isinstance(data, dict):
        raise CatalogError(f"profile {name}: not a mapping")
    unknown = set(data) - {"name", "params", "rules", "description"}
    if unknown:
        raise CatalogError(f"profile {name}: unknown keys {', '.join(sorted(unknown))}")
    cat.profile = str(data.get("name") or name)
    params = data.get("params") or {}
    if not isinstance(params, dict):
        raise CatalogError(f"profile {name}: params must be a mapping")
    known = {p for r in cat.rules.values() for p in r.params}
    for key, value in params.items():
        if key not in known:
            raise CatalogError(f"profile {name}: no rule takes parameter {key!r} "
                               f"(known: {', '.join(sorted(known))})")
        for r in cat.rules.values():
            if key in r.params:
                r.params[key] = _coerce(r.params[key], value, f"{name}: {key}")
    per_rule = data.get("rules") or {}
    if not isinstance(per_rule, dict):
        raise CatalogError(f"profile {name}: rules must be a mapping of rule id to settings")
    for rid, conf in per_rule.items():
        if rid not in cat.rules:
            raise CatalogError(f"profile {name}: unknown rule {rid}")
        r = cat.rules[rid]
        conf = conf or {}
        if not isinstance(conf, dict):
            raise CatalogError(f"profile {name}: rules.{rid} must be a mapping")
        for key, value in (conf.get("params") or {}).items():
            if key not in r.params:
                raise CatalogError(f"profile {name}: rule {rid} has no parameter {key!r}")
            r.params[key] = _coerce(r.params[key], value, f"{name}: {rid}.{key}")
        if "severity" in conf:
            if conf["severity"] not in SEVERITIES:
                raise CatalogError(f"profile {name}: rule {rid}: severity must be one of "
                                   f"{', '.join(SEVERITIES)}")
            r.severity = conf["severity"]
        if "enabled" in conf:
            r.enabled = bool(conf["enabled"])


def _coerce(default: Any, value: Any, where: str) -> Any:
    if isinstance(default, bool) or default is None:
        return value
    if isinstance(default, int | float) and not isinstance(value, int | float):
        raise CatalogError(f"profile {where}: expected a number, got {value!r}")
    if isinstance(default, list) and not isinstance(value, list):
        raise CatalogError(f"profile {where}: expected a list, got {value!r}")
    return value
