"""pesdc journal show / verify --format json on journals written by pesdc.journal (a
provisioning apply, a network apply with its rollback, a stage step), intact and broken."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

from pesdc import journal
from pesdc.netpush.engine import ROLLED_BACK
from pesdc.results import HostResult, RunResult
from tests.formats.conftest import Run, conforms, errors


def _fill(state: Path) -> None:
    journal.record(RunResult("apply", "pyinfra", [
        HostResult("web-1.jinan", "pyinfra", True, 2, ["[File] /etc/a", "[Service] nginx"]),
        HostResult("db-1.jinan", "pyinfra", False, error="connection refused")]),
        "jinan", "fmt")
    journal.record(RunResult("apply", "netmiko", [HostResult(
        "fw-1.jinan", "netmiko", False, 0, [], "post-check failed",
        details={"state": ROLLED_BACK, "rolled_back": True, "rollback_method": "replace",
                 "backup": "/x/fw-1.cfg"})]), "jinan", "fmt")
    journal.record_step("jinan", "fmt", "cut over", True, 1.5, "济南 ok")


def _lines(state: Path) -> list[str]:
    return (state / "journal" / "changes.jsonl").read_text().splitlines()


def test_journal_show_conforms_and_keeps_every_entry(pesdc: Callable[..., Run],
                                                     state: Path) -> None:
    _fill(state)
    res = pesdc("journal", "show", "--tail", "0", "--format", "json")
    assert res.code == 0, res.err
    conforms("journal-show", res.doc)
    entries = res.doc["entries"]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert [e["action"] for e in entries] == ["apply", "apply", "net apply", "rollback",
                                              "stage step"]
    assert res.doc["tail"] is None and res.doc["journal"].endswith("changes.jsonl")
    # `pesdc journal` alone and --json say the same.
    assert pesdc("journal", "--tail", "0", "--json").out == res.out
    two = pesdc("journal", "show", "--tail", "2", "--format", "json").doc
    assert [e["seq"] for e in two["entries"]] == [4, 5] and two["tail"] == 2


def test_an_unreadable_line_is_an_entry_of_its_own(pesdc: Callable[..., Run],
                                                   state: Path) -> None:
    _fill(state)
    lines = _lines(state)
    lines[1] = lines[1][:30]
    (state / "journal" / "changes.jsonl").write_text("".join(x + "\n" for x in lines))
    show = pesdc("journal", "show", "--tail", "0", "--format", "json")
    conforms("journal-show", show.doc)
    assert show.doc["entries"][1] == {"unreadable": 2}
    verify = pesdc("journal", "verify", "--format", "json")
    assert verify.code == 1
    conforms("journal-verify", verify.doc)
    assert verify.doc["intact"] is False
    assert {p["line"] for p in verify.doc["problems"]} >= {2, 3}


def test_journal_verify_of_an_intact_and_an_empty_journal(pesdc: Callable[..., Run],
                                                          state: Path) -> None:
    empty = pesdc("journal", "verify", "--format", "json")
    assert empty.code == 0
    conforms("journal-verify", empty.doc)
    assert (empty.doc["entries"], empty.doc["last_seq"]) == (0, None)
    _fill(state)
    res = pesdc("journal", "verify", "--format", "json")
    assert res.code == 0
    conforms("journal-verify", res.doc)
    assert (res.doc["intact"], res.doc["chained"], res.doc["last_seq"]) == (True, 5, 5)
    assert res.out == pesdc("journal", "verify", "--json").out  # and byte-stable


def test_a_cut_tail_is_a_problem_without_a_line(pesdc: Callable[..., Run],
                                                state: Path) -> None:
    _fill(state)
    (state / "journal" / "changes.jsonl").write_text(
        "".join(x + "\n" for x in _lines(state)[:3]))
    res = pesdc("journal", "verify", "--format", "json")
    assert res.code == 1
    conforms("journal-verify", res.doc)
    assert any(p["line"] is None and "cut off" in p["message"] for p in res.doc["problems"])
    text = pesdc("journal", "verify")
    assert text.code == 1
    # Not on a terminal: file:line:column: severity rule: message, one line each.
    assert "changes.jsonl: error JNL001: the journal ends at seq 3" in text.err


def test_the_schemas_reject_a_problem_without_message_or_entries_as_an_object(
        pesdc: Callable[..., Run], state: Path) -> None:
    _fill(state)
    (state / "journal" / "changes.jsonl").write_text(
        "".join(x + "\n" for x in _lines(state)[:3]))
    doc = pesdc("journal", "verify", "--format", "json").doc
    broken = copy.deepcopy(doc)
    del broken["problems"][0]["message"]
    assert any("'message' is a required property" in e
               for e in errors("journal-verify", broken))
    broken = copy.deepcopy(doc)
    broken["intact"] = "no"
    assert errors("journal-verify", broken)
    show = pesdc("journal", "show", "--format", "json").doc
    broken = copy.deepcopy(show)
    broken["entries"] = {"1": broken["entries"][0]}
    assert errors("journal-show", broken)
    broken = copy.deepcopy(show)
    broken["entries"][0]["seq"] = "1"
    assert errors("journal-show", broken)


def test_journal_show_off_a_terminal_names_an_unreadable_line_as_a_problem_line(
        pesdc: Callable[..., Run], state: Path) -> None:
    _fill(state)
    lines = _lines(state)
    lines[2] = "{not json"
    (state / "journal" / "changes.jsonl").write_text("".join(x + "\n" for x in lines))
    res = pesdc("journal", "show", "--tail", "0")
    assert res.code == 0
    path = state / "journal" / "changes.jsonl"
    assert f"{path}:3:1: error JNL001: unreadable: not a whole JSON entry " \
           "(pesdc journal verify)\n" in res.err
