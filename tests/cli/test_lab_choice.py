"""``--lab`` on every command that takes it: the lab chosen must hold the center asked
for. A lab of another city is refused before anything is done (exit 2, no journal
entry, no connection), naming the lab, the centers it holds and what to give instead;
``--lab`` without a name takes the only lab up, and several labs up without a name are
refused the same way. The labs' state is written as ``pesdc lab up`` writes it, in a
temporary state directory; no namespace exists, nothing runs (a command that got past
the check would stop at the missing controller namespace with another message)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pesdc.lab.errors import LabError
from pesdc.lab.group import Group, lab_for
from pesdc.lab.runtime import Lab
from tests.i18n.test_cli_runtime_b import CJK, TREE, assert_chinese, run

ZIBO_ONLY = ("pesdc {cmd}: lab fua holds zibo, not jinan: bring jinan up (pesdc lab up "
             "PATH --dc jinan --name NAME) and give --lab NAME; nothing was contacted")


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "state"
    monkeypatch.setenv("PESDC_STATE_DIR", str(d))
    return d


def up(name: str, center: str) -> None:
    """A single-center lab's state file, as `pesdc lab up` leaves it (its nodes aside)."""
    Lab(name).save_state({"lab": name, "dc": center, "sources": [TREE], "nodes": {},
                          "controller_ns": f"pesdc-{name}-test-never-up"})  # no such namespace


def refused(state: Path, args: list[str], line: str) -> None:
    """Exit 2, ``line`` the last line of stderr, nothing journaled or locked; the same
    refusal in Chinese under --lang zh."""
    code, _out, err = run(*args, PESDC_STATE_DIR=str(state))
    assert code == 2, err
    assert err.splitlines()[-1] == line
    assert not (state / "journal").exists() and not (state / "locks").exists()
    code, _out, zh = run("--lang", "zh", *args, PESDC_STATE_DIR=str(state))
    assert code == 2
    assert_chinese(zh.splitlines()[-1])
    assert "fua" in zh and "zibo" in zh and "--lab" in zh


@pytest.mark.parametrize("cmd", ["apply", "plan", "verify"])
def test_lab_alone_takes_the_only_lab_and_refuses_one_of_another_center(
        state: Path, cmd: str) -> None:
    up("fua", "zibo")
    refused(state, [cmd, TREE, "--dc", "jinan", "--lab"], ZIBO_ONLY.format(cmd=cmd))


@pytest.mark.parametrize("command", [
    "apply", "plan", "verify", "net plan", "net apply", "audit", "lab probe",
    "export ansible"])
def test_a_named_lab_of_another_center_is_refused_by_every_command(
        state: Path, tmp_path: Path, command: str) -> None:
    up("fua", "zibo")
    out = ["-o", str(tmp_path / "out")] if command == "export ansible" else []
    argv = [*command.split(), TREE, "--dc", "jinan", "--lab", "fua", *out]
    refused(state, argv, ZIBO_ONLY.format(cmd=command.split()[0]))
    assert not (tmp_path / "out").exists()


def test_the_refusal_names_the_lab_that_holds_the_center(state: Path) -> None:
    up("fua", "zibo")
    up("fub", "jinan")
    code, _out, err = run("apply", TREE, "--dc", "jinan", "--lab", "fua",
                          PESDC_STATE_DIR=str(state))
    assert code == 2
    assert err.splitlines()[-1] == ("pesdc apply: lab fua holds zibo, not jinan; jinan is "
                                    "in fub: give --lab fub; nothing was contacted")


def test_several_labs_up_and_none_named_is_refused(state: Path) -> None:
    up("fua", "zibo")
    up("fub", "jinan")
    Group("fumc", ["binzhou", "mohrss"]).save()
    up("fumc-binzhou", "binzhou")  # a member: listed under its multi-center lab
    code, _out, err = run("apply", TREE, "--dc", "jinan", "--lab", PESDC_STATE_DIR=str(state))
    assert code == 2
    assert err.splitlines()[-1] == (
        "pesdc apply: --lab without a name: several labs are up: fua (zibo), fub (jinan), "
        "fumc (binzhou, mohrss); say which with --lab NAME (jinan is in fub); nothing was "
        "contacted")
    code, _out, err = run("verify", TREE, "--dc", "heze", "--lab", PESDC_STATE_DIR=str(state))
    assert code == 2 and "none holds heze: bring it up (pesdc lab up PATH --dc heze " \
        "--name NAME) and give --lab NAME" in err
    code, _out, zh = run("--lang", "zh", "apply", TREE, "--dc", "jinan", "--lab",
                         PESDC_STATE_DIR=str(state))
    assert code == 2 and "fub" in zh
    assert_chinese(zh.splitlines()[-1])
    assert not (state / "journal").exists()


def test_no_lab_up_and_none_named_is_refused(state: Path) -> None:
    code, _out, err = run("plan", TREE, "--dc", "jinan", "--lab", PESDC_STATE_DIR=str(state))
    assert code == 2
    assert err.splitlines()[-1] == (
        "pesdc plan: --lab without a name: no lab is up; bring jinan up (pesdc lab up PATH "
        "--dc jinan) and give --lab NAME; nothing was contacted")
    assert not CJK.search(err)


def test_a_lab_that_holds_the_center_is_taken(state: Path) -> None:
    up("fub", "jinan")
    assert lab_for("fub", "jinan") == "fub"
    assert lab_for(None, "jinan") == "fub"  # --lab alone: the only lab up
    assert lab_for("fu-never-up", "jinan") == "fu-never-up"  # no state: access() says so
    Group("fumc", ["jinan", "mohrss"]).save()
    up("fumc-jinan", "jinan")
    assert lab_for("fumc", "jinan") == "fumc-jinan"  # a multi-center lab: its member
    assert lab_for("fumc-jinan", "mohrss") == "fumc-mohrss"
    with pytest.raises(LabError, match="lab fumc holds jinan, mohrss, not zibo"):
        lab_for("fumc", "zibo")


def test_inside_a_lab_whose_namespace_is_gone_is_one_line(state: Path) -> None:
    """Run as if re-executed inside lab fub (PESDC_INSIDE_LAB) that holds the center but
    has no controller namespace: a usage error naming it, never a traceback."""
    up("fub", "jinan")
    code, _out, err = run("apply", TREE, "--dc", "jinan", "--lab", "fub",
                          PESDC_STATE_DIR=str(state), PESDC_INSIDE_LAB="fub")
    assert code == 2, err
    assert err.splitlines()[-1] == ("Error: lab 'fub' has no controller namespace: run "
                                    "`pesdc lab up` to repair it")
    assert not (state / "journal").exists()
