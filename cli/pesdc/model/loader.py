"""Load a topology (files or folders) into validated models, collecting every problem.

Order of work, as Aerleon does: read YAML, apply defaults, check the schema item by
item (so one bad server does not hide the problems of the next), then hand the valid
part to the rules. Nothing here raises on bad input; problems become diagnostics.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from pesdc.model import filefacts, modelcache
from pesdc.model.diagnostics import N_, Diagnostic, Marked, Phrase, Report, YamlPath
from pesdc.model.downlinks import derive as derive_downlinks
from pesdc.model.inherit import DefaultsLayer, _unknown, check_defaults, merge_node
from pesdc.model.schema import INHERITING_SECTIONS, DataCenter, Strict
from pesdc.model.text import FREE_TEXT_MESSAGES, PATTERN_RULES, Invalid
from pesdc.model.tree import Topology
from pesdc.model.yamlio import MAX_FILE_BYTES, Locator, parse_bytes, read_yaml_bytes

YAML_SUFFIXES = (".yaml", ".yml")
TOP_KEYS = ("datacenter", "defaults")
# Sections of a data center that hold named lists of objects.
LIST_SECTIONS: dict[str, type[Strict]] = {
    name: info.annotation.__args__[0]  # type: ignore[union-attr]
    for name, info in DataCenter.model_fields.items()
    if getattr(info.annotation, "__origin__", None) is list
}


_UNREAD = object()  # a _Source's data not parsed yet (its facts are known)


@dataclass
class _Source:
    display: str
    path: Path
    data: Any
    digest: str = ""  # sha256 of the file's bytes (the validated-model cache's key)
    raw: bytes | None = None  # the bytes read
    # Known from an earlier read of these bytes (pesdc.model.filefacts): the data is
    # parsed only when needed (``loaded``).
    facts: filefacts.Facts | None = None
    clean: bool = False  # the loader's checks of the file found nothing

    def has(self, key: str) -> bool:
        """The file has the top-level key (datacenter, defaults)."""
        return key in self.facts.keys if self.facts is not None else key in self.data

    def loaded(self, report: Report) -> dict[str, Any]:
        """The file's data, parsed from its bytes now if it was not yet. Bytes with
        facts parsed cleanly before; should they not now, their problems are reported."""
        if self.data is _UNREAD:
            data, diags = parse_bytes(self.raw or b"", self.display)
            report.extend(diags)
            self.data = data if isinstance(data, dict) else {}
        return self.data


@dataclass
class LoadResult:
    topology: Topology
    report: Report
    locator: Locator = field(repr=False, default_factory=lambda: Locator({}))
    # Per center, every defaults file applied to it, in the order applied: tree files,
    # outer folders first, then the center's own file when it has a defaults: block.
    defaults_applied: dict[str, list[str]] = field(default_factory=dict)
    # What a user should know that is no problem of the topology (no tree root, ...).
    notes: list[str] = field(default_factory=list)


def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)
    return rel if not rel.startswith("../../..") else str(path)


# A tree marks its root with this file (content ignored): tree defaults are looked up
# from a given file or folder up to that folder and never beyond, and links inside the
# tree may point anywhere below it.
TREE_MARKER = ".pesdc-tree"
DEFAULTS_NAMES = ("defaults.yaml", "defaults.yml")


# Within one load(), each path is resolved once: a national tree resolves every file's
# path five times over (discovery, defaults above, layers, the note), 0.1 s of a cached run.
_memo: dict[Path, Path] | None = None


def _resolved(path: Path) -> Path:
    if _memo is None:
        return path.resolve()
    found = _memo.get(path)
    if found is None:
        found = _memo[path] = path.resolve()
    return found


def tree_root(start: Path) -> Path | None:
    """The nearest folder at or above the folder ``start`` that holds the tree marker.

    The search ends at a repository root (a folder with .git) or at ``/``: a marker
    further up belongs to someone else. A marker that is a symlink does not count."""
    d = start.resolve()
    while True:
        marker = d / TREE_MARKER
        if marker.is_file() and not marker.is_symlink():
            return d
        if (d / ".git").exists() or d.parent == d:
            return None
        d = d.parent


def _inside(path: Path, boundary: Path) -> bool:
    real = path.resolve()
    return real == boundary or boundary in real.parents


def _link_out(link: Path, boundary: Path) -> Diagnostic:
    """A symlink out of the tree: named by where it is, never followed nor read (its
    target could be any file on the machine, e.g. /etc/shadow)."""
    try:
        to = ascii(os.readlink(link))
    except OSError:  # pragma: no cover - removed while we looked
        to = "?"
    return Diagnostic.marked("YAML004", N_("symlink to {to} leads outside the tree ({tree}); "
                                           "not followed"), _display(link), (),
                             N_("copy the file into the tree, or remove the link"),
                             to=to, tree=_display(boundary))


def _walk(folder: Path, boundary: Path, report: Report, visited: set[Path]) -> list[Path]:
    """YAML files under ``folder`` in path order; hidden names skipped; symlinks followed
    only while they stay inside ``boundary``."""
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        report.add(Diagnostic.marked("YAML003", N_("cannot read folder: {why}"),
                                     _display(folder), (), N_("check the path and permissions"),
                                     why=exc.strerror))
        return []
    found: list[Path] = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_symlink() and not _inside(entry, boundary):
            if entry.suffix in YAML_SUFFIXES or entry.is_dir():
                report.add(_link_out(entry, boundary))
            continue
        if entry.is_dir():
            real = entry.resolve()
            if real not in visited:  # an in-tree link to a folder above would loop
                visited.add(real)
                found.extend(_walk(entry, boundary, report, visited))
        elif entry.suffix in YAML_SUFFIXES and entry.is_file():
            found.append(entry)
    return found


def _given_link_out(p: Path) -> Diagnostic | None:
    """A given file that is a symlink out of its tree (its marked root, else its folder)."""
    if not p.is_symlink():
        return None
    boundary = tree_root(p.parent) or p.parent.resolve()
    return None if _inside(p, boundary) else _link_out(p, boundary)


def discover(paths: list[Path], report: Report) -> list[Path]:
    """Every YAML file under the given files and folders, in a stable order. Symlinks
    that lead outside the tree (its marked root, else the folder given) are reported
    (YAML004) and not followed; so is a given file that is such a link."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            boundary = tree_root(p) or p.resolve()
            files = _walk(p, boundary, report, {p.resolve()})
            if not files:
                report.add(Diagnostic.marked(
                    "YAML003", N_("folder holds no .yaml topology files"), _display(p), (),
                    N_("point at a topology folder or file")))
            found.extend(files)
        elif p.name == TREE_MARKER:
            continue  # a tree's root marker (e.g. from `dir/.*`) is not a topology file
        elif (escaped := _given_link_out(p)) is not None:
            report.add(escaped)
        elif p.is_file():
            found.append(p)
        else:
            report.add(Diagnostic.marked("YAML003", N_("no such file or folder"), str(p), (),
                                         N_("check the path")))
    seen: set[Path] = set()
    unique = []
    for f in found:
        r = _resolved(f)
        if r not in seen:
            seen.add(r)
            unique.append(f)
    return unique


def _folders_up(start: Path, root: Path) -> list[Path]:
    """start, its parent, ... up to and including root (root is start or above it)."""
    out = [start]
    while out[-1] != root and out[-1].parent != out[-1]:
        out.append(out[-1].parent)
    return out


def ancestor_defaults(files: list[Path], report: Report) -> list[Path]:
    """Defaults files in the folders above the given files, up to the tree root, so that
    validating one center's file (or a sub-folder) sees the tree's defaults as loading
    the whole tree does. Without a tree root nothing above is applied."""
    found: list[Path] = []
    seen = {_resolved(f) for f in files}
    walked: set[Path] = set()
    for f in files:
        start = _resolved(f).parent
        root = tree_root(start) if start not in walked else None
        walked.add(start)
        if root is None:
            continue
        for d in _folders_up(start, root):
            for cand in (d / name for name in DEFAULTS_NAMES):
                if cand in seen or _resolved(cand) in seen:
                    continue
                seen.update((cand, _resolved(cand)))
                if cand.is_symlink() and not _inside(cand, root):
                    report.add(_link_out(cand, root))
                elif cand.is_file():
                    found.append(cand)
    return found


def _defaults_above(start: Path) -> list[Path]:
    """Defaults files from ``start`` up to a repository root or ``/``: the ones a tree
    without a root marker does not apply (named in a note, never read)."""
    out = []
    d = start.resolve()
    while True:
        out += [d / n for n in DEFAULTS_NAMES if (d / n).is_file()]
        if (d / ".git").exists() or d.parent == d:
            return out
        d = d.parent


def _no_root_note(paths: list[Path], loaded: set[Path]) -> str | None:
    """One note for the given files (and folders with defaults above them) that have no
    tree root, naming the defaults files that are therefore not applied."""
    rootless: list[str] = []
    skipped: list[Path] = []
    for p in paths:
        if not p.exists() or tree_root(p if p.is_dir() else p.parent) is not None:
            continue
        # A file's own folder counts as above it; a folder's own files are discovered.
        missing = [c for c in _defaults_above(p.resolve().parent)
                   if c.resolve() not in loaded]
        if p.is_file() or missing:
            rootless.append(_display(p))
            skipped += [c for c in missing if c not in skipped]
    if not rootless:
        return None
    not_applied: Phrase | str = ""
    if skipped:
        not_applied = Phrase(N_("; not applied: {files}"),
                             {"files": ", ".join(_display(c) for c in skipped)})
    return Marked(N_("no tree root ({marker}) at or above {paths}: only the defaults files "
                     "given or inside the folders given are applied{not_applied} (put a "
                     "{marker} file at the root of the tree)"), marker=TREE_MARKER,
                  paths=", ".join(rootless), not_applied=not_applied)


def _center_name(data: dict[str, Any]) -> str | None:
    dc = data.get("datacenter")
    name = dc.get("name") if isinstance(dc, dict) else None
    return name if isinstance(name, str) else None


def load(paths: list[Path] | list[str]) -> LoadResult:
    global _memo
    _memo = {}
    try:
        return _load(paths)
    finally:
        _memo = None


def _load(paths: list[Path] | list[str]) -> LoadResult:
    report = Report()
    given = [Path(p) for p in paths]
    files = discover(given, report)
    files = ancestor_defaults(files, report) + files
    sources: list[_Source] = []
    displays: dict[str, Path] = {}
    for f in files:
        display = _display(f)
        displays[display] = f
        raw = _read_bytes(f)
        if raw is None:  # unreadable or too large: read_yaml says which
            data, diags, raw = read_yaml_bytes(f, display)
        else:
            digest = hashlib.sha256(raw).hexdigest()
            facts = filefacts.get(digest)
            if facts is not None:  # these bytes read cleanly before: parsed when needed
                sources.append(_Source(display, f, _UNREAD, digest, raw, facts))
                continue
            data, diags = parse_bytes(raw, display)
        report.extend(diags)
        if diags:
            continue
        if data is None:
            report.add(Diagnostic("YAML003", N_("file is empty"), display, (),
                                  N_("a topology file starts with 'datacenter:' or 'defaults:'")))
            continue
        if not isinstance(data, dict):
            report.add(Diagnostic.marked(
                "YAML003", N_("top level is a {type}, not a mapping"), display, (),
                N_("a topology file starts with 'datacenter:' or 'defaults:'"),
                type=type(data).__name__))
            continue
        bad = [k for k in data if k not in TOP_KEYS]
        for k in bad:
            report.add(_unknown(display, (k,), k, TOP_KEYS, what="top-level key"))
        if not any(k in data for k in TOP_KEYS) and not bad:
            report.add(Diagnostic("YAML003", N_("file has neither datacenter: nor defaults:"),
                                  display, (), N_("add a datacenter: block")))
        clean = not bad and any(k in data for k in TOP_KEYS)
        digest = hashlib.sha256(raw).hexdigest() if raw is not None else ""
        sources.append(_Source(display, f, data, digest, raw, clean=clean))

    # Defaults files (only 'defaults:') apply to their folder and below, outer first.
    tree_layers: list[tuple[Path, DefaultsLayer]] = []
    for src in sources:
        if not src.has("defaults"):
            continue
        if src.facts is not None and src.has("datacenter"):
            continue  # a center's own defaults: found right when these bytes were read
        data = src.loaded(report)
        layer = DefaultsLayer(src.display, data.get("defaults"))  # type: ignore[arg-type]
        problems = check_defaults(layer)
        report.extend(problems)
        src.clean = src.clean and not problems
        if "datacenter" not in data and isinstance(layer.data, dict):
            tree_layers.append((_resolved(src.path).parent, layer))
    tree_layers.sort(key=lambda t: len(t[0].parts))
    for src in sources:  # what a later run needs not parse these bytes for
        if src.facts is None and src.clean and src.digest:
            filefacts.put(src.digest, filefacts.Facts(
                tuple(k for k in TOP_KEYS if k in src.data),
                isinstance(src.data.get("defaults"), dict), _center_name(src.data)))

    topo = Topology(files=displays)
    tree_digests = {src.display: src.digest for src in sources if not src.has("datacenter")}
    applied: dict[str, list[str]] = {}
    for src in sources:
        if not src.has("datacenter"):
            continue
        here = _resolved(src.path).parent
        layers = [layer for d, layer in tree_layers if here == d or d in here.parents]
        own = src.facts.own_defaults if src.facts is not None else \
            isinstance(src.data.get("defaults"), dict)
        layer_files = [layer.file for layer in layers] + ([src.display] if own else [])
        name = src.facts.name if src.facts is not None else _center_name(src.data)
        if name is not None:
            applied.setdefault(name, layer_files)

        def all_layers(src: _Source = src, layers: list[DefaultsLayer] = layers,
                       own: bool = own) -> list[DefaultsLayer]:
            if not own:
                return layers
            return [*layers, DefaultsLayer(src.display, src.loaded(report)["defaults"])]

        dc, model_key = _cached_dc(src, layer_files, all_layers, tree_digests, report, topo)
        if dc is not None:
            topo.add(dc, src.display, report)
            if model_key and topo.datacenters.get(dc.name) is dc:
                topo.cache_keys[dc.name] = model_key

    derive_downlinks(topo)  # after every center is in: a downlink names another one
    locator = Locator(displays)
    note = _no_root_note(given, {_resolved(f) for f in files})
    return LoadResult(topo, report, locator, applied, [note] if note else [])


# Pydantic's own messages by error type, written as pydantic writes them and filled with
# the error's ctx: a zh run shows them translated. A message that does not come out as
# pydantic's (another pydantic version, an error type not listed) is shown as it is.
PYDANTIC_MESSAGES: dict[str, tuple[str, ...]] = {
    "float_parsing": (N_("Input should be a valid number, unable to parse string as a "
                         "number"),),
    "float_type": (N_("Input should be a valid number"),),
    "int_parsing": (N_("Input should be a valid integer, unable to parse string as an "
                       "integer"),),
    "int_type": (N_("Input should be a valid integer"),),
    "int_from_float": (N_("Input should be a valid integer, got a number with a "
                          "fractional part"),),
    "finite_number": (N_("Input should be a finite number"),),
    "bool_parsing": (N_("Input should be a valid boolean, unable to interpret input"),),
    "bool_type": (N_("Input should be a valid boolean"),),
    "string_type": (N_("Input should be a valid string"),),
    "list_type": (N_("Input should be a valid list"),),
    "dict_type": (N_("Input should be a valid dictionary"),),
    "model_type": (N_("Input should be a valid dictionary or instance of {class_name}"),),
    "model_attributes_type": (N_("Input should be a valid dictionary or object to extract "
                                 "fields from"),),
    "greater_than_equal": (N_("Input should be greater than or equal to {ge}"),),
    "greater_than": (N_("Input should be greater than {gt}"),),
    "less_than_equal": (N_("Input should be less than or equal to {le}"),),
    "less_than": (N_("Input should be less than {lt}"),),
    "enum": (N_("Input should be {expected}"),),
    "literal_error": (N_("Input should be {expected}"),),
    "too_short": (N_("{field_type} should have at least {min_length} {items} after "
                     "validation, not {actual_length}"),),
    "too_long": (N_("{field_type} should have at most {max_length} {items} after "
                    "validation, not {actual_length}"),),
    "string_too_short": (N_("String should have at least {min_length} {characters}"),),
    "string_too_long": (N_("String should have at most {max_length} {characters}"),),
    "free_text": FREE_TEXT_MESSAGES,
}
GIVEN = N_(" (given {given})")  # the rejected value after a type or range message
INHERITED = N_(" (value inherited from defaults, used at {file} {path})")


def _pydantic_message(err: Any) -> Phrase:
    """Pydantic's message of ``err`` as a catalog template and its values: the template
    of its type that, filled with its ctx, is pydantic's text; else the text itself."""
    msg = err["msg"]
    ctx = dict(err.get("ctx") or {})
    for key in ("min_length", "max_length"):
        if key in ctx:  # pydantic's "item{expected_plural}": a word of its own here
            one = ctx[key] == 1
            ctx["items"] = Phrase(N_("item") if one else N_("items"))
            ctx["characters"] = Phrase(N_("character") if one else N_("characters"))
    for template in PYDANTIC_MESSAGES.get(err["type"], ()):
        try:
            if template.format(**ctx) == msg:
                return Phrase(template, ctx)
        except (KeyError, IndexError, ValueError):
            continue
    return Phrase("{text}", {"text": msg})


def _pydantic_diags(exc: ValidationError, file: str, base: YamlPath,
                    origin: dict[str, tuple[str, YamlPath]] | None = None,
                    model: type[BaseModel] | None = None) -> list[Diagnostic]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        etype = err["type"]
        where_file, where = file, (*base, *loc)
        inherited: Phrase | str = ""
        if origin and loc and isinstance(loc[0], str) and loc[0] in origin:
            where_file, opath = origin[loc[0]]
            where = (*opath, *loc[1:])
            inherited = Phrase(INHERITED, {"file": file,
                                           "path": ".".join(str(p) for p in (*base,))})
        if etype == "extra_forbidden":
            allowed: list[str] = []
            target: Any = model
            for part in loc[:-1]:
                if target is None or isinstance(part, int):
                    continue
                info = target.model_fields.get(part)
                target = _inner_model(info.annotation) if info else None
            if target is not None:
                allowed = list(target.model_fields)
            d = _unknown(where_file, where, loc[-1], allowed) if allowed else \
                Diagnostic.marked("SCH001", N_("unknown key {key!r}"), where_file, where,
                                  N_("remove it"), key=loc[-1])
            out.append(d)
        elif etype == "missing":
            out.append(Diagnostic.marked("SCH003", N_("missing required key {key!r}"), file,
                                         (*base, *loc[:-1]), N_("add {key}: ..."),
                                         key=loc[-1]))
        elif etype == "free_text":
            out.append(Diagnostic.marked(
                "SCH005", "{problem}{inherited}", where_file, where,
                N_("write the value as one line of plain text; put long notes in a YAML "
                   "comment instead"), problem=_pydantic_message(err), inherited=inherited))
        elif etype == "string_pattern_mismatch":
            rule = PATTERN_RULES.get(str((err.get("ctx") or {}).get("pattern")),
                                     N_("the identifier pattern"))
            out.append(Diagnostic.marked(
                "SCH006", N_("{value} is not a valid identifier here{inherited}"), where_file,
                where, N_("identifiers are {allowed}; rename it"),
                value=_shown(err.get("input")), inherited=inherited, allowed=Phrase(rule)))
        else:
            given = err.get("input")
            # a validator's own ValueError: its message as it was raised, without the value
            raised = (err.get("ctx") or {}).get("error")
            problem = (Phrase(raised.template, raised.args_) if isinstance(raised, Invalid)
                       else Phrase("{text}", {"text": err["msg"].removeprefix("Value error, ")})
                       if etype == "value_error" else _pydantic_message(err))
            shown_given: Phrase | str = ""
            if etype not in ("value_error",) and not isinstance(given, dict | list):
                shown_given = Phrase(GIVEN, {"given": _shown(given)})
            out.append(Diagnostic.marked("SCH002", "{problem}{given}{inherited}", where_file,
                                         where, _hint_for(etype), problem=problem,
                                         given=shown_given, inherited=inherited))
    return out


def _shown(value: Any, limit: int = 60) -> str:
    """A rejected value as a message may quote it: escaped (repr) and cut short, so a
    10 kB string or a terminal escape never reaches the log as it was."""
    text = ascii(value) if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _hint_for(etype: str) -> str:
    if etype == "finite_number":
        return N_("give a finite number (.inf and .nan are not a bandwidth or a latency)")
    if etype.startswith("enum") or etype == "literal_error":
        return N_("use one of the allowed values")
    if etype.startswith(("int", "float")):
        return N_("give a number")
    if etype.startswith("string"):
        return N_("give a string (quote it if it looks like a number)")
    if etype.startswith("list") or etype == "too_short" or etype == "too_long":
        return N_("give a YAML list")
    if etype.startswith(("model", "dict")):
        return N_("give a mapping of keys to values")
    return N_("fix the value")


def _read_bytes(path: Path) -> bytes | None:
    """The file's bytes; None when it cannot be read or is over the size limit."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None


def _cached_dc(src: _Source, layer_files: list[str],
               layers: Callable[[], list[DefaultsLayer]], tree_digests: dict[str, str],
               report: Report, topo: Topology) -> tuple[DataCenter | None, str | None]:
    """The center of ``src`` from the validated-model cache when its file, the defaults
    files applied to it (``layer_files``, in order) and the code are unchanged; else
    validated under ``layers()`` (and stored when clean). See pesdc.model.modelcache.
    With it, its model key when it validated without a problem (the rule cache's key
    builds on it), else None."""
    inherited = [(file, tree_digests.get(file, "")) for file in layer_files
                 if file != src.display]
    if not src.digest or any(not d for _, d in inherited):
        return _validate_dc(src, layers(), report, topo), None
    name = modelcache.key(src.display, src.digest, inherited)
    dc = modelcache.get(name)
    if dc is not None:
        topo.invalid_items[dc.name] = {}  # stored only when nothing was invalid
        return dc, name
    before = len(report.diagnostics)
    dc = _validate_dc(src, layers(), report, topo)
    if dc is not None and len(report.diagnostics) == before:
        modelcache.put(name, dc)
        return dc, name
    return dc, None


def _validate_dc(src: _Source, layers: list[DefaultsLayer], report: Report,
                 topo: Topology) -> DataCenter | None:
    raw = src.loaded(report).get("datacenter")
    base: YamlPath = ("datacenter",)
    if not isinstance(raw, dict):
        report.add(Diagnostic("SCH002", N_("datacenter must be a mapping"), src.display, base,
                              "datacenter: {name: ..., tier: city, ...}"))
        return None
    header = {k: v for k, v in raw.items() if k not in LIST_SECTIONS}
    ok = True
    try:
        dc = DataCenter.model_validate(header)
    except ValidationError as exc:
        report.extend(_pydantic_diags(exc, src.display, base, model=DataCenter))
        ok = False
        dc = None
    invalid: dict[str, set[str]] = {}
    merged_defaults: dict[Any, Any] = {}  # merge_node's memo for this center's layers
    for section, model in LIST_SECTIONS.items():
        items = raw.get(section)
        if items is None:
            continue
        spath = (*base, section)
        if not isinstance(items, list):
            report.add(Diagnostic.marked(
                "SCH002", N_("{section} must be a list"), src.display, spath,
                N_("write {section}: as a list of '- name: ...' items"), section=section))
            continue
        good: list[Strict] = []
        for i, item in enumerate(items):
            ipath = (*spath, i)
            if not isinstance(item, dict):
                report.add(Diagnostic.marked(
                    "SCH002", N_("each item of {section} must be a mapping"), src.display,
                    ipath, N_("start each item with '- name: ...'"), section=section))
                continue
            merged = merge_node(section, item, layers, merged_defaults) \
                if section in INHERITING_SECTIONS else None
            value = merged.value if merged else item
            try:
                obj = model.model_validate(value)
            except ValidationError as exc:
                report.extend(_pydantic_diags(exc, src.display, ipath,
                                              merged.origin if merged else None, model))
                if isinstance(item.get("name"), str):
                    invalid.setdefault(section, set()).add(item["name"])
                if section == "zones" and isinstance(item.get("segments"), list):
                    # The segments of a rejected zone are not dangling references either.
                    invalid.setdefault("segments", set()).update(
                        s["name"] for s in item["segments"]
                        if isinstance(s, dict) and isinstance(s.get("name"), str))
                continue
            _stamp(obj, src.display, ipath)
            good.append(obj)
        if dc is not None:
            setattr(dc, section, good)
    if not ok or dc is None:
        name = header.get("name")
        if isinstance(name, str):
            topo.invalid_datacenters.add(name)
        return None
    dc._src = (src.display, base)  # items were stamped one by one, at their YAML index
    topo.invalid_items[dc.name] = invalid
    return dc


def _stamp(obj: Strict, file: str, path: YamlPath) -> None:
    """Record where each object (and each nested object) was read."""
    # Into the private attributes' dict itself: what ``obj._src = ...`` stores, without
    # pydantic's __setattr__ dispatch (one call per object of a national tree).
    obj.__pydantic_private__["_src"] = (file, path)  # type: ignore[index]
    values = obj.__dict__
    for name in _model_fields(type(obj)):
        value = values.get(name)
        if isinstance(value, list) and value and isinstance(value[0], Strict):
            for i, child in enumerate(value):
                _stamp(child, file, (*path, name, i))
        elif isinstance(value, Strict):
            _stamp(value, file, (*path, name))


@cache
def _model_fields(model: type[Strict]) -> tuple[str, ...]:
    """The fields of ``model`` whose type holds a model (or may: ``Any``), in order: the
    only ones an object read from YAML holds nested objects in."""
    return tuple(name for name, info in model.model_fields.items()
                 if info.annotation is Any or _inner_model(info.annotation) is not None)
