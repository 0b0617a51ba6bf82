"""Control characters never reach the terminal raw (issue 12, point 6): a file name, a
key or a value holding an ANSI escape, a C1 control or a line separator is shown
escaped by `pesdc validate`, in text and in JSON, on stdout and stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.table import Table

from pesdc.cli.common import TerminalConsole
from pesdc.model.diagnostics import Diagnostic, printable
from tests.conftest import ROOT

PESDC = Path(sys.executable).with_name("pesdc")
if not PESDC.exists():  # pragma: no cover - a venv without the script
    PESDC = ROOT / ".venv" / "bin" / "pesdc"

ESC_NAME = "city\x1b[2J\x1b]0;owned\x07.yaml"
# Raw bytes a terminal obeys or a reader misreads: ESC, BEL, C1 CSI and NEL (UTF-8),
# the line separator, a right-to-left override.
RAW = [b"\x1b", b"\x07", b"\xc2\x9b", b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xae"]


def _pesdc(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(PESDC), *args], cwd=cwd, capture_output=True, timeout=60,
                          check=False)


def _no_raw_controls(data: bytes) -> None:
    found = [b for b in RAW if b in data]
    assert not found, (found, data[:2000])


@pytest.fixture
def hostile_tree(mini_tree: Path) -> Path:
    """The mini tree with its city file under a name holding terminal escapes, and an
    escape, C1 controls and separators in a key and in values."""
    city = mini_tree / "city.yaml"
    text = city.read_text("utf-8")
    text = text.replace("title: {zh: 济南市人社数据中心, en: Jinan HRSS data center}",
                        'title: {zh: 济南市人社数据中心, en: "\\e]0;owned\\a\\x9b2J"}')
    text = text.replace("{name: core-1, kind: core_switch,",
                        '{"colo\\e[31mur\\u2028\\u202e": red, name: core-1, kind: core_switch,')
    text = text.replace("address: 10.38.1.10}", 'address: "10.38.1.1\\e[8m\\x85"}')
    city.unlink()
    (mini_tree / ESC_NAME).write_text(text, "utf-8")
    return mini_tree


def test_validate_text_output_holds_no_raw_control(hostile_tree: Path) -> None:
    proc = _pesdc("validate", "-v", ".", cwd=hostile_tree)
    assert proc.returncode == 1
    _no_raw_controls(proc.stdout + proc.stderr)
    err = proc.stderr.decode("utf-8")
    # the problems are still all there, named by the escaped file name and a line
    escaped = "city\\x1b[2J\\x1b]0;owned\\x07.yaml"
    for line, rule in ((15, "SCH005"), (45, "SCH001"), (51, "SCH002")):
        assert f"{escaped}:{line}:" in err and f" error {rule}: " in err, (line, rule, err)
    # the unknown key, in the message and in the path, as it is spelled
    assert "(at datacenter.devices[0].colo\\x1b[31mur\\u2028\\u202e)" in err
    assert f"defaults applied to jinan: {escaped}" in err  # -v names the files escaped


def test_validate_json_output_holds_no_raw_control(hostile_tree: Path) -> None:
    proc = _pesdc("validate", "--format", "json", ".", cwd=hostile_tree)
    assert proc.returncode == 1
    _no_raw_controls(proc.stdout + proc.stderr)
    diags = json.loads(proc.stdout)["diagnostics"]
    # JSON escapes read back as the text that was in the file
    assert {Path(d["file"]).name for d in diags} == {ESC_NAME}
    assert len(diags) >= 3


def test_yaml_error_in_a_hostile_file_name(tmp_path: Path) -> None:
    (tmp_path / ESC_NAME).write_text("datacenter: [1, 2\n", "utf-8")
    proc = _pesdc("validate", ESC_NAME, cwd=tmp_path)
    assert proc.returncode == 1
    _no_raw_controls(proc.stdout + proc.stderr)
    assert b"YAML001" in proc.stderr


def test_printable_escapes_every_control_and_keeps_the_rest() -> None:
    controls = [chr(c) for c in (*range(0x20), *range(0x7f, 0xa0))] + [
        "\u2028", "\u2029", "\u202e", "\u2066"]
    for ch in controls:
        out = printable(f"a{ch}b")
        assert out.isprintable() and out.startswith("a\\") and out.endswith("b"), repr(ch)
    assert printable("\x1b[31m") == "\\x1b[31m"
    assert printable("\u2028\x85") == "\\u2028\\x85"
    kept = "plain ASCII [red] 济南 é 😀 \\ \" '"
    assert printable(kept) == kept


def test_diagnostic_format_escapes_each_field() -> None:
    d = Diagnostic("SCH002", "bad \x1b[2J value", "f\x1b.yaml", ("datacenter", "k\x9b"),
                   "fix \u2028it", line=3, column=4)
    text = d.format()
    assert text == ("f\\x1b.yaml:3:4: error SCH002: bad \\x1b[2J value (at datacenter.k\\x9b)"
                    "\n    hint: fix \\u2028it")


def test_terminal_console_escapes_strings_and_table_cells() -> None:
    console = TerminalConsole(force_terminal=True, color_system="standard", width=60,
                              highlight=False)
    with console.capture() as cap:
        console.print("[red]FAIL[/] host \x1b]0;owned\x07")
        table = Table("name\x9b")
        table.add_row("v\x1b[2J\u2028")
        console.print(table)
    out = cap.get()
    # rich's own colour codes remain; every escape from the text is shown, not obeyed
    assert "\\x1b]0;owned\\x07" in out and "v\\x1b[2J\\u2028" in out and "name\\x9b" in out
    assert "\x1b]" not in out and "\x1b[2J" not in out and "\x9b" not in out
    assert "\x07" not in out and "\u2028" not in out
