"""`pesdc validate` end to end: exit codes, every problem at once, JSON, no tracebacks.

Each case runs through click's CliRunner (in process) and through a real subprocess
of the installed `pesdc` script. The fuzz test at the end mutates the mini city file a
few hundred times, deterministically, and checks the loader never raises.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from pesdc.cli.main import main
from pesdc.model import validate
from pesdc.model.yamlio import read_yaml
from pesdc.rules.registry import LOADER_RULES, all_rules
from tests.conftest import MINI, ROOT

PESDC = Path(sys.executable).with_name("pesdc")
if not PESDC.exists():  # pragma: no cover - a venv without the script
    PESDC = ROOT / ".venv" / "bin" / "pesdc"
LINE = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning) "
                  r"(?P<rule>[A-Z]+\d{3}): \S")
JSON_KEYS = {"file", "line", "column", "path", "rule", "severity", "message", "hint"}


class Run:
    def __init__(self, code: int, stdout: str, stderr: str):
        self.code, self.stdout, self.stderr = code, stdout, stderr

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def in_process(args: list[str], cwd: Path) -> Run:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, ["validate", *args])
    finally:
        os.chdir(old)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def subprocess_run(args: list[str], cwd: Path) -> Run:
    proc = subprocess.run([str(PESDC), "validate", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, check=False)
    return Run(proc.returncode, proc.stdout, proc.stderr)


RUNNERS: list[Callable[[list[str], Path], Run]] = [in_process, subprocess_run]
RUNNER_IDS = ["clirunner", "subprocess"]
runners = pytest.mark.parametrize("invoke", RUNNERS, ids=RUNNER_IDS)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), "utf-8")


@pytest.fixture
def broken_tree(mini_tree: Path) -> Path:
    """The mini tree with mistakes in every file, and one file that is not YAML."""
    edit(mini_tree / "city.yaml", "name: mis-1, roles: [appserver], zone: production",
         "name: mis-1, roles: [appserver], zone: prodution")  # REF001 line 51
    edit(mini_tree / "province.yaml", "gateway: 10.37.1.1", "gateway: 10.37.7.1")  # ADDR004 10
    edit(mini_tree / "hosted.yaml", "hosted_by: shandong", "hosted_by: mohrss")  # PES008 6
    edit(mini_tree / "ministry.yaml", "gateway: 10.0.2.1, vlan: 20", "gateway: 10.0.2.1, vlna: 20")
    (mini_tree / "notes.yaml").write_text("a: [1, 2\nb: 3\n", "utf-8")  # YAML001
    return mini_tree


BROKEN_EXPECTED = {
    ("city.yaml", 51, "REF001"),
    ("province.yaml", 10, "ADDR004"),
    ("hosted.yaml", 6, "PES008"),
    ("ministry.yaml", 9, "SCH001"),  # the zone is rejected, nothing cascades
}


@runners
def test_every_problem_is_printed_at_once(invoke: Callable[[list[str], Path], Run],
                                          broken_tree: Path) -> None:
    run = invoke(["."], broken_tree)
    assert run.code == 1, run.output
    assert "Traceback" not in run.output
    found = {(m["file"], int(m["line"]), m["rule"])
             for m in map(LINE.match, run.stderr.splitlines()) if m}
    assert found >= BROKEN_EXPECTED, run.output
    assert any(f == "notes.yaml" and r == "YAML001" for f, _, r in found), run.output
    assert "hint: did you mean 'vlan'?" in run.stderr
    assert re.search(r"^5 error\(s\), \d+ warning\(s\) in 5 file\(s\)", run.stderr, re.M)
    assert "ok" not in run.stdout.split()


@runners
def test_json_output(invoke: Callable[[list[str], Path], Run], broken_tree: Path) -> None:
    run = invoke(["--format", "json", "."], broken_tree)
    assert run.code == 1
    doc = json.loads(run.stdout)
    assert doc["ok"] is False and doc["errors"] == 5
    diags = doc["diagnostics"]
    assert diags and all(set(d) == JSON_KEYS for d in diags)
    assert all(d["message"] and d["hint"] and d["line"] > 0 and d["column"] > 0
               for d in diags)
    found = {(d["file"], d["line"], d["rule"]) for d in diags}
    assert found >= BROKEN_EXPECTED
    ref = next(d for d in diags if d["rule"] == "REF001")
    assert ref["path"] == "datacenter.servers[1].zone"
    assert ref["severity"] == "error" and "prodution" in ref["message"]


@runners
def test_mini_tree_exits_zero(invoke: Callable[[list[str], Path], Run]) -> None:
    run = invoke([str(MINI)], ROOT)
    assert run.code == 0, run.output
    assert run.stdout.strip() == "ok"
    assert "0 error(s), 0 warning(s) in 4 file(s), 4 data center(s)" in run.stderr
    run = invoke(["--format", "json", str(MINI)], ROOT)
    assert run.code == 0
    assert json.loads(run.stdout) == {"ok": True, "errors": 0, "warnings": 0,
                                      "diagnostics": []}


@runners
def test_warnings_alone_exit_zero(invoke: Callable[[list[str], Path], Run],
                                  mini_tree: Path) -> None:
    edit(mini_tree / "city.yaml", "misdb, primary: db-1, standby: db-2, backup_target: ntp-1",
         "misdb, primary: db-1, standby: db-2")
    run = invoke(["."], mini_tree)
    assert run.code == 0, run.output
    assert "warning MLPS002" in run.stderr


def _nested(depth: int) -> str:
    return "".join("  " * i + "a:\n" for i in range(depth)) + "  " * depth + "b: 1\n"


BAD_INPUTS: dict[str, Callable[[Path], Path]] = {}


def bad_input(fn: Callable[[Path], Path]) -> Callable[[Path], Path]:
    BAD_INPUTS[fn.__name__] = fn
    return fn


@bad_input
def random_binary(tmp: Path) -> Path:
    rng = random.Random(1)
    path = tmp / "junk.yaml"
    path.write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    return path


@bad_input
def binary_without_nul(tmp: Path) -> Path:
    rng = random.Random(2)
    path = tmp / "junk.yaml"
    path.write_bytes(bytes(rng.randrange(1, 256) for _ in range(4096)))
    return path


@bad_input
def empty_file(tmp: Path) -> Path:
    path = tmp / "empty.yaml"
    path.write_bytes(b"")
    return path


@bad_input
def only_a_comment(tmp: Path) -> Path:
    path = tmp / "comment.yaml"
    path.write_text("# nothing here\n")
    return path


@bad_input
def folder_without_yaml(tmp: Path) -> Path:
    folder = tmp / "no-yaml"
    folder.mkdir()
    (folder / "README.txt").write_text("not a topology\n")
    return folder


@bad_input
def nonexistent_path(tmp: Path) -> Path:
    return tmp / "does" / "not" / "exist.yaml"


@bad_input
def bare_scalar(tmp: Path) -> Path:
    path = tmp / "scalar.yaml"
    path.write_text("42\n")
    return path


@bad_input
def deeply_nested_flow(tmp: Path) -> Path:
    path = tmp / "deep.yaml"
    path.write_text("datacenter: " + "[" * 50_000 + "\n")
    return path


@bad_input
def deeply_nested_block(tmp: Path) -> Path:
    path = tmp / "deep.yaml"
    path.write_text(_nested(3000))
    return path


@bad_input
def nested_under_datacenter(tmp: Path) -> Path:
    path = tmp / "deep.yaml"
    path.write_text("datacenter:\n  name: x\n  zones: " + "[" * 500 + "]" * 500 + "\n"
                    "  servers: [{name: s, roles: " + "{a: " * 500 + "1" + "}" * 500 + "}]\n")
    return path


@bad_input
def random_2mb(tmp: Path) -> Path:
    path = tmp / "big.yaml"
    path.write_bytes(random.Random(3).randbytes(2 * 1024 * 1024))
    return path


@bad_input
def random_text_2mb(tmp: Path) -> Path:
    rng = random.Random(4)
    alphabet = "abcxyz019 :-[]{},'\"#&*!|>\n\t"
    path = tmp / "big.yaml"
    path.write_text("".join(rng.choice(alphabet) for _ in range(2 * 1024 * 1024)))
    return path


@bad_input
def huge_plain_mapping(tmp: Path) -> Path:
    path = tmp / "big.yaml"
    path.write_text("".join(f"k{i}: {i}\n" for i in range(20_000)))
    return path


@bad_input
def alias_bomb(tmp: Path) -> Path:
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    lines.append("datacenter: {name: x, tier: city, division_code: '370100', "
                 "title: {zh: *i, en: *i}, zones: *i, servers: *i}")
    path = tmp / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@bad_input
def not_utf8(tmp: Path) -> Path:
    path = tmp / "gbk.yaml"
    path.write_bytes("datacenter:\n  name: 济南\n".encode("gbk"))
    return path


@bad_input
def odd_keys(tmp: Path) -> Path:
    path = tmp / "odd.yaml"
    path.write_text("? [a, b]\n: 1\n1: 2\nnull: 3\ndatacenter:\n  1: x\n  [c]: y\n")
    return path


def check_bad_input_run(run: Run, name: str) -> None:
    where = f"{name}:\n{run.output[:2000]}"
    assert "Traceback" not in run.output, where
    assert run.code == 1, where
    assert LINE.match(run.stderr) or re.match(r"^\S+: error [A-Z]+\d{3}: ", run.stderr), where
    assert re.search(r"^[1-9]\d* error\(s\)", run.stderr, re.M), where


@pytest.mark.parametrize("make", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_bad_input_never_tracebacks(make: Callable[[Path], Path], tmp_path: Path) -> None:
    target = make(tmp_path)
    check_bad_input_run(in_process([str(target)], tmp_path), make.__name__)
    run = in_process(["--format", "json", str(target)], tmp_path)
    assert "Traceback" not in run.output
    assert run.code == 1
    doc = json.loads(run.stdout)
    assert doc["ok"] is False and doc["diagnostics"]
    assert all(set(d) == JSON_KEYS and d["rule"] for d in doc["diagnostics"])


# The inputs the brief names; the rest run in process only (each process costs ~0.5 s).
SUBPROCESS_INPUTS = ["random_binary", "empty_file", "folder_without_yaml", "nonexistent_path",
                     "bare_scalar", "deeply_nested_flow", "deeply_nested_block", "random_2mb"]


def test_bad_input_never_tracebacks_in_a_real_process(tmp_path: Path) -> None:
    """The same inputs through the installed script, all processes started at once."""
    procs = {}
    for name in SUBPROCESS_INPUTS:
        make = BAD_INPUTS[name]
        folder = tmp_path / name
        folder.mkdir()
        target = make(folder)
        procs[name] = subprocess.Popen([str(PESDC), "validate", str(target)], cwd=folder,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        check_bad_input_run(Run(proc.returncode, out, err), name)
    # And all of them in one run, as JSON: each problem reported, none hides another.
    targets = sorted(str(p) for p in tmp_path.rglob("*") if p.parent != tmp_path)
    run = subprocess_run(["--format", "json", *targets, str(tmp_path / "nowhere")], tmp_path)
    assert run.code == 1 and "Traceback" not in run.output
    assert len(json.loads(run.stdout)["diagnostics"]) == len(targets) + 1  # one each


def test_usage_errors_are_not_tracebacks() -> None:
    for args in ([], ["--format", "xml", "."], ["--bogus"]):
        run = in_process(args, ROOT)
        assert run.code == 2 and "Traceback" not in run.output


# --- fuzz: random mutations of the mini city file -------------------------------------

JUNK_VALUES = ["123", "-1", "0", "1.5", "true", "false", "null", "~", "[]", "{}", "''",
               "'x y'", "[a, b]", "{x: 1}", "10.0.0.999", "10.38.1.0/33", "center",
               "datacenter", "jinan", "shandong", "\"370100\"", "0x1F", "1e400", "-.inf",
               "web-1", "production", "&anchor 1", "*nowhere", "!!binary aGVsbG8=",
               "\"\\x00\"", "济南"]
SCALAR = re.compile(r"(?P<key>[A-Za-z_]+): (?P<val>[^,{}\[\]\n]+)")


def mutate(lines: list[str], rng: random.Random) -> list[str]:
    out = list(lines)
    i = rng.randrange(len(out))
    op = rng.randrange(6)
    if op == 0:
        del out[i]
    elif op == 1:
        out.insert(i, out[i])
    elif op == 2:  # indentation
        delta = rng.choice([-4, -2, -1, 1, 2, 4])
        out[i] = out[i][-delta:] if delta < 0 else " " * delta + out[i]
    elif op == 3:  # swap two lines
        j = rng.randrange(len(out))
        out[i], out[j] = out[j], out[i]
    else:  # a value of another type
        matches = list(SCALAR.finditer(out[i]))
        if matches:
            m = rng.choice(matches)
            out[i] = out[i][:m.start("val")] + rng.choice(JUNK_VALUES) + out[i][m.end("val"):]
        else:
            out[i] = out[i] + rng.choice([": 1", " junk", " #", ":"])
    return out


def test_random_mutations_never_raise(mini_tree: Path) -> None:
    known = set(all_rules()) | set(LOADER_RULES)
    city = mini_tree / "city.yaml"
    original = city.read_text("utf-8").splitlines()
    rng = random.Random(20240601)
    seen_rules: set[str] = set()
    for n in range(300):
        lines = original
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            lines = mutate(lines, rng)
        city.write_text("\n".join(lines) + "\n", "utf-8")
        try:
            result = validate([mini_tree])
        except Exception as exc:  # pragma: no cover - the failure being tested
            shutil.copy(city, Path("/tmp") / f"pesdc-fuzz-{n}.yaml")
            raise AssertionError(f"mutation {n} raised {exc!r}:\n" + "\n".join(lines)) \
                from exc
        data, diags = read_yaml(city, "city.yaml")
        parsed = not diags and isinstance(data, dict)
        for d in result.report.diagnostics:
            seen_rules.add(d.rule)
            assert d.rule in known, (n, d)
            assert d.message, (n, d)
            if parsed:
                assert d.line > 0, f"mutation {n}: {d.format()}\n" + "\n".join(lines)
    # The mutations reach well past the parser.
    assert {"YAML001", "SCH001", "SCH002", "SCH003", "REF001"} <= seen_rules, seen_rules
