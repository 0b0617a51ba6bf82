"""Defaults and inheritance, so that a national tree stays short.

A value is looked up, most general first, in (as containerlab and Nornir do):

    defaults.<section>.all            every device / server / site / link
    defaults.<section>.kinds[KIND]    device kinds and site kinds
    defaults.<section>.roles[ROLE]    server roles, in the order the server lists them
    defaults.<section>.groups[GROUP]  the node's ``group:``
    the node itself

Each level is read from the tree's defaults files (a file holding only ``defaults:``,
applying to its folder and below, outer folders first) and then from the data
center file's own ``defaults:``. Mappings merge key by key; lists and scalars replace.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from pesdc.model.diagnostics import N_, Diagnostic, YamlPath
from pesdc.model.schema import INHERITING_SECTIONS, SELECTOR_KEY

LEVELS = ("all", "kinds", "roles", "groups")
_ALLOWED_LEVELS: dict[str, tuple[str, ...]] = {
    "devices": ("all", "kinds", "groups"),
    "servers": ("all", "roles", "groups"),
    "sites": ("all", "kinds", "groups"),
    "links": ("all", "groups"),
}


@dataclass
class DefaultsLayer:
    """One ``defaults:`` block and where it was read."""

    file: str
    data: dict[str, Any]
    base_path: YamlPath = ("defaults",)


@dataclass
class Merged:
    value: dict[str, Any]
    # For each top-level key that came from a defaults layer: where it was set.
    origin: dict[str, tuple[str, YamlPath]] = field(default_factory=dict)


def check_defaults(layer: DefaultsLayer) -> list[Diagnostic]:
    """Schema of a defaults block itself: sections, levels and the keys they set."""
    diags: list[Diagnostic] = []
    if not isinstance(layer.data, dict):
        return [Diagnostic("SCH002", N_("defaults must be a mapping of sections"), layer.file,
                           layer.base_path, "write defaults: {servers: {all: {...}}}")]
    for section, block in layer.data.items():
        path = (*layer.base_path, section)
        if section not in INHERITING_SECTIONS:
            diags.append(_unknown(layer.file, path, section, INHERITING_SECTIONS))
            continue
        if not isinstance(block, dict):
            diags.append(Diagnostic.marked("SCH002", N_("defaults.{section} must be a mapping"),
                                           layer.file, path, N_("levels: {levels}"),
                                           section=section, levels=", ".join(LEVELS)))
            continue
        model_fields = INHERITING_SECTIONS[section].model_fields
        for level, entries in block.items():
            lpath = (*path, level)
            if level not in _ALLOWED_LEVELS[section]:
                diags.append(_unknown(layer.file, lpath, level, _ALLOWED_LEVELS[section]))
                continue
            blocks = {None: entries} if level == "all" else entries
            if not isinstance(blocks, dict):
                diags.append(Diagnostic.marked(
                    "SCH002", N_("defaults.{section}.{level} must be a mapping"), layer.file,
                    lpath, section=section, level=level))
                continue
            for sel, values in blocks.items():
                vpath = lpath if sel is None else (*lpath, sel)
                if not isinstance(values, dict):
                    diags.append(Diagnostic("SCH002", N_("a defaults block must be a mapping "
                                                         "of keys to values"), layer.file, vpath,
                                            ""))
                    continue
                for key in values:
                    if key == "name" or key not in model_fields:
                        diags.append(_unknown(layer.file, (*vpath, key), key,
                                              [k for k in model_fields if k != "name"],
                                              what=f"{section[:-1]} key"))
    return diags


def _unknown(file: str, path: YamlPath, key: Any, allowed: Any, what: str = "key"
             ) -> Diagnostic:
    names = [str(a) for a in allowed]
    close = difflib.get_close_matches(str(key), names, n=1)
    hint = N_("did you mean {close!r}? allowed: {allowed}") if close else \
        N_("allowed: {allowed}")
    if what == "key":
        message = N_("unknown key {key!r}")
    elif what == "top-level key":
        message = N_("unknown top-level key {key!r}")
    else:  # "SECTION key", the keys an item of a defaults section may set
        message = N_("unknown {section} key {key!r}")
    return Diagnostic.marked("SCH001", message, file, path, hint, key=key,
                             section=what.removesuffix(" key"), allowed=", ".join(names),
                             close=close[0] if close else "")


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def merge_node(section: str, node: dict[str, Any], layers: list[DefaultsLayer],
               memo: dict[Any, Any] | None = None) -> Merged:
    """The node with every applicable default layered under it. ``memo`` (one dict for
    one list of layers) keeps the defaults merged for each set of levels a node asks
    for (its kind or roles, its group): a center's nodes share a few."""
    if not layers:
        return Merged(node)
    selector = SELECTOR_KEY[section]
    wanted: list[tuple[str, Any]] = [("all", None)]
    sel_value = node.get(selector) if selector else None
    if section == "servers" and isinstance(sel_value, list):
        wanted += [("roles", role) for role in sel_value if isinstance(role, str)]
    elif isinstance(sel_value, str):
        wanted.append(("kinds", sel_value))
    group = node.get("group")
    if isinstance(group, str):
        wanted.append(("groups", group))
    key = (section, tuple(wanted))
    if memo is not None and key in memo:
        under = memo[key]
    else:
        under = _defaults_for(section, wanted, layers)
        if memo is not None:
            memo[key] = under
    if under is None:  # no default applies
        return Merged(node)
    value = _deep_merge(under[0], node)
    origin = dict(under[1])
    for k in node:
        origin.pop(k, None)
    return Merged(value, origin)


def _defaults_for(section: str, wanted: list[tuple[str, Any]], layers: list[DefaultsLayer]
                  ) -> tuple[dict[str, Any], dict[str, tuple[str, YamlPath]]] | None:
    """The defaults of ``section`` at the levels ``wanted`` (in order of precedence,
    lowest first), merged, and where each key was set; None when no layer has any."""
    chain: list[tuple[dict[str, Any], str, YamlPath]] = []
    for level, key in wanted:
        for layer in layers:
            block = layer.data.get(section)
            if not isinstance(block, dict):
                continue
            entries = block.get(level)
            if level == "all":
                if isinstance(entries, dict):
                    chain.append((entries, layer.file, (*layer.base_path, section, level)))
            elif isinstance(entries, dict):
                values = entries.get(key)
                if isinstance(values, dict):
                    chain.append((values, layer.file,
                                  (*layer.base_path, section, level, key)))
    if not chain:
        return None
    # Keys a defaults block may not set were reported by check_defaults; skip them here
    # so one typo in a defaults block is one problem, not one per node.
    fields = INHERITING_SECTIONS[section].model_fields
    value: dict[str, Any] = {}
    origin: dict[str, tuple[str, YamlPath]] = {}
    for data, file, path in chain:
        usable = {k: v for k, v in data.items() if k != "name" and k in fields}
        value = _deep_merge(value, usable)
        for k in usable:
            origin[k] = (file, (*path, k))
    return value, origin
