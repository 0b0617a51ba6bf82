"""The rule cache (pesdc.rules.cache): a center's per-center rule problems come from its
entry only while everything they depend on is unchanged (its file, a defaults file
applied to it, the lower centers its downlinks mirror, the tree's names, tiers and
division codes, the code); otherwise the center is judged again. Every run, cached or
not, gives the problems of an uncached run: same rules, files, lines, columns,
messages (English and Chinese), hints, in the same order.

Which centers the per-center rules judged is seen by wrapping each such rule (it still
runs); tests/conftest.py gives every test its own XDG_CACHE_HOME.
"""

from __future__ import annotations

import ipaddress
import os
import pickle
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pesdc.model import parsecache, validate
from pesdc.model.diagnostics import Diagnostic, Phrase
from pesdc.rules import cache
from pesdc.rules.registry import RULES, all_rules
from tests import cachecheck

ROOT = Path(__file__).resolve().parents[2]
CITY = ROOT / "topologies"
NONCOMPLIANT = ROOT / "topologies-noncompliant"


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The names of the centers a per-center rule judged (not from the cache)."""
    seen: set[str] = set()
    all_rules()
    for rid, r in list(RULES.items()):
        if r.per_center is None:
            continue

        def spy(topo: Any, dc: Any, fn: Any = r.per_center) -> Any:
            seen.add(dc.name)
            return fn(topo, dc)

        monkeypatch.setitem(RULES, rid, replace(r, per_center=spy))
    return seen


def report(paths: list[Path]) -> list[tuple[Any, ...]]:
    return cachecheck.problems(paths)


def uncached(paths: list[Path]) -> list[tuple[Any, ...]]:
    return cachecheck.uncached(report, paths)


def entries() -> set[str]:
    return cachecheck.entries(cache.folder())


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return cachecheck.copy_of_city(tmp_path)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_second_run_judges_no_center_and_gives_the_same(judged: set[str]) -> None:
    first = report([CITY])
    assert len(judged) == 6 and len(entries()) == 6
    judged.clear()
    again = report([CITY])
    assert judged == set()
    assert again == first == uncached([CITY])


def test_problems_come_back_the_same_from_the_cache(judged: set[str]) -> None:
    first = report([NONCOMPLIANT])
    assert first and first == uncached([NONCOMPLIANT])
    judged.clear()
    assert report([NONCOMPLIANT]) == first


def test_an_edited_center_is_judged_again_alone(tree: Path, judged: set[str]) -> None:
    report([tree])
    city = tree / "shandong/zibo.yaml"
    edit(city, "\n", "\n# edited\n")
    judged.clear()
    got = report([tree])
    assert judged == {"zibo"}
    assert got == uncached([tree])


def test_a_fault_in_one_center_then_fixed(tree: Path) -> None:
    report([tree])
    city = tree / "shandong/zibo.yaml"
    good = city.read_bytes()
    edit(city, "redundancy: ", "redundancy: nosuch-")  # REF001, MLPS002
    faulty = report([tree])
    assert {"REF001"} <= {d[0] for d in faulty}
    assert faulty == uncached([tree]) == report([tree])
    city.write_bytes(good)
    assert report([tree]) == uncached([tree]) == []


def test_a_lower_centers_uplink_changes_its_upper_centers_problems(
        tree: Path, judged: set[str]) -> None:
    """The province's mirror of jinan's uplink takes jinan's addresses: the province's
    own file is unchanged, its problems (ADDR002 on the mirror) are not."""
    assert report([tree]) == []
    edit(tree / "shandong/jinan.yaml", "local_address: 10.255.0.10, peer_address: 10.255.0.9",
         "local_address: 10.255.0.10, peer_address: 10.255.1.9")
    judged.clear()
    got = report([tree])
    assert judged == {"jinan", "shandong"}
    assert got == uncached([tree])
    assert any(d[0] == "ADDR002" and d[1].endswith("shandong.yaml") for d in got), got


def test_a_parents_division_code_changes_its_cities_problems(tree: Path) -> None:
    assert report([tree]) == []
    edit(tree / "shandong/shandong.yaml", 'division_code: "370000"',
         'division_code: "380000"')
    got = report([tree])
    assert got == uncached([tree])
    assert sum(d[0] == "TREE001" for d in got) >= 3, got  # in the unchanged city files


def test_a_parents_tier_changes_its_cities_problems(tree: Path) -> None:
    assert report([tree]) == []
    edit(tree / "shandong/shandong.yaml", "tier: province", "tier: city")
    got = report([tree])
    assert got == uncached([tree])
    assert {"TREE001", "NET001"} <= {d[0] for d in got}


def test_a_deleted_file_and_a_renamed_file(tree: Path) -> None:
    report([tree])
    (tree / "shandong/shandong.yaml").unlink()  # the cities' parent is gone: REF001
    got = report([tree])
    assert got == uncached([tree])
    assert any(d[0] == "REF001" for d in got)
    shutil.copy(CITY / "shandong/shandong.yaml", tree / "shandong/shandong.yaml")
    (tree / "shandong/zibo.yaml").rename(tree / "shandong/zibo2.yaml")
    got = report([tree])
    assert got == uncached([tree])
    assert not any(d[1].endswith("zibo.yaml") for d in got)


def test_a_center_defined_twice(tree: Path) -> None:
    report([tree])
    shutil.copy(tree / "shandong/zibo.yaml", tree / "shandong/zibo-copy.yaml")
    got = report([tree])
    assert got == uncached([tree]) == report([tree])
    assert any(d[0] == "SCH004" for d in got)


def test_a_defaults_edit_is_seen(tree: Path) -> None:
    report([tree])
    text = (tree / "defaults.yaml").read_text(encoding="utf-8")
    edit(tree / "defaults.yaml", text.splitlines()[-1], text.splitlines()[-1] + "\n# edited")
    assert report([tree]) == uncached([tree]) == []


def test_a_code_change_judges_every_center(monkeypatch: pytest.MonkeyPatch,
                                           judged: set[str]) -> None:
    first = report([CITY])
    judged.clear()
    monkeypatch.setattr(cache, "code_digest", lambda: "another pesdc")
    assert report([CITY]) == first
    assert len(judged) == 6
    judged.clear()
    assert report([CITY]) == first
    assert judged == set()


def test_the_code_digest_covers_model_rules_norms_and_i18n() -> None:
    import hashlib

    import pesdc
    from pesdc.model import modelcache

    root = Path(pesdc.__file__).resolve().parent
    h = hashlib.sha256(modelcache.code_digest().encode())
    for name in ("norms.py", "i18n.py"):
        h.update(f"\n{name}\n".encode() + (root / name).read_bytes())
    h.update(b"\ncatalog zh\n" + (root / "locale/zh_CN/LC_MESSAGES/pesdc.mo").read_bytes())
    assert cache.code_digest() == h.hexdigest()


def test_a_damaged_or_planted_entry_is_judged_again_and_runs_nothing(
        tmp_path: Path, judged: set[str]) -> None:
    first = report([CITY])
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    names = sorted(entries())
    (cache.folder() / names[0]).write_bytes(b"\x80\x05not a pickle")
    (cache.folder() / names[1]).write_bytes(pickle.dumps(Evil()))
    (cache.folder() / names[2]).write_bytes(pickle.dumps({"rules": {"REF001": [1]},
                                                          "data": {}}))
    judged.clear()
    assert report([CITY]) == first
    assert not marker.exists()
    assert len(judged) == 3
    judged.clear()
    assert report([CITY]) == first  # replaced by good entries
    assert judged == set()


def test_no_cache_reads_and_writes_no_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(parsecache.ENV_OFF, "1")
    report([CITY])
    assert entries() == set()


def test_only_some_rules_store_nothing_and_read_entries(judged: set[str]) -> None:
    some = ["MLPS002", "ADDR001", "REF001"]
    validate([CITY], only=some)
    assert entries() == set()
    validate([CITY])
    assert len(entries()) == 6
    judged.clear()
    got = validate([NONCOMPLIANT], only=some).report.diagnostics
    mp = pytest.MonkeyPatch()
    mp.setenv(parsecache.ENV_OFF, "1")
    try:
        assert got == validate([NONCOMPLIANT], only=some).report.diagnostics
    finally:
        mp.undo()
    judged.clear()
    validate([CITY], only=some)
    assert judged == set()


def test_a_value_shown_as_text_comes_back_the_same_in_every_language() -> None:
    d = Diagnostic.marked("ADDR002", "address {address} of {server} is not a host address "
                          "of segment {segment} ({net})", "f.yaml", ("a", 1),
                          "pick a free host address in {net}", address="10.0.0.0",
                          server="s", segment="g", net=ipaddress.ip_network("10.0.0.0/24"))
    back = cache.decode(pickle.loads(pickle.dumps(cache.encode(d))))
    assert (back.text("en"), back.text("zh"), back.format("zh")) == \
        (d.text("en"), d.text("zh"), d.format("zh"))
    assert back.args == {**d.args, "net": "10.0.0.0/24"}
    p = Diagnostic.marked("SCH002", "{problem}{given}", "f.yaml", (), "x",
                          problem=Phrase("{text}", {"text": "bad"}), given="")
    assert cache.decode(cache.encode(p)).text("zh") == p.text("zh")


def test_a_value_shown_otherwise_is_not_stored() -> None:
    d = Diagnostic.marked("X1", "net {net!r}", "f.yaml", (), "",
                          net=ipaddress.ip_network("10.0.0.0/24"))
    with pytest.raises(cache.Uncacheable):
        cache.encode(d)
