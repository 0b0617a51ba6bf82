"""The cache of parsed files (pesdc.model.parsecache): used when the bytes, the pesdc
version and the cache format are the same, and never otherwise; a damaged or planted
entry is parsed again, silently, and runs nothing; cached and uncached runs report the
same, errors and their lines included.

tests/conftest.py gives every test its own XDG_CACHE_HOME, so nothing here sees another
test's entries.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pesdc
from pesdc.model import parsecache, validate

ROOT = Path(__file__).resolve().parents[2]
CITY = ROOT / "topologies"
NONCOMPLIANT = ROOT / "topologies-noncompliant"


def entries() -> set[str]:
    d = parsecache.folder()
    return {p.name for p in d.iterdir() if not p.name.startswith(".")} if d.is_dir() else set()


def report(paths: list[Path]) -> list[tuple[str, str, int, int, str, str]]:
    r = validate(paths).report
    return [(d.rule, d.file, d.line, d.column, str(d.severity), d.message)
            for d in r.diagnostics]


def yaml_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.yaml"))


def test_the_cache_lives_under_xdg_cache_home(tmp_path: Path) -> None:
    assert parsecache.folder().is_relative_to(Path(os.environ["XDG_CACHE_HOME"]))
    assert not entries()


def test_second_run_reads_entries_and_reports_the_same() -> None:
    first = report([CITY])
    stored = entries()
    assert stored == {parsecache.key(f.read_bytes()) for f in yaml_files(CITY)}
    mtimes = {n: (parsecache.folder() / n).stat().st_mtime_ns for n in stored}
    assert report([CITY]) == first
    assert entries() == stored  # nothing parsed again, nothing rewritten
    assert {n: (parsecache.folder() / n).stat().st_mtime_ns for n in stored} == mtimes


def broken_copy(tmp_path: Path) -> Path:
    """The example city with errors put in: a subnet that is none, a stage out of range."""
    tree = tmp_path / "broken"
    shutil.copytree(CITY, tree)
    edited = 0
    for f in yaml_files(tree):
        text = f.read_text()
        new = re.sub(r"subnet: 10\.(\d+)\.", r"subnet: 10.9\1.", text, count=1)
        new = new.replace("stage: 2", "stage: 9", 1)
        if new != text:
            f.write_text(new)
            edited += 1
    assert edited
    return tree


def test_errors_and_their_lines_are_the_same_cached_and_not(tmp_path: Path) -> None:
    tree = broken_copy(tmp_path)
    uncached = subprocess.run(
        [sys.executable, "-m", "pesdc", "validate", "--no-cache", str(tree)],
        capture_output=True, text=True, env={**os.environ}, cwd=tmp_path)
    assert not entries()  # --no-cache writes nothing
    first = report([tree])
    assert entries()
    second = report([tree])
    assert first == second
    assert any(r[0] != "YAML001" and r[2] > 0 and r[4] == "error" for r in first), first
    cached = subprocess.run([sys.executable, "-m", "pesdc", "validate", str(tree)],
                            capture_output=True, text=True, env={**os.environ}, cwd=tmp_path)
    assert uncached.returncode == cached.returncode == 1
    assert uncached.stderr == cached.stderr and uncached.stdout == cached.stdout


def test_one_byte_edited_is_parsed_again(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    shutil.copytree(CITY, tree)
    report([tree])
    before = entries()
    f = next(p for p in yaml_files(tree) if b"stage: 2" in p.read_bytes())
    f.write_bytes(f.read_bytes().replace(b"stage: 2", b"stage: 9", 1))
    after = report([tree])
    assert entries() - before == {parsecache.key(f.read_bytes())}
    assert any("stage" in r[5] or r[0] == "SCH002" for r in after), after  # the edit is seen


def test_another_pesdc_version_parses_again(monkeypatch: pytest.MonkeyPatch) -> None:
    report([CITY])
    before = entries()
    monkeypatch.setattr(pesdc, "__version__", pesdc.__version__ + ".post1")
    report([CITY])
    assert entries() - before == {parsecache.key(f.read_bytes()) for f in yaml_files(CITY)}


def test_a_corrupt_entry_is_parsed_again_silently() -> None:
    from pesdc.model import modelcache

    first = report([CITY])
    for name in entries():
        (parsecache.folder() / name).write_bytes(b"\x80\x05not a pickle")
    # Without their validated models, the center files' parsed data is read back too (a
    # center whose model is cached is not parsed: pesdc.model.filefacts).
    shutil.rmtree(modelcache.folder())
    assert report([CITY]) == first
    for name in entries():  # replaced by good entries
        ok, data = parsecache.get_entry(parsecache.folder() / name)
        assert ok and isinstance(data, dict)


def test_a_planted_entry_runs_nothing(tmp_path: Path) -> None:
    f = yaml_files(CITY)[0]
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    parsecache.folder().mkdir(parents=True, exist_ok=True)
    (parsecache.folder() / parsecache.key(f.read_bytes())).write_bytes(pickle.dumps(Evil()))
    assert parsecache.get(f.read_bytes()) == (False, None)
    report([CITY])
    assert not marker.exists()


def test_no_cache_env_reads_and_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(parsecache.ENV_OFF, "1")
    report([CITY])
    assert not entries()
