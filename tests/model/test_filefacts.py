"""What the loader keeps of a clean file's bytes (pesdc.model.filefacts): a center file
whose validated model is cached is not parsed at all; edited bytes, a defaults file
that changed, a damaged facts entry or a file with a problem are read as before; every
run reports what an uncached run reports.

Which files were parsed is seen by wrapping the loader's parse step (it still runs);
tests/conftest.py gives every test its own XDG_CACHE_HOME.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

from pesdc.model import filefacts, loader, parsecache, validate
from tests import cachecheck

ROOT = Path(__file__).resolve().parents[2]
CITY = ROOT / "topologies"


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The display names of the files the loader parsed (from bytes or the parse cache)."""
    seen: list[str] = []
    real = loader.parse_bytes

    def spy(raw: bytes, display: str) -> Any:
        seen.append(Path(display).name)
        return real(raw, display)

    monkeypatch.setattr(loader, "parse_bytes", spy)
    return seen


def report(paths: list[Path]) -> list[tuple[Any, ...]]:
    r = validate(paths)
    return [(d.rule, d.file, d.line, d.column, d.message, d.text("zh")) for d in
            r.report.diagnostics] + [sorted(r.topology.datacenters), r.defaults_applied]


def uncached(paths: list[Path]) -> list[tuple[Any, ...]]:
    return cachecheck.uncached(report, paths)


def entries() -> set[str]:
    return cachecheck.entries(filefacts.folder())


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return cachecheck.copy_of_city(tmp_path)


def test_a_cached_center_is_not_parsed(tree: Path, parsed: list[str]) -> None:
    first = report([tree])
    assert len(entries()) == 7  # every file of the tree read cleanly
    parsed.clear()
    again = report([tree])
    assert parsed == ["defaults.yaml"]  # the tree's defaults: always read
    assert again == first == uncached([tree])


def test_an_edited_file_is_parsed_again(tree: Path, parsed: list[str]) -> None:
    report([tree])
    f = tree / "shandong/zibo.yaml"
    f.write_bytes(f.read_bytes() + b"\n# edited\n")
    parsed.clear()
    got = report([tree])
    assert sorted(parsed) == ["defaults.yaml", "zibo.yaml"]
    assert got == uncached([tree])


def test_a_defaults_edit_parses_the_centers_it_applies_to(tree: Path,
                                                         parsed: list[str]) -> None:
    report([tree])
    d = tree / "defaults.yaml"
    d.write_bytes(d.read_bytes() + b"\n# edited\n")
    parsed.clear()
    got = report([tree])
    assert len(parsed) == 7  # each center's data is needed to validate it again
    assert got == uncached([tree])


def test_a_file_with_a_problem_has_no_facts(tree: Path, parsed: list[str]) -> None:
    f = tree / "shandong/zibo.yaml"
    f.write_text(f.read_text(encoding="utf-8") + "\nsurplus: 1\n", encoding="utf-8")
    first = report([tree])
    assert any(d[0] == "SCH001" and d[1].endswith("zibo.yaml") for d in first[:-2])
    assert len(entries()) == 6
    parsed.clear()
    again = report([tree])
    assert sorted(parsed) == ["defaults.yaml", "zibo.yaml"]
    assert again == first == uncached([tree])


def test_a_damaged_or_odd_facts_entry_is_read_again(tree: Path, parsed: list[str]) -> None:
    first = report([tree])
    names = sorted(entries())
    (filefacts.folder() / names[0]).write_bytes(b"\x80\x05not a pickle")
    for n in names[1:]:
        (filefacts.folder() / n).write_bytes(pickle.dumps(("datacenter", True, None)))
    parsed.clear()
    assert report([tree]) == first
    assert len(parsed) == 7


def test_no_cache_keeps_no_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(parsecache.ENV_OFF, "1")
    report([CITY])
    assert entries() == set()


def test_a_code_change_reads_every_file_again(tree: Path, parsed: list[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from pesdc.model import modelcache

    first = report([tree])
    monkeypatch.setattr(modelcache, "code_digest", lambda: "another pesdc")
    parsed.clear()
    assert report([tree]) == first
    assert len(parsed) == 7
