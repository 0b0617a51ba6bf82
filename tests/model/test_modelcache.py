"""The cache of validated data centers (pesdc.model.modelcache): a center file is
validated again when its bytes, a defaults file applied to it, or the code of pesdc's
model and rules packages changed, and never otherwise; a damaged or planted entry is
validated again, silently, and runs nothing; cached and uncached runs give the same
models (stamps included) and the same report (errors and their lines included).

Which files were validated is seen by wrapping the loader's own validation step (it
still runs); tests/conftest.py gives every test its own XDG_CACHE_HOME.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest

from pesdc.model import loader, modelcache, parsecache, validate
from pesdc.model.schema import Strict

ROOT = Path(__file__).resolve().parents[2]
CITY = ROOT / "topologies"
NONCOMPLIANT = ROOT / "topologies-noncompliant"


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The display names of the center files the loader validated (not from cache)."""
    seen: list[str] = []
    real = loader._validate_dc

    def spy(src: Any, *args: Any) -> Any:
        seen.append(src.path.name)
        return real(src, *args)

    monkeypatch.setattr(loader, "_validate_dc", spy)
    return seen


def entries() -> set[str]:
    d = modelcache.folder()
    return {p.name for p in d.iterdir() if not p.name.startswith(".")} if d.is_dir() else set()


def walk(obj: Any, out: list[Any]) -> list[Any]:
    """Every model object's class, stamp and private state, depth first."""
    if isinstance(obj, Strict):
        out.append((type(obj).__name__, obj._src, obj.__pydantic_private__,
                    sorted(obj.model_fields_set)))
        for value in obj.__dict__.values():
            walk(value, out)
    elif isinstance(obj, list):
        for v in obj:
            walk(v, out)
    return out


def outcome(paths: list[Path]) -> tuple[Any, ...]:
    r = validate(paths)
    diags = [(d.rule, d.file, d.line, d.column, str(d.severity), d.message, d.path)
             for d in r.report.diagnostics]
    topo = r.topology
    models = {name: (dc.model_dump(), walk(dc, [])) for name, dc in topo.datacenters.items()}
    return (diags, models, topo.invalid_items, sorted(topo.invalid_datacenters),
            r.defaults_applied)


def centers(root: Path) -> set[str]:
    return {p.name for p in root.rglob("*.yaml") if b"datacenter:" in p.read_bytes()}


def test_the_cache_lives_under_xdg_cache_home() -> None:
    assert modelcache.folder().is_relative_to(Path(os.environ["XDG_CACHE_HOME"]))
    assert not entries()


def test_second_run_validates_nothing_and_gives_the_same(validated: list[str]) -> None:
    first = outcome([CITY])
    assert set(validated) == centers(CITY)
    stored = entries()
    assert len(stored) == len(centers(CITY))
    validated.clear()
    assert outcome([CITY]) == first
    assert validated == []
    assert entries() == stored


def test_same_as_uncached(monkeypatch: pytest.MonkeyPatch) -> None:
    outcome([CITY])
    cached = outcome([CITY])
    monkeypatch.setenv(parsecache.ENV_OFF, "1")
    assert outcome([CITY]) == cached


def test_edit_one_file_validates_that_file_only(tmp_path: Path, validated: list[str]) -> None:
    tree = tmp_path / "t"
    shutil.copytree(CITY, tree)
    outcome([tree])
    f = sorted(p for p in tree.rglob("*.yaml") if p.name in centers(tree))[-1]
    f.write_bytes(f.read_bytes() + b"# edited\n")
    validated.clear()
    edited = outcome([tree])
    assert validated == [f.name]
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv(parsecache.ENV_OFF, "1")
    try:
        assert outcome([tree]) == edited
    finally:
        monkeypatch.undo()


def test_edit_a_defaults_file_validates_its_dependents(tmp_path: Path,
                                                       validated: list[str]) -> None:
    tree = tmp_path / "t"
    shutil.copytree(CITY, tree)
    outcome([tree])
    top = tree / "defaults.yaml"
    top.write_bytes(top.read_bytes() + b"# edited\n")
    validated.clear()
    outcome([tree])
    assert sorted(validated) == sorted(centers(tree))  # the tree's defaults: every center
    inner = sorted(p for p in tree.rglob("defaults.yaml") if p != top)
    if inner:  # a folder's defaults: the centers in and below that folder only
        d = inner[0]
        d.write_bytes(d.read_bytes() + b"# edited\n")
        validated.clear()
        outcome([tree])
        assert sorted(validated) == sorted(centers(d.parent))


def test_a_code_change_validates_everything(monkeypatch: pytest.MonkeyPatch,
                                            validated: list[str]) -> None:
    first = outcome([CITY])
    validated.clear()
    monkeypatch.setattr(modelcache, "code_digest", lambda: "another pesdc")
    assert outcome([CITY]) == first
    assert set(validated) == centers(CITY)


def test_the_code_digest_covers_model_and_rules_sources() -> None:
    import hashlib

    import pesdc

    root = Path(pesdc.__file__).resolve().parent
    h = hashlib.sha256()
    for pkg in ("model", "rules"):
        for f in sorted((root / pkg).glob("*.py")):
            h.update(f"{pkg}/{f.name}\n".encode() + f.read_bytes() + b"\n")
    assert modelcache.code_digest() == h.hexdigest()


def test_a_corrupt_entry_is_validated_again_silently(validated: list[str]) -> None:
    first = outcome([CITY])
    for name in entries():
        (modelcache.folder() / name).write_bytes(b"\x80\x05not a pickle")
    validated.clear()
    assert outcome([CITY]) == first
    assert set(validated) == centers(CITY)
    for name in entries():  # replaced by good entries
        assert modelcache.get(name) is not None


def test_a_planted_entry_runs_nothing(tmp_path: Path, validated: list[str]) -> None:
    first = outcome([CITY])
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    for name in entries():
        (modelcache.folder() / name).write_bytes(pickle.dumps(Evil()))
        assert modelcache.get(name) is None
    validated.clear()
    assert outcome([CITY]) == first
    assert not marker.exists()
    assert set(validated) == centers(CITY)


def test_an_entry_of_another_type_is_not_used() -> None:
    outcome([CITY])
    name = sorted(entries())[0]
    (modelcache.folder() / name).write_bytes(pickle.dumps({"name": "x"}))
    assert modelcache.get(name) is None


def test_a_file_with_a_schema_problem_is_never_stored(
        tmp_path: Path, validated: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "t"
    shutil.copytree(CITY, tree)
    f = next(p for p in sorted(tree.rglob("*.yaml")) if b"stage: 2" in p.read_bytes())
    f.write_bytes(f.read_bytes().replace(b"stage: 2", b"stage: 9", 1))
    first = outcome([tree])
    assert any(d[0] == "SCH002" and d[1].endswith(f.name) for d in first[0]), first[0]
    validated.clear()
    assert outcome([tree]) == first
    assert validated == [f.name]  # the others came from the cache
    monkeypatch.setenv(parsecache.ENV_OFF, "1")
    assert outcome([tree]) == first


def test_the_noncompliant_tree_reports_the_same_cached(
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = outcome([NONCOMPLIANT])
    assert first[0], "the noncompliant tree reports problems"
    assert outcome([NONCOMPLIANT]) == first
    monkeypatch.setenv(parsecache.ENV_OFF, "1")
    assert outcome([NONCOMPLIANT]) == first


def test_no_cache_reads_and_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(parsecache.ENV_OFF, "1")
    outcome([CITY])
    assert not entries()


def test_an_entry_rebuilding_something_else_is_not_used() -> None:
    """An entry's objects are made by modelcache._rebuild, for topology models only."""
    outcome([CITY])
    name = sorted(entries())[0]

    class Planted:
        def __reduce__(self) -> tuple[object, tuple[Any, ...]]:
            return (modelcache._rebuild, (dict, {}, set(), None))

    (modelcache.folder() / name).write_bytes(pickle.dumps(Planted()))
    assert modelcache.get(name) is None


def lazy_outcome(paths: list[Path]) -> tuple[tuple[Any, ...], list[Any]]:
    """``outcome`` of a run under ``modelcache.lazily()`` (as ``pesdc validate`` loads),
    with the centers whose fields the run left unread, before ``outcome`` reads them."""
    with modelcache.lazily():
        r = validate(paths)
    unread = [dc for dc in r.topology.datacenters.values()
              if not all(k in dc.__dict__ for k in modelcache.LAZY_FIELDS)]
    names = [dc.name for dc in unread]
    for dc in unread:
        dc.zones  # noqa: B018 - read as a rule reads: the rest comes in (model_dump does not)
    diags = [(d.rule, d.file, d.line, d.column, str(d.severity), d.message, d.path)
             for d in r.report.diagnostics]
    topo = r.topology
    models = {name: (dc.model_dump(), walk(dc, [])) for name, dc in topo.datacenters.items()}
    return (diags, models, topo.invalid_items, sorted(topo.invalid_datacenters),
            r.defaults_applied), names


def test_lazily_an_unchanged_tree_reads_no_center_whole_and_reports_the_same() -> None:
    first = outcome([CITY])
    got, unread = lazy_outcome([CITY])
    # every center came from the cache, its rules' problems too: only the ones the rules
    # of the whole tree read (off-site copies, flows to other centers) were read whole
    assert unread and set(unread) < set(first[1])
    # read when wanted: the same models and report
    assert got == first


def test_lazily_a_center_judged_again_is_read_whole(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    shutil.copytree(CITY, tree)
    outcome([tree])
    # a division code is a fact every center's rules read: all are judged again
    f = next(p for p in sorted(tree.rglob("*.yaml")) if b"tier: province" in p.read_bytes())
    text = f.read_text()
    code = text.split('division_code: "')[1].split('"')[0]
    f.write_text(text.replace(f'division_code: "{code}"', 'division_code: "990000"', 1))
    got, unread = lazy_outcome([tree])
    assert unread == []
    os.environ[parsecache.ENV_OFF] = "1"
    try:
        assert outcome([tree]) == got
    finally:
        del os.environ[parsecache.ENV_OFF]


def test_a_damaged_unread_part_is_a_miss() -> None:
    outcome([CITY])
    for name in entries():
        blob = bytearray((modelcache.folder() / name).read_bytes())
        blob[-40] ^= 0xFF  # inside the fields read later
        (modelcache.folder() / name).write_bytes(bytes(blob))
        with modelcache.lazily():
            assert modelcache.get(name) is None


def test_an_object_in_both_parts_is_one_object_again() -> None:
    outcome([CITY])
    name = sorted(entries())[0]
    dc = modelcache.get(name)
    assert dc is not None
    dc.__dict__["links"] = dc.__dict__["devices"]  # one list in both parts
    modelcache.put(name, dc)
    with modelcache.lazily():
        again = modelcache.get(name)
    assert again is not None
    assert "links" not in again.__dict__  # the second part is not read yet
    assert again.links is again.devices
    assert again.links == dc.devices


def test_lazily_an_edit_of_a_field_read_later_is_seen(tmp_path: Path) -> None:
    """A segment (of the part read when wanted) edited to overlap another: ADDR001 says
    so, as an uncached run does, with the unchanged centers' parts left unread."""
    tree = tmp_path / "t"
    shutil.copytree(CITY, tree)
    outcome([tree])
    f = tree / "ministry" / "mohrss.yaml"
    f.write_text(f.read_text().replace("subnet: 10.0.20.0/24, gateway: 10.0.20.1",
                                       "subnet: 10.0.30.0/24, gateway: 10.0.30.1", 1))
    got, _ = lazy_outcome([tree])
    assert any(d[0] == "ADDR001" for d in got[0]), got[0]
    os.environ[parsecache.ENV_OFF] = "1"
    try:
        assert outcome([tree]) == got
    finally:
        del os.environ[parsecache.ENV_OFF]
