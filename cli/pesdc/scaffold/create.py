"""`pesdc new`: check the request, plan the center, prove it in a scratch copy of the
tree, then write it (and the parent's edits) — or write nothing and say why."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pesdc.i18n import N_
from pesdc.model import LoadResult, load, validate
from pesdc.model.diagnostics import Diagnostic, Severity
from pesdc.model.loader import tree_root
from pesdc.model.schema import DataCenter, Tier
from pesdc.model.text import NAME_PATTERN
from pesdc.scaffold import allocate, parent_edit
from pesdc.scaffold.allocate import Net
from pesdc.scaffold.conventions import PORT_DEVICE, learn
from pesdc.scaffold.problems import Problem, ScaffoldError, problem
from pesdc.scaffold.template import CenterPlan, UplinkPlan, center_text, municipal

STAGES = ("1", "2", "3")
# GB/T 2260 provincial-level codes (the first two digits; 71, 81, 82: Taiwan, Hong Kong,
# Macao).
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82"})
# The template's systems a parent's cross-center flow may name, per tier.
TEMPLATE_SYSTEMS = {
    "city": {"pes-mis", "data-exchange", "website", "phone", "cross-region-svc",
             "cross-region-bus", "decision-support", "statistics", "market-monitoring",
             "fund-supervision"},
    "province": {"pes-mis", "data-exchange", "cross-region-svc", "cross-region-bus",
                 "decision-support", "statistics", "market-monitoring", "fund-supervision"},
}


@dataclass
class Request:
    name: str
    division_code: str
    parent: str | None = None  # a city's province; a province's is the tree's ministry
    stage: str | None = None  # a city's, "1" to "3"
    tree: Path | None = None  # a file or folder inside the tree (default: the cwd)
    title_zh: str | None = None
    title_en: str | None = None
    tier: str = "city"  # or "province"


@dataclass
class Created:
    path: Path
    root: Path
    block: Net
    uplink: Net
    parent_file: Path | None = None
    edits: list[str] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)


def create(req: Request) -> Created:
    """Write the new center's file; ScaffoldError (nothing written) otherwise. A city
    goes beside its province's file, a province into a folder of its own at the root."""
    root = _root(req.tree)
    loaded = validate([root])
    topo = loaded.topology
    parent = _check(req, loaded)
    parent_dir = Path(topo.files[topo.dc_file[parent.name]]).resolve().parent
    out = (parent_dir if req.tier == "city" else root / req.name) / f"{req.name}.yaml"
    if out.exists():
        raise ScaffoldError([problem(
            "NEW007", _shown(out), N_("the file {file} exists already"),
            N_("choose another name, or move the file away"), file=_shown(out))])
    plan = _plan(req, loaded, parent)
    parent_file = Path(topo.files[topo.dc_file[parent.name]]).resolve()
    original = parent_file.read_bytes()
    inserts = _parent_inserts(original.decode("utf-8"), loaded, parent, plan)
    text, warnings = _prove(root, loaded, plan, out, parent_file, inserts)
    edited = parent_edit.apply(original.decode("utf-8"), inserts) if inserts else None
    _write(out, text, parent_file, original, edited)
    return Created(out, root, plan.block, plan.uplink.subnet,
                   parent_file if edited is not None else None,
                   [i.what for i in inserts], warnings)


def _shown(path: Path) -> str:
    return os.path.relpath(path)


def _root(tree: Path | None) -> Path:
    start = (tree or Path.cwd())
    found = tree_root(start if start.is_dir() else start.parent) if start.exists() else None
    if found is None and tree is not None and tree.is_dir():
        found = tree.resolve()  # a folder given without a marker is the tree itself
    if found is None:
        where = "--tree" if tree is not None else _shown(Path.cwd())
        raise ScaffoldError([problem(
            "NEW008", where, N_("{path} is not inside a tree (no .pesdc-tree at or above it)"),
            N_("run pesdc new inside a tree, or give --tree PATH-IN-THE-TREE"),
            path=_shown(start))])
    return found


def _located(loaded: LoadResult, dc: DataCenter, key: str) -> str:
    """``file:line:column`` of a key of a center's datacenter: block."""
    d = Diagnostic("NEW", "", dc._src[0], (*dc._src[1], key))
    loaded.locator.fill([d])
    return f"{d.file}:{d.line}:{d.column}" if d.line else d.file


def _check(req: Request, loaded: LoadResult) -> DataCenter:
    """Every problem of the request at once; the parent center when there is none."""
    topo = loaded.topology
    out: list[Problem] = []
    if not re.match(NAME_PATTERN, req.name) or len(req.name) > 63:
        out.append(problem("NEW002", "NAME", N_("{name!r} is not a center name"),
                           N_("letters, digits, '.', '_' and '-', starting with a letter or "
                              "digit, at most 63 characters"), name=req.name))
    elif req.name in topo.datacenters or req.name in topo.invalid_datacenters:
        where = (_located(loaded, topo.datacenters[req.name], "name")
                 if req.name in topo.datacenters else "NAME")
        out.append(problem("NEW002", where, N_("a center named {name!r} is in the tree"),
                           N_("choose another name"), name=req.name))
    parent, wrong = _parent(req, loaded)
    out += wrong
    out += _code_problems(req, loaded, parent)
    if req.tier == "city" and req.stage not in STAGES:
        out.append(problem("NEW005", "--stage", N_("stage {stage!r} is not 1, 2 or 3"),
                           N_("a city center is in consolidation stage 1, 2 or 3"),
                           stage=req.stage))
    if out:
        raise ScaffoldError(out)
    assert parent is not None
    return parent


def _parent(req: Request, loaded: LoadResult) -> tuple[DataCenter | None, list[Problem]]:
    """A city's province (--parent), or a province's ministry (the tree's only one)."""
    topo = loaded.topology
    if req.tier == "province":
        ministries = [dc for dc in topo.datacenters.values() if dc.tier is Tier.ministry]
        if len(ministries) == 1:
            return ministries[0], []
        return None, [problem("NEW001", "--tree",
                              N_("the tree has {n} ministry centers; a province's parent is "
                                 "its one ministry center"),
                              N_("add the ministry's file to the tree first"),
                              n=len(ministries))]
    parent = topo.datacenters.get(req.parent or "")
    if parent is not None and parent.tier is Tier.province:
        return parent, []
    provinces = ", ".join(sorted(n for n, dc in topo.datacenters.items()
                                 if dc.tier is Tier.province)) or "none"
    return None, [problem("NEW001", "--parent",
                          N_("{parent!r} is not a province center of the tree"),
                          N_("name one of its provinces: {provinces}"),
                          parent=req.parent, provinces=provinces)]


def _code_problems(req: Request, loaded: LoadResult, parent: DataCenter | None
                   ) -> list[Problem]:
    """GB/T 2260: two digits of province, two of prefecture (city: not 00), two of
    county (a prefecture-level city: 00); the city's first two are its province's."""
    code = req.division_code
    if req.tier == "province":
        if not re.fullmatch(r"[0-9]{6}", code) or code[2:] != "0000" or \
                code[:2] not in PROVINCE_CODES:
            return [problem("NEW003", "--division-code",
                            N_("{code!r} is not the division code of a province"),
                            N_("six digits (GB/T 2260): a province's two, then 0000, "
                               "e.g. 410000"), code=code)]
        return _code_taken(loaded, code)
    if not re.fullmatch(r"[0-9]{6}", code) or code[2:4] == "00" or code[4:] != "00":
        return [problem("NEW003", "--division-code",
                        N_("{code!r} is not the division code of a prefecture-level city"),
                        N_("six digits (GB/T 2260): the province's two, the city's two "
                           "(not 00), then 00, e.g. 370700"), code=code)]
    if parent is not None and parent.tier is Tier.province and \
            code[:2] != parent.division_code[:2]:
        return [problem("NEW003", "--division-code",
                        N_("division code {code} is not inside province {parent} "
                           "({parent_code})"),
                        N_("a city's code starts with its province's two digits: "
                           "{prefix}...."), code=code, parent=parent.name,
                        parent_code=parent.division_code, prefix=parent.division_code[:2])]
    return _code_taken(loaded, code)


def _code_taken(loaded: LoadResult, code: str) -> list[Problem]:
    for dc in loaded.topology.datacenters.values():
        if dc.division_code == code:
            return [problem("NEW004", _located(loaded, dc, "division_code"),
                            N_("division code {code} is {center}'s"),
                            N_("each center has its own code: check the code"),
                            code=code, center=dc.name)]
    return []


def _plan(req: Request, loaded: LoadResult, parent: DataCenter) -> CenterPlan:
    topo = loaded.topology
    space = allocate.taken(topo)
    city = req.tier == "city"
    conv = learn(topo, Tier.city if city else Tier.province, parent.name)
    # The example tree's habit: the second octet is the city's two digits (jinan 370100
    # 10.1.0.0/16, zibo 10.3, heze 10.17), a province's its own two (shandong 10.37);
    # taken as a preference, never forced.
    digits = req.division_code[2:4] if city else req.division_code[:2]
    prefer = Net(f"10.{int(digits)}.0.0/16")
    block = allocate.center_block(space, prefer)
    ups = [Net(u.subnet) for dc in topo.datacenters.values() for u in dc.uplinks
           if u.subnet and ":" not in u.subnet and (dc.name == parent.name
                                                    or u.peer == parent.name)]
    pool = allocate.uplink_pool(ups) or Net("10.255.0.0/24")
    sub = allocate.uplink_subnet(space, pool)
    missing = []
    if block is None:
        missing.append(problem("NEW006", "--tree", N_("no /16 is free in {pools}"),
                               N_("free a block of the tree's private ranges"),
                               pools=", ".join(str(p) for p in allocate.BLOCK_POOLS)))
    if sub is None:
        missing.append(problem("NEW006", "--tree", N_("no /30 is free for the uplink in "
                                                      "{pool} (or the /16 around it)"),
                               N_("free an uplink subnet of the backbone"), pool=str(pool)))
    if missing:
        raise ScaffoldError(missing)
    assert block is not None and sub is not None
    uplink = UplinkPlan(f"up-{parent.name}", "city_province" if city else
                        "province_ministry", sub, conv.up_bandwidth, conv.up_latency,
                        conv.up_encryption)
    kind_zh, kind_en = ("市", "") if city else ("省", " provincial")
    plan = CenterPlan(req.tier, req.name, req.division_code, parent.name,
                      int(req.stage) if city and req.stage else None,
                      req.title_zh or f"{req.name}{kind_zh}人力资源和社会保障数据中心",
                      req.title_en or f"{req.name.capitalize()}{kind_en} HRSS data center",
                      block, uplink, conv, router_group=conv.router_group)
    if city:
        municipal(plan)
    else:
        have = {s.name for s in parent.systems}
        plan.remote = {
            "exchange": [f"{parent.name}/{s}" for s in ("data-exchange", "cross-region-bus")
                         if s in have],
            "report": [f"{parent.name}/{s}" for s in ("statistics", "market-monitoring")
                       if s in have]}
    return plan


def _siblings(loaded: LoadResult, parent: DataCenter, tier: str) -> set[str]:
    """The parent's other full centers of the new one's tier."""
    return {dc.name for dc in loaded.topology.datacenters.values()
            if dc.parent == parent.name and dc.tier.value == tier and not dc.hosted}


def _parent_inserts(text: str, loaded: LoadResult, parent: DataCenter, plan: CenterPlan
                    ) -> list[parent_edit.Insert]:
    siblings = _siblings(loaded, parent, plan.tier)
    out = parent_edit.remote_inserts(text, siblings, plan.name, TEMPLATE_SYSTEMS[plan.tier])
    down = parent_edit.downlink_insert(text, siblings, plan.name, plan.uplink.name,
                                       _downlink_router(loaded, parent))
    return out + ([down] if down is not None else [])


def _downlink_router(loaded: LoadResult, parent: DataCenter) -> str | None:
    """The router that holds downlinks in the other centers of the parent's tier (a
    first child's end goes on the same one, e.g. rt-2 of a province)."""
    held = [dev.name for dc in loaded.topology.datacenters.values()
            if dc.tier is parent.tier and dc is not parent for dev in dc.devices
            if any(i.downlink for i in dev.interfaces)]
    return max(sorted(set(held)), key=held.count) if held else None


def _prove(root: Path, loaded: LoadResult, plan: CenterPlan, out: Path, parent_file: Path,
           inserts: list[parent_edit.Insert]) -> tuple[str, list[Diagnostic]]:
    """The file's text, validated and rendered with the rest of the tree in a scratch
    copy: NEW009 with the problems (shown at the real files) if it fails."""
    with tempfile.TemporaryDirectory(prefix="pesdc-new-") as tmp:
        scratch = Path(tmp) / root.name
        shutil.copytree(root, scratch, symlinks=True)
        target = scratch / out.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(center_text(plan), encoding="utf-8")
        # Second pass: the port names of the platforms the tree's defaults give the gear;
        # gear they give no platform or model (it failed the schema) is written as Linux.
        first = load([scratch]).topology.datacenters.get(plan.name)
        if first is not None:
            devs = {d.name: d.platform.value for d in first.devices}
            declared = {d["name"] for d in (yaml.safe_load(target.read_text(
                encoding="utf-8"))["datacenter"].get("devices") or [])}
            plan.explicit = declared - set(devs)
            devs.update(dict.fromkeys(plan.explicit, "linux"))
            plan.conv.platforms = {d: devs[d] for d in PORT_DEVICE.values() if d in devs}
        text = center_text(plan)
        target.write_text(text, encoding="utf-8")
        if inserts:
            p = scratch / parent_file.relative_to(root)
            p.write_text(parent_edit.apply(p.read_text(encoding="utf-8"), inserts),
                         encoding="utf-8")
        result = validate([scratch])
        own = _shown(out)
        new = _own_first(_new_problems(loaded, root, result, scratch), own,
                         plan.name in result.topology.datacenters)
        if not new and plan.name in result.topology.datacenters:
            new = _render_problems(result, plan.name)
        new.sort(key=lambda d: d.file != own)  # the new file's own problems first
        if any(d.severity is Severity.error for d in new):
            raise ScaffoldError([_relayed(d) for d in new if d.severity is Severity.error])
        return text, new


def _relayed(d: Diagnostic) -> Problem:
    """NEW009 for a problem of the scratch tree, its words shown in the run's language."""
    p = problem("NEW009", f"{d.file}:{d.line}:{d.column}" if d.line else d.file,
                N_("{rule}: {message}"), N_("nothing was written; {hint}"),
                rule=d.rule, message=d.message,
                hint=d.hint or N_("report it: the template does not fit this tree"))
    p.said = d
    return p


def _own_first(new: list[Diagnostic], own: str, loaded: bool) -> list[Diagnostic]:
    """The new problems; only the new file's own when it did not load as a center (its
    schema errors: the user's input, a bad --title-zh): the parent's edit and the
    tree's references to it then fail only because of that, and would be noise."""
    if not loaded and any(d.file == own and d.severity is Severity.error for d in new):
        return [d for d in new if d.file == own]
    return new


def _relocate(d: Diagnostic, files: dict[str, Path], scratch: Path, root: Path) -> str:
    real = files.get(d.file)
    if real is None:
        return d.file
    try:
        return _shown(root / real.resolve().relative_to(scratch.resolve()))
    except ValueError:
        return d.file


def _new_problems(before: LoadResult, root: Path, after: LoadResult, scratch: Path
                  ) -> list[Diagnostic]:
    """Problems of the scratch tree that the tree did not have already, each shown at
    the real file it will be in."""
    def key(d: Diagnostic, file: str) -> tuple[str, str, str]:
        return (file, d.rule, d.message)

    had = {key(d, _shown(before.topology.files.get(d.file, Path(d.file)).resolve()))
           for d in before.report.diagnostics}
    out = []
    for d in after.report.sorted():
        file = _relocate(d, after.topology.files, scratch, root)
        if key(d, _shown(Path(file).resolve())) not in had:
            out.append(dataclasses.replace(d, file=file))  # marked: its template kept
    return out


def _render_problems(result: LoadResult, name: str) -> list[Diagnostic]:
    from pesdc.render import render_tree

    rendered = render_tree(result.topology, [name])
    result.locator.fill(rendered.problems)
    return list(rendered.problems)


def _write(out: Path, text: str, parent_file: Path, original: bytes,
           edited: str | None) -> None:
    """The new file, then the parent's edit (replaced atomically, and only if no one
    changed it since it was read)."""
    if edited is not None and parent_file.read_bytes() != original:
        raise ScaffoldError([problem("NEW009", _shown(parent_file),
                                     N_("{file} changed while pesdc new ran"),
                                     N_("run it again"), file=_shown(parent_file))])
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "x", encoding="utf-8") as fh:
        fh.write(text)
    if edited is not None:
        tmp = parent_file.with_name(f".{parent_file.name}.pesdc-new")
        tmp.write_text(edited, encoding="utf-8")
        os.replace(tmp, parent_file)
