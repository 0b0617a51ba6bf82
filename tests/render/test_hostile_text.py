"""Topology text is data: hostile strings in every string field of an example center.

The string fields are derived from the schema itself (every field whose type admits a
``str``, in every model reachable from ``DataCenter``), so a field added later is fuzzed
without anyone adding it here. Two tests:

- every string field of every model refuses a line feed (exhaustive, model level);
- hypothesis puts hostile text (newlines, quotes, braces, ``#``, ``!``, ``;``, ``$( )``,
  backticks, ANSI escapes, 10 kB strings, non-BMP characters) into one field of Jinan at a
  time, through its YAML file, and asserts that ``validate`` rejects it with file and
  line, or that render refuses it naming the device or server (RENDER004/005), or that
  every rendered file keeps its line structure and every firewall and gatekeeper still
  permits exactly the normalised policy (read back from the rendered text).
"""

from __future__ import annotations

import enum
import os
import shutil
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from pesdc.model import validate
from pesdc.model.schema import DataCenter, Strict
from pesdc.render import render_tree
from pesdc.render.readback import read_back
from tests.conftest import FIXTURES

TREE = FIXTURES.parent.parent / "topologies"
CENTER = "jinan"
CENTER_FILE = Path("shandong") / "jinan.yaml"
MARK = "Zq"  # right after the original value: lets a changed line be traced to it


def _admits_str(annotation: Any) -> bool:
    if annotation is str:
        return True
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum | BaseModel):
        return False
    if typing.get_origin(annotation) is typing.Literal:
        return False
    return any(_admits_str(a) for a in typing.get_args(annotation))


def string_fields(model: type[BaseModel]) -> list[str]:
    return [name for name, info in model.model_fields.items()
            if _admits_str(info.annotation)]


def _is_list(model: type[BaseModel], name: str) -> bool:
    ann = model.model_fields[name].annotation
    args = [a for a in typing.get_args(ann) if a is not type(None)] or [ann]
    return any(typing.get_origin(a) is list for a in args)


def models_under(model: type[BaseModel], seen: set[type[BaseModel]] | None = None
                 ) -> set[type[BaseModel]]:
    seen = set() if seen is None else seen
    seen.add(model)

    def inner(ann: Any) -> Iterator[type[BaseModel]]:
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield ann
        for a in typing.get_args(ann):
            yield from inner(a)

    for info in model.model_fields.values():
        for sub in inner(info.annotation):
            if sub not in seen:
                models_under(sub, seen)
    return seen


def objects(obj: Strict) -> Iterator[Strict]:
    """Every model object of a loaded center, nested ones included."""
    yield obj
    for value in obj.__dict__.values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, Strict):
                yield from objects(item)


@pytest.fixture(scope="module")
def baseline() -> Any:
    result = validate([TREE])
    assert result.report.ok, [d.format() for d in result.report.errors]
    return result


def test_every_string_field_of_every_model_refuses_a_line_feed(baseline: Any) -> None:
    """Exhaustive over the schema: each model, each string field, a line feed inside."""
    examples: dict[type[BaseModel], Strict] = {}
    # The example tree, then the vendor fixtures (static routes live only there).
    centers = list(baseline.topology.datacenters.values())
    for folder in sorted((FIXTURES.parent / "render" / "fixtures" / "vendor").iterdir()):
        if folder.name != "running":
            centers += validate([folder]).topology.datacenters.values()
    for dc in centers:
        for obj in objects(dc):
            examples.setdefault(type(obj), obj)
    checked = []
    for model in sorted(models_under(DataCenter), key=lambda m: m.__name__):
        fields = string_fields(model)
        if not fields:
            continue
        assert model in examples, f"no example center has a {model.__name__}: add one"
        data = examples[model].model_dump(mode="json")
        for name in fields:
            bad = dict(data)
            bad[name] = ["a\nb"] if _is_list(model, name) else "a\nb"
            with pytest.raises(ValidationError) as err:
                model.model_validate(bad)
            assert any(tuple(e["loc"])[:1] == (name,) for e in err.value.errors()), \
                f"{model.__name__}.{name} accepted a line feed"
            checked.append(f"{model.__name__}.{name}")
    # Named, so that the list cannot silently shrink to nothing.
    assert {"Title.en", "Device.model", "Interface.description", "Server.os_release",
            "Security.banner", "Flow.name", "Interface.name"} <= set(checked)


# --- the fuzz test ---------------------------------------------------------------------

NASTY = [
    "\n", "\r\n", "\r", "\u2028", "\u2029", "\u0085", "\x0b", "\x0c", "\t", "\x00",
    "\x1b[2J\x1b[31m", "\x7f", "\u202e", '"', "'", '" accept', "\n acl number 2000",
    "\nPermitRootLogin yes", "{", "}", "{{ 7*7 }}", "{% raw %}", "#", "!", ";", "; reboot",
    "$(id)", "`id`", "${IFS}", "&&", "|", "<script>alert(1)</script>", "?", "^C", "%",
    "\\", "*", " ", "a" * 10_000, "😀𝕏\U0010fffd", "\ud800", "\ufeff",
]
payloads = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=24),
    st.text(st.sampled_from(list("\n\"'{}#!;$()`\x1b?%^ ")), min_size=1, max_size=8),
    # Printable text a schema accepts: what render must carry or refuse by itself.
    st.text(st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=30),
)
# Free-text fields (titles, descriptions, model, release, banner) take most printable
# payloads, so render sees them: they are drawn as often as all other fields together.
FREE_TEXT = {"zh", "en", "description", "model", "os_release", "banner", "version"}


def _targets(topo: Any) -> list[tuple[tuple[Any, ...], bool]]:
    """(YAML path of a string field in the center's file, whether it is a list)."""
    out = []
    for obj in objects(topo.datacenters[CENTER]):
        file, path = obj._src
        if not file.endswith(str(CENTER_FILE)):
            continue
        for name in string_fields(type(obj)):
            is_list = _is_list(type(obj), name)
            if is_list and not getattr(obj, name):
                continue
            out.append(((*path, name), is_list))
    return sorted(out, key=repr)


def _set(data: Any, path: tuple[Any, ...], value: str, is_list: bool) -> str | None:
    """Put ``value`` at ``path`` of the raw YAML data; returns the value it replaced."""
    node = data
    for part in path[:-1]:
        node = node[part]
    key = path[-1]
    old = node.get(key)
    if is_list:
        old_list = list(old or [])
        first = str(old_list[0]) if old_list else None
        node[key] = [value, *old_list[1:]]
        return first
    node[key] = value
    return None if old is None else str(old)


def _policies(files: dict[str, str]) -> dict[str, Any]:
    """Each firewall's and gatekeeper's policy as read back from its rendered text."""
    by_device: dict[str, dict[str, str]] = {}
    for rel, text in files.items():
        parts = rel.split("/")
        if parts[0] == "devices":
            by_device.setdefault(parts[2], {})[parts[3]] = text
    return by_device


class Fuzz:
    """One copy of the tree per test run; each example rewrites the center's file."""

    def __init__(self, tmp: Path, baseline: Any):
        self.tree = tmp / "tree"
        shutil.copytree(TREE, self.tree)
        self.file = self.tree / CENTER_FILE
        self.original = self.file.read_text("utf-8")
        self.raw = yaml.safe_load(self.original)
        self.base_files = render_tree(baseline.topology, [CENTER]).files
        self.kinds = {d.name: d for d in baseline.topology.datacenters[CENTER].devices}
        self.targets = _targets(baseline.topology)
        self.cases = 0
        self.outcomes: dict[str, int] = {"rejected": 0, "render error": 0, "rendered": 0}


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory, baseline: Any) -> Fuzz:
    return Fuzz(tmp_path_factory.mktemp("hostile"), baseline)


def _policy_of(name: str, files: dict[str, str], fz: Fuzz) -> Any:
    from pesdc.kinds import kind_of
    return read_back(kind_of(fz.kinds[name]).name, files)


def _check_rendered(fz: Fuzz, files: dict[str, str], value: str) -> None:
    assert set(files) == set(fz.base_files), "the set of rendered files changed"
    for rel, text in files.items():
        old = fz.base_files[rel]
        new_lines, old_lines = text.split("\n"), old.split("\n")
        assert len(new_lines) == len(old_lines), f"{rel}: the value changed the line count"
        for new, was in zip(new_lines, old_lines, strict=True):
            # A line that changed carries the value (or its quoted/escaped form, or a
            # label pesdc derived from it): nothing else may move.
            assert new == was or MARK in new, f"{rel}: line changed without the value: " \
                                              f"{new!r} (was {was!r})"
    base_devices, new_devices = _policies(fz.base_files), _policies(files)
    for name, dev_files in new_devices.items():
        if fz.kinds[name].kind.value not in ("firewall", "gatekeeper"):
            continue
        want = _policy_of(name, base_devices[name], fz)
        got = _policy_of(name, dev_files, fz)
        assert got == want, f"{name}: the permitted policy changed"


@settings(max_examples=int(os.environ.get("PESDC_FUZZ_EXAMPLES", "120")),
          deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_text_in_any_string_field(fuzz: Fuzz, data: st.DataObject) -> None:
    fz = fuzz
    free = [t for t in fz.targets if t[0][-1] in FREE_TEXT]
    path, is_list = data.draw(st.one_of(st.sampled_from(free), st.sampled_from(fz.targets)),
                              label="field")
    payload = data.draw(payloads, label="payload")
    raw = yaml.safe_load(fz.original)
    node: Any = raw
    for part in path[:-1]:
        node = node[part]
    old = node.get(path[-1])
    orig = str(old[0] if is_list else old) if old not in (None, []) else ""
    value = f"{orig}{MARK}{payload}"
    _set(raw, path, value, is_list)
    fz.cases += 1
    try:
        fz.file.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False),
                           "utf-8")
    except UnicodeEncodeError:  # a lone surrogate: not UTF-8, cannot be in a file
        fz.outcomes["rejected"] += 1
        return
    try:
        result = validate([fz.tree])
        errors = result.report.errors
        if errors:
            fz.outcomes["rejected"] += 1
            here = [d for d in errors if d.file.endswith(str(CENTER_FILE)) and d.line > 0]
            assert here, f"{path} = {value[:80]!r}: rejected without a line in the file: " \
                         f"{[d.format() for d in errors][:3]}"
            for d in errors:
                assert "\n" not in d.message and "\x1b" not in d.message, d.message
            return
        out = render_tree(result.topology, [CENTER])
        if out.problems:
            fz.outcomes["render error"] += 1
            assert all(p.rule in ("RENDER004", "RENDER005") and p.file for p in out.problems)
            return
        fz.outcomes["rendered"] += 1
        _check_rendered(fz, out.files, value)
    finally:
        fz.file.write_text(fz.original, "utf-8")


def test_fuzz_report(fuzz: Fuzz, record_property: Any) -> None:
    """Runs after the fuzz test (file order): the cases and outcomes, for the notes."""
    record_property("hostile_cases", fuzz.cases)
    print(f"\nhostile text: {fuzz.cases} cases over {len(fuzz.targets)} fields: "
          f"{fuzz.outcomes}")
    assert fuzz.cases > 0
    assert fuzz.outcomes["rejected"] > 0 and fuzz.outcomes["rendered"] > 0

