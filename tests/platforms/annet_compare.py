"""annet (Yandex's network automation, PyPI `annet`) as a second opinion on pesdc's
remediation (issue 15, point 4).

For every example vendor device (topologies/) whose vendor annet has a rulebook for,
two (running -> intended) pairs are diffed twice: by pesdc (the kind's one remediation,
``Kind.remediation``, which `render --against` and `net plan` both use) and by annet's
own library (``tabparser.parse_to_tree`` with the vendor's formatter, the implicit
defaults annet adds on deploy, ``patching.make_diff`` / ``make_pre`` / ``make_patch``
with the vendor's .rul/.order rulebooks: what `annet patch` prints).

- *factory*: the kind's factory configuration (tests/render/fixtures/vendor/running/),
- *drifted*: the intended configuration with three hand-made drifts: a line removed from
  a section, a value changed (an interface description), a negated default switched back
  on (`undo telnet server enable` -> `telnet server enable`).

The two patches are compared as commands (a command is its section path plus its line;
exit lines are not commands): commands only pesdc sends, commands only annet sends, and
common commands sent in another order (those outside the longest common sequence).
Every difference is classified by the first rule of ``annet_explanations.yaml`` that
matches it; a difference no rule explains is ``UNEXPLAINED``. The result per device and
case is ``annet_expected.yaml``, written by ``scripts/annet-compare.py --regen``.

Everything follows the registry: the devices are the examples' vendor devices, their
family and kind come from ``family_of`` / ``kind_of``, annet's vendor from the platform
value's vendor prefix. Nothing is listed here by family.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from pesdc.model import validate
from pesdc.platforms import family_of, kind_of
from pesdc.render import render_tree

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "topologies"
RUNNING = ROOT / "tests" / "render" / "fixtures" / "vendor" / "running"
HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "annet_expected.yaml"
EXPLANATIONS = HERE / "annet_explanations.yaml"
UNEXPLAINED = "UNEXPLAINED"
CASES = ("factory", "drifted")

# The vendor prefix of a topology's platform value (`huawei_vrp`, `h3c_comware`, ...)
# -> annet's vendor name (annet/vendors/library).
ANNET_VENDORS = {"huawei": "huawei", "h3c": "h3c", "cisco": "cisco"}
# How annet's device database (annet/annlib/netdev/devdb/data/devdb.json) spells a
# model pesdc's topologies spell otherwise: it knows the NE40E as `NE40E`.
MODEL_ALIASES = ((re.compile(r"\bNetEngine\s+(\d)"), r"NE\1"),)
EXITS = frozenset({"quit", "exit", "return", "end"})
# A changed value: the drift writes this description, which no template renders.
DRIFT_DESCRIPTION = "description changed by hand"


# ------------------------------------------------------------------- annet's patch


@cache
def _annet() -> Any:
    """annet's modules, its connectors set as its own command line sets them (the
    library leaves the rulebook and hardware providers to the caller)."""
    from annet import hardware, implicit, patching, rulebook
    from annet.api import patch_from_pre
    from annet.vendors import registry_connector, tabparser

    for connector, cls in ((rulebook.rulebook_provider_connector,
                            rulebook.DefaultRulebookProvider),
                           (hardware.hardware_connector, hardware.AnnetHardwareProvider)):
        if connector.is_default():
            connector.set(cls)

    return SimpleNamespace(implicit=implicit, patching=patching, rulebook=rulebook,
                           patch_from_pre=patch_from_pre, registry=registry_connector.get(),
                           tabparser=tabparser)


def annet_version() -> str:
    return version("annet")


def annet_model(platform_value: str, model: str) -> str | None:
    """The hardware model annet is told (`Huawei CE12804`); None: annet has no rulebook
    for the platform's vendor."""
    vendor = ANNET_VENDORS.get(platform_value.split("_", 1)[0])
    if vendor is None:
        return None
    for rx, repl in MODEL_ALIASES:
        model = rx.sub(repl, model)
    return f"{_annet().registry[vendor].hardware.model} {model}"


def annet_hw_name(hw_model: str) -> str:
    """The most specific hardware class annet reads in the model (`Huawei.CE.CE12800`)."""
    from annet.annlib.netdev.views.hardware import HardwareView
    return str(HardwareView(hw_model, ""))


@dataclass(frozen=True)
class _AnnetDevice:
    """What annet's implicit-config rules read of a device: its hardware."""

    hw: Any


def annet_patch(hw_model: str, running: str, intended: str) -> tuple[list[str], str]:
    """annet's patch from ``running`` to ``intended``, as `annet patch` prints it (one
    space a level, the vendor's exit command closing each section), and how it was made:
    with annet's implicit defaults (what `annet deploy` adds to both configurations),
    or, where annet itself fails on them, without (the note says annet's error)."""
    try:
        return _annet_patch(hw_model, running, intended, implicit=True), "implicit defaults"
    except AssertionError as exc:
        note = f"without implicit defaults (with them annet fails: {exc})"
        return _annet_patch(hw_model, running, intended, implicit=False), note


def _annet_patch(hw_model: str, running: str, intended: str, implicit: bool) -> list[str]:
    from annet.annlib.netdev.views.hardware import HardwareView
    a = _annet()
    hw = HardwareView(hw_model, "")
    rb = a.rulebook.get_rulebook(hw)
    fmtr = a.registry.match(hw).make_formatter(indent=" ")
    implicit_rules = a.implicit.compile_rules(_AnnetDevice(hw))
    trees = []
    for text in (running, intended):
        tree = a.tabparser.parse_to_tree(text, fmtr.split)
        if implicit:
            tree = _merged(tree, a.implicit.config(tree, implicit_rules))
        trees.append(tree)
    diff = a.patching.strip_unchanged(a.patching.make_diff(trees[0], trees[1], rb, []))
    patch = a.patch_from_pre(a.patching.make_pre(diff), hw, rb, add_comments=False)
    return [ln for ln in fmtr.patch(patch).splitlines() if ln.strip()]


def _merged(tree: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """annet.gen's merge of the implicit configuration into a parsed one."""
    from annet.lib import merge_dicts
    return merge_dicts(tree, extra)  # type: ignore[no-any-return]


# ------------------------------------------------------------------- the devices


@dataclass(frozen=True)
class Device:
    name: str  # center/device
    platform: str
    model: str
    family: str
    kind: str
    intended: str

    @property
    def hw_model(self) -> str:
        hw = annet_model(self.platform, self.model)
        assert hw is not None
        return hw


@cache
def devices() -> dict[str, Device]:
    """Every example device annet has a rulebook for, by `center/device`."""
    loaded = validate([EXAMPLES])
    assert not loaded.report.errors, [d.format() for d in loaded.report.errors]
    topo = loaded.topology
    out: dict[str, Device] = {}
    files = render_tree(topo, parts=("devices",)).files
    for dc in topo.datacenters.values():
        for dev in dc.devices:
            if annet_model(dev.platform.value, dev.model) is None:
                continue
            kind = kind_of(dev)
            text = files.get(f"devices/{dc.name}/{dev.name}/{kind.config_file}")
            if text is None:
                continue
            out[f"{dc.name}/{dev.name}"] = Device(
                f"{dc.name}/{dev.name}", dev.platform.value, dev.model,
                family_of(dev.platform.value, dev.model), kind.name, text)
    return dict(sorted(out.items()))


def factory_file(device: Device) -> Path | None:
    """The factory configuration of the device's kind, else of its family, else of its
    platform value (a family split from it shares its factory file until it has one)."""
    for name in (device.kind, device.family, device.platform):
        path = RUNNING / f"{name}.cfg"
        if path.is_file():
            return path
    return None


def pesdc_remediation(device: Device, running: str, intended: str) -> list[str]:
    from pesdc.platforms import kinds
    kind = kinds()[device.kind]
    assert kind.config_file is not None
    return kind.remediation(kind.config_file, running, intended)


# ------------------------------------------------------------------- the drift


def _sections(lines: list[str]) -> Iterator[tuple[int, list[int]]]:
    """(header index, child indexes) for each top-level section."""
    for i, line in enumerate(lines):
        if not line.strip() or line.startswith((" ", "#", "!")):
            continue
        kids = []
        for j in range(i + 1, len(lines)):
            if not lines[j].startswith(" "):
                break
            kids.append(j)
        if kids:
            yield i, kids


def _negation(device: Device) -> str:
    return "no" if device.platform.startswith("cisco") else "undo"


def drift(device: Device) -> tuple[str, list[str]]:
    """The intended configuration as a device would show it after three changes by
    hand, and what they were. Deterministic: the first place each change fits."""
    lines = device.intended.splitlines()
    done = [_remove_a_line(lines), _change_a_value(lines), _switch_a_default_on(device, lines)]
    return "\n".join(lines) + "\n", [d for d in done if d]


_SECRET = re.compile(r"%%PESDC_SECRET:")


def _remove_a_line(lines: list[str]) -> str:
    """The last line of the first section of two or more plain lines, removed."""
    for i, kids in _sections(lines):
        if len(kids) >= 2 and not lines[i].startswith("banner"):
            victim = kids[-1]
            if not _SECRET.search(lines[victim]) and not lines[victim].startswith("  "):
                done = f"removed: {lines[i].strip()} > {lines[victim].strip()}"
                del lines[victim]
                return done
    return ""


def _change_a_value(lines: list[str]) -> str:
    """An interface description rewritten; else the first number ending a section's
    line (a timeout, a length) doubled."""
    for i, kids in _sections(lines):
        hit = [j for j in kids if lines[j].strip().startswith("description ")]
        if lines[i].startswith("interface") and hit:
            j = hit[0]
            done = f"changed: {lines[i].strip()} > {lines[j].strip()} -> {DRIFT_DESCRIPTION}"
            lines[j] = lines[j][:len(lines[j]) - len(lines[j].lstrip())] + DRIFT_DESCRIPTION
            return done
    for i, kids in _sections(lines):
        for j in kids:
            m = re.search(r"(?<=\s)(\d+)$", lines[j])
            if m and not _SECRET.search(lines[j]):
                new = lines[j][:m.start()] + str(int(m.group(1)) * 2 + 1)
                done = f"changed: {lines[i].strip()} > {lines[j].strip()} -> {new.strip()}"
                lines[j] = new
                return done
    return ""


# Factory lines that are the device's own facts, not a setting someone could re-add.
_DEVICE_FACT = re.compile(r"(sysname|hostname|version|return|end|Building|Current|"
                          r"snmp-agent local-engineid|snmp-agent$)")


def _switch_a_default_on(device: Device, lines: list[str]) -> str:
    """The first disabled default (a top-level `undo X`/`no X`) displayed as `X`; else
    the first plain top-level line of the factory configuration the intended one lacks
    (a factory setting back)."""
    neg = _negation(device) + " "
    for i, line in enumerate(lines):
        if line.startswith(neg):
            lines[i] = line[len(neg):]
            return f"switched on: {line.strip()} -> {lines[i].strip()}"
    path = factory_file(device)
    factory = path.read_text(encoding="utf-8").splitlines() if path else []
    have = {ln.strip() for ln in lines}
    for j, line in enumerate(factory):
        nxt = factory[j + 1] if j + 1 < len(factory) else ""
        plain = line.strip() and not line.startswith((" ", "#", "!")) \
            and not nxt.startswith(" ") and not _DEVICE_FACT.match(line)
        if plain and line.strip() not in have:
            at = len(lines)  # before the trailer (`return`, `end`), which ends the text
            while at and lines[at - 1].strip() in EXITS | {"", "#", "!"}:
                at -= 1
            lines.insert(at, line.strip())
            return f"added: {line.strip()} (a factory line)"
    return ""


# ------------------------------------------------------------------- the comparison


Command = tuple[str, ...]


def commands(patch: Iterable[str]) -> list[Command]:
    """A patch's commands in the order they are sent: each line with the section lines
    it is typed under (by indentation); exit lines are not commands."""
    out: list[Command] = []
    stack: list[tuple[int, str]] = []
    for raw in (ln for item in patch for ln in item.splitlines()):  # a banner: lines
        line = raw.rstrip()
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if line.strip() in EXITS:
            continue
        out.append((*(t for _, t in stack), line.strip()))
        stack.append((depth, line.strip()))
    return out


def differences(pesdc: list[str], annet: list[str]) -> list[str]:
    """What one patch sends and the other does not, and common commands in another
    order, each as `<what>: section > ... > line`."""
    mine, theirs = commands(pesdc), commands(annet)
    mine_set, theirs_set = set(mine), set(theirs)
    out = [f"pesdc-only: {_show(c)}" for c in mine if c not in theirs_set]
    out += [f"annet-only: {_show(c)}" for c in theirs if c not in mine_set]
    out += [f"order: {_show(c)}" for c in _moved(mine, theirs)]
    return out


def _moved(mine: list[Command], theirs: list[Command]) -> list[Command]:
    """The common commands pesdc sends in another place than annet among their
    siblings (the commands of the same section): those outside the longest common
    sequence of each section's common children. A moved section is one difference,
    its children are compared among themselves."""
    common = set(mine) & set(theirs)
    out: list[Command] = []
    parents = sorted({c[:-1] for c in common}, key=lambda p: (len(p), p))
    for parent in parents:
        a = [c for c in mine if c in common and c[:-1] == parent]
        b = [c for c in theirs if c in common and c[:-1] == parent]
        sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
        kept = {i for blk in sm.get_matching_blocks() for i in range(blk.a, blk.a + blk.size)}
        out += [c for i, c in enumerate(a) if i not in kept]
    return out


def _show(command: Command) -> str:
    return " > ".join(command)


# ------------------------------------------------------------------- explanations


@dataclass(frozen=True)
class Rule:
    id: str
    what: re.Pattern[str]  # of pesdc-only, annet-only, order
    match: re.Pattern[str]  # searched in the difference's command
    families: re.Pattern[str] | None
    verdict: str
    why: str

    def explains(self, family: str, difference: str) -> bool:
        what, _, command = difference.partition(": ")
        return (bool(self.what.fullmatch(what)) and bool(self.match.search(command))
                and (self.families is None or bool(self.families.fullmatch(family))))


@cache
def rules() -> tuple[Rule, ...]:
    data = yaml.safe_load(EXPLANATIONS.read_text(encoding="utf-8"))
    out = []
    for item in data["rules"]:
        fam = item.get("families")
        out.append(Rule(item["id"], re.compile(item["what"]), re.compile(item["match"]),
                        re.compile(fam) if fam else None, item["verdict"],
                        " ".join(item["why"].split())))
    ids = [r.id for r in out]
    dup = {i for i in ids if ids.count(i) > 1}
    assert not dup, f"{EXPLANATIONS}: rule ids used twice: {sorted(dup)}"
    return tuple(out)


def classify(family: str, diffs: list[str]) -> dict[str, list[str]]:
    """rule id -> the differences it explains (UNEXPLAINED: those none explains)."""
    out: dict[str, list[str]] = {}
    for d in diffs:
        rule = next((r.id for r in rules() if r.explains(family, d)), UNEXPLAINED)
        out.setdefault(rule, []).append(d)
    return out


@dataclass
class CaseResult:
    running: str  # where the running configuration came from
    annet: str  # how annet's patch was made (with its implicit defaults or not)
    patches: dict[str, list[str]] = field(default_factory=dict)
    differences: dict[str, list[str]] = field(default_factory=dict)

    def as_data(self) -> dict[str, Any]:
        return {"running": self.running, "annet": self.annet,
                "differences": self.differences}


def compare(device: Device, case: str) -> CaseResult | None:
    """The two patches of one case and their classified differences; None: the case
    has no running configuration for this device (no factory file)."""
    if case == "factory":
        path = factory_file(device)
        if path is None:
            return None
        running, where = path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))
    else:
        running, done = drift(device)
        where = "; ".join(done) or "no drift applies"
    mine = pesdc_remediation(device, running, device.intended)
    theirs, how = annet_patch(device.hw_model, running, device.intended)
    result = CaseResult(where, how, {"pesdc": mine, "annet": theirs})
    result.differences = classify(device.family, differences(mine, theirs))
    return result


def device_data(device: Device) -> dict[str, Any]:
    out: dict[str, Any] = {"family": device.family, "kind": device.kind,
                           "annet_hw": f"{device.hw_model} ({annet_hw_name(device.hw_model)})"}
    for case in CASES:
        res = compare(device, case)
        out[case] = None if res is None else res.as_data()
    return out


def expected() -> dict[str, Any]:
    return yaml.safe_load(EXPECTED.read_text(encoding="utf-8"))


def generate() -> dict[str, Any]:
    return {"annet": annet_version(),
            "devices": {name: device_data(dev) for name, dev in devices().items()}}


def summary(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per family: devices, cases compared, differences per verdict and per rule."""
    verdicts = {r.id: r.verdict for r in rules()}
    out: dict[str, dict[str, Any]] = {}
    for dev in data["devices"].values():
        fam = out.setdefault(dev["family"], {"devices": 0, "cases": 0, "differences": 0,
                                             "verdicts": {}, "rules": {}})
        fam["devices"] += 1
        for case in CASES:
            if dev[case] is None:
                continue
            fam["cases"] += 1
            for rule, diffs in dev[case]["differences"].items():
                fam["differences"] += len(diffs)
                v = verdicts.get(rule, UNEXPLAINED)
                fam["verdicts"][v] = fam["verdicts"].get(v, 0) + len(diffs)
                fam["rules"][rule] = fam["rules"].get(rule, 0) + len(diffs)
    return out


HEADER = """\
# annet's second opinion on pesdc's remediation, per example device and case: the
# differences between pesdc's remediation and annet's patch, by the rule of
# annet_explanations.yaml that explains them (UNEXPLAINED: none does).
# GENERATED by `scripts/annet-compare.py --regen`; review its diff. Read by
# tests/platforms/test_annet_remediation.py.
"""


def write_expected(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=4096)
    EXPECTED.write_text(HEADER + text, encoding="utf-8")
