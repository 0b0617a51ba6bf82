"""The change journal (pesdc.journal): the hash chain, `pesdc journal verify` finding
each kind of break by line, concurrent writers, the entries of every kind of change."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from pesdc import journal
from pesdc.cli.main import main
from pesdc.netpush.engine import NEW, ROLLED_BACK, UNKNOWN
from pesdc.results import HostResult, RunResult


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path))
    return tmp_path


class LabTarget:
    """What the journal reads of a pesdc.targets.target.Target."""

    live = False
    lab = "jrnl"
    label = "lab jrnl"


def _run(n: int = 2, tag: str = "") -> RunResult:
    return RunResult("apply", "pyinfra", [HostResult(f"h{i}{tag}.jinan", "pyinfra", True, 1,
                                                     [f"[File] /etc/f{i}"])
                                          for i in range(n)])


def _lines(state: Path) -> list[str]:
    return (state / "journal" / "changes.jsonl").read_text().splitlines()


def _write(state: Path, lines: list[str]) -> None:
    (state / "journal" / "changes.jsonl").write_text("".join(x + "\n" for x in lines))


def _verify() -> tuple[int, str]:
    res = CliRunner().invoke(main, ["journal", "verify"])
    return res.exit_code, res.output


def test_the_chain(state: Path) -> None:
    journal.record(_run(2), "jinan", "jrnl", target=LabTarget())
    journal.record(_run(3, "b"), "jinan", "jrnl")
    lines = _lines(state)
    rows = [json.loads(x) for x in lines]
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["prev"] == "0" * 64
    for before, row in zip(lines, rows[1:], strict=False):
        assert row["prev"] == hashlib.sha256(before.encode()).hexdigest()
    head = json.loads((state / "journal" / "changes.head").read_text())
    assert head == {"seq": 5, "hash": hashlib.sha256(lines[-1].encode()).hexdigest()}
    r = rows[0]
    assert list(r)[:2] == ["seq", "prev"]
    assert r["action"] == "apply" and r["center"] == "jinan" and r["lab"] == "jrnl"
    assert r["target"] == "lab jrnl" and r["host"] == "h0.jinan"
    assert r["changes"] == ["[File] /etc/f0"] and r["result"] == "ok"
    assert set(r["who"]) == {"user", "sudo_user", "uid", "host"} and r["when"].endswith("Z")
    assert rows[2]["target"] == "lab jrnl"  # from lab= without a target
    code, out = _verify()
    assert code == 0 and "intact, 5 chained entries (last seq 5)" in out


def test_an_edited_entry_is_found(state: Path) -> None:
    journal.record(_run(4), "jinan", "jrnl")
    lines = _lines(state)
    lines[1] = lines[1].replace('"result": "ok"', '"result": "failed"')
    _write(state, lines)
    code, out = _verify()
    assert code == 1
    assert ":3:1: error JNL001: its prev is not the hash of the entry on line 2 (seq 2): line 2 " \
           "was edited" in out, out
    assert "NOT intact: 1 problem(s)" in out


def test_an_edited_last_entry_is_found_by_the_head(state: Path) -> None:
    journal.record(_run(3), "jinan", "jrnl")
    lines = _lines(state)
    lines[2] = lines[2].replace("/etc/f2", "/etc/zz")
    _write(state, lines)
    code, out = _verify()
    assert code == 1 and ":3:1: error JNL001: the entry seq 3 is not what was written" in out, out


def test_a_removed_entry_is_found(state: Path) -> None:
    journal.record(_run(5), "jinan", "jrnl")
    lines = _lines(state)
    del lines[2]
    _write(state, lines)
    code, out = _verify()
    assert code == 1
    assert ":3:1: error JNL001: seq 4 follows seq 2 (line 2): 1 entry (3) removed" in out, out


def test_an_inserted_entry_is_found(state: Path) -> None:
    journal.record(_run(3), "jinan", "jrnl")
    lines = _lines(state)
    forged = json.loads(lines[1])
    forged["host"] = "forged.jinan"
    lines.insert(2, json.dumps(forged))
    _write(state, lines)
    code, out = _verify()
    assert code == 1
    assert ":3:1: error JNL001: seq 2 after seq 2 (line 2): an entry was inserted" in out, out
    # an unchained line slipped in is found too
    lines = _lines(state)
    del lines[2]
    lines.insert(1, json.dumps({"host": "x", "result": "ok"}))
    _write(state, lines)
    code, out = _verify()
    assert code == 1 and ":2:1: error JNL001: an entry without seq/prev among chained" in out, out


def test_an_unreadable_line_and_a_cut_tail(state: Path) -> None:
    journal.record(_run(4), "jinan", "jrnl")
    lines = _lines(state)
    lines[1] = lines[1][:40]
    _write(state, lines[:3])  # entry 4 cut off as well
    code, out = _verify()
    assert code == 1
    assert ":2:1: error JNL001: unreadable: not a whole JSON entry" in out, out
    assert ":3:1: error JNL001: its prev is not the hash of line 2" in out, out
    assert "changes.jsonl: error JNL001: the journal ends at seq 3 but the head file " \
           "says seq 4 was written: the tail (1 entry) was cut off" in out, out
    (state / "journal" / "changes.head").unlink()
    code, out = _verify()
    assert code == 1 and "no head file" in out


def test_a_missing_first_entry(state: Path) -> None:
    journal.record(_run(3), "jinan", "jrnl")
    _write(state, _lines(state)[1:])
    code, out = _verify()
    assert code == 1 and ":1:1: error JNL001: the first entry (seq 2) does not start the chain" \
        in out, out


def test_legacy_entries_are_not_intact(state: Path) -> None:
    (state / "journal").mkdir()
    old = [json.dumps({"when": "2024-01-01T00:00:00Z", "host": f"h{i}", "result": "ok"})
           for i in range(3)]
    _write(state, old)
    code, out = _verify()
    assert code == 1 and ":1:1: error JNL001: unchained legacy entries (lines 1-3)" in out, out
    assert "NOT shown intact" in out
    journal.record(_run(1), "jinan", "jrnl")  # a new entry chains on to the old lines
    row = json.loads(_lines(state)[-1])
    assert row["seq"] == 1 and row["prev"] == hashlib.sha256(old[-1].encode()).hexdigest()
    code, out = _verify()
    assert code == 1 and "unchained legacy entries (lines 1-3)" in out
    assert "NOT intact: 1 problem(s)" in out, out  # the chained part is fine


def test_blank_lines_are_skipped(state: Path) -> None:
    journal.record(_run(1), "jinan", "jrnl")
    with (state / "journal" / "changes.jsonl").open("a") as fh:
        fh.write("   \n")  # as the full-disk test pads the journal
    journal.record(_run(1), "jinan", "jrnl")
    assert _verify()[0] == 0


WRITER = textwrap.dedent("""
    import sys
    from pesdc import journal
    from pesdc.results import HostResult, RunResult
    for i in range(int(sys.argv[2])):
        journal.record(RunResult("apply", "pyinfra",
                                 [HostResult(f"w{sys.argv[1]}-{i}-{k}.jinan", "pyinfra", True)
                                  for k in range(3)]), "jinan", "jrnl")
""")


def test_concurrent_writers_do_not_fork_the_chain(state: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(w), "15"],
                              env=os.environ.copy()) for w in range(6)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 6
    rows = [json.loads(x) for x in _lines(state)]
    assert [r["seq"] for r in rows] == list(range(1, 6 * 15 * 3 + 1))
    code, out = _verify()
    assert code == 0, out


def test_net_apply_and_rollback_entries(state: Path) -> None:
    res = RunResult("apply", "netmiko", [
        HostResult("fw-1.jinan", "netmiko", True, 3, details={"state": NEW}),
        HostResult("sw-1.jinan", "netmiko", False, 0, error="post-check failed; rolled back",
                   details={"state": ROLLED_BACK, "rolled_back": True,
                            "rollback_method": "pushed 3 line(s) back to the backup",
                            "backup": "/state/backups/sw-1/x.cfg"}),
        HostResult("sw-2.jinan", "netmiko", False, 0, error="ROLLBACK FAILED: timeout",
                   details={"state": UNKNOWN, "rolled_back": False,
                            "rollback_left": ["ip route 0.0.0.0/0 1.2.3.4"]}),
    ])
    journal.record(res, "jinan", "jrnl")
    rows = journal.read()
    assert [(r["action"], r["host"], r["result"]) for r in rows] == [
        ("net apply", "fw-1.jinan", "ok"),
        ("net apply", "sw-1.jinan", "failed"), ("rollback", "sw-1.jinan", "ok"),
        ("net apply", "sw-2.jinan", "failed"), ("rollback", "sw-2.jinan", "failed")]
    back = rows[2]
    assert back["changes"] == ["rolled back: pushed 3 line(s) back to the backup",
                               "backup: /state/backups/sw-1/x.cfg"]
    assert back["state"] == ROLLED_BACK and back["automatic"] is True
    assert rows[4]["changes"][-1] == "still differs: ip route 0.0.0.0/0 1.2.3.4"
    assert rows[4]["error"] == "ROLLBACK FAILED: timeout"


def test_stage_step_and_lock_break_entries(state: Path) -> None:
    journal.record_step("jinan", "jrnl", "migrate", False, 12.3, "restore failed: rc 1",
                        stage="stage 1 -> 2 rehearsal")
    journal.append([journal.lock_break_entry(
        "jinan", None, {"user": "li", "host": "ops-2", "pid": 77, "since": "x",
                        "command": "pesdc apply CITY --live p.yaml"},
        "li's laptop died mid-run", lock="/var/lib/pesdc-lock/jinan on the bastion")])
    step, brk = journal.read()
    assert step["action"] == "stage step" and step["lab"] == "jrnl"
    assert step["target"] == "lab jrnl" and step["result"] == "failed"
    assert step["changes"] == ["stage 1 -> 2 rehearsal: migrate"]
    assert step["error"] == "restore failed: rc 1" and step["seconds"] == 12.3
    assert brk["action"] == "lock break" and brk["reason"] == "li's laptop died mid-run"
    assert brk["holder"]["user"] == "li"
    assert "its holder: user li, host ops-2, pid 77" in brk["changes"][1]


def test_secrets_are_redacted(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PESDC_SECRET_DEVICE_PASSWORD", "Sup3r-s3cret-pw")
    run = RunResult("apply", "pyinfra", [HostResult("h.jinan", "pyinfra", False,
                                                    error="login Sup3r-s3cret-pw refused")])
    journal.record(run, "jinan", "jrnl")
    text = (state / "journal" / "changes.jsonl").read_text()
    assert "Sup3r-s3cret-pw" not in text and "%%PESDC_SECRET:device_password%%" in text
    assert _verify()[0] == 0


def test_journal_show_with_and_without_subcommand(state: Path) -> None:
    journal.record(_run(2), "jinan", "jrnl")
    a = CliRunner().invoke(main, ["journal", "--tail", "0", "--json"])
    b = CliRunner().invoke(main, ["journal", "show", "--tail", "1", "--json"])
    assert a.exit_code == b.exit_code == 0
    assert [r["seq"] for r in json.loads(a.output)["entries"]] == [1, 2]
    assert [r["seq"] for r in json.loads(b.output)["entries"]] == [2]
