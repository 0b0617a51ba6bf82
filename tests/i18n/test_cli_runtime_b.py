"""The runtime messages of lab, net, plan/apply/controls, verify and audit in Chinese
under ``--lang zh`` or LANG=zh_CN.UTF-8 (the CLI's own lines and the lab's errors, from
the catalog), English unchanged otherwise. Every case runs offline: a lab that is not up,
a refusal without a target, a bad option, a static audit.

"Chinese" is judged as the messages are read: some Chinese, and no run of four or more
English words outside code (backticks), commands (``pesdc ...`` up to a Chinese
punctuation mark), options and names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pesdc.cli.main import main
from pesdc.lab.errors import LabError
from pesdc.localized import LocalizedText, error_text
from pesdc.netpush import NetpushError

ROOT = Path(__file__).resolve().parents[2]
TREE = str(ROOT / "topologies")
LAB = "hzh-never-up"  # a lab name no test brings up: every command stops at it
EN_ENV = {"PESDC_LANG": "", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}
CJK = re.compile(r"[\u4e00-\u9fff]")
CODE = re.compile(r"`[^`]*`|pesdc [^（）：；，。`\n]*")
WORDS = re.compile(r"[A-Za-z]+(?: [A-Za-z]+){3,}")


def run(*args: str, **env: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={**EN_ENV, **env})
    return result.exit_code, result.stdout, result.stderr


def english_runs(text: str) -> list[str]:
    return WORDS.findall(CODE.sub("", text))


def assert_chinese(text: str) -> None:
    assert CJK.search(text) and not english_runs(text), text


REFUSALS = [
    ["net", "plan", TREE, "--dc", "jinan"], ["net", "apply", TREE, "--dc", "jinan"],
    ["plan", TREE, "--dc", "jinan"], ["apply", TREE, "--dc", "jinan"],
    ["verify", TREE, "--dc", "jinan"]]
NOT_UP = [
    ["net", "plan", TREE, "--dc", "jinan", "--lab", LAB],
    ["net", "apply", TREE, "--dc", "jinan", "--lab", LAB],
    ["plan", TREE, "--dc", "jinan", "--lab", LAB],
    ["verify", TREE, "--dc", "jinan", "--lab", LAB],
    ["lab", "probe", TREE, "--dc", "jinan", "--name", LAB],
    ["lab", "uplink", "jinan/x", "down", "--name", LAB],
    ["lab", "exec", "--name", LAB, "node1", "ls"],
    ["lab", "operator", "--lab", LAB, "--", "ls"]]


def test_net_plan_stops_in_chinese() -> None:
    """The ``net plan`` case of test_cli_messages' runtime test: without a target it
    refuses, and says so in Chinese (the words of that test: no run of 4+ English words
    at all)."""
    code, _, err = run("--lang", "zh", "net", "plan", TREE, "--dc", "jinan")
    assert code == 2 and CJK.search(err) and not WORDS.findall(err), err
    assert "pesdc net plan：已拒绝：此命令会连接主机" in err and "未连接任何主机。" in err


@pytest.mark.parametrize("args", REFUSALS, ids=lambda a: " ".join(a[:2]))
def test_refusals_without_a_target(args: list[str]) -> None:
    code, _, err = run("--lang", "zh", *args)
    assert code == 2
    assert_chinese(err)
    code_en, _, en = run(*args)
    assert code_en == 2 and "refused: this command connects to hosts; say where" in en
    assert not CJK.search(en)


@pytest.mark.parametrize("args", NOT_UP, ids=lambda a: " ".join(a[:2]))
def test_a_lab_that_is_not_up(args: list[str]) -> None:
    code, _, err = run(*args, LANG="zh_CN.UTF-8")
    assert code == 2
    assert_chinese(err)
    assert LAB in err
    code_en, _, en = run(*args)
    assert code_en == 2 and not CJK.search(en)


def test_the_lab_not_up_line_is_the_same_template() -> None:
    _, _, zh = run("--lang", "zh", "net", "plan", TREE, "--dc", "jinan", "--lab", LAB)
    _, _, en = run("net", "plan", TREE, "--dc", "jinan", "--lab", LAB)
    assert f"实验环境 '{LAB}' 未启动：请先运行 `pesdc lab up PATH --dc {LAB}`" in zh
    assert en == f"pesdc net: lab '{LAB}' is not up: run `pesdc lab up PATH --dc {LAB}` first\n"


def test_lab_status_of_a_lab_not_up() -> None:
    code, out, _ = run("--lang", "zh", "lab", "status", "--name", LAB)
    assert code == 1
    assert f"注意：实验环境 {LAB} 未启动：本机上没有它的状态" in out
    _, out, _ = run("lab", "status", "--name", LAB)
    assert f"note: lab {LAB} is not up: it has no state on this machine" in out
    # JSON is for programs: English in any language
    _, out, _ = run("--lang", "zh", "lab", "status", "--name", LAB, "--json")
    assert f"lab {LAB} is not up: it has no state" in out and not CJK.search(out)


@pytest.mark.parametrize("args", [
    ["lab", "up", TREE, "--dc", "jinan", "--servers", "bad"],
    ["lab", "up", TREE, "--dc", "jinan", "--servers", "jinan:a"],
    ["net", "plan", TREE, "--lab", LAB, "--live", "x.yaml"],
    ["audit", "--static", "--lab", LAB, TREE],
    ["audit", "--static", "--all", TREE, "--dc", "jinan"]], ids=lambda a: " ".join(a[:2]))
def test_bad_options(args: list[str]) -> None:
    code, _, err = run("--lang", "zh", *args)
    assert code == 2
    message = err.splitlines()[-1]
    assert message.startswith("错误：")
    assert_chinese(message)
    _, _, en = run(*args)
    assert en.splitlines()[-1].startswith("Error: ") and not CJK.search(en)


def test_audit_static_summary() -> None:
    code, _, err = run("--lang", "zh", "audit", "--static", TREE, "--dc", "jinan")
    assert code == 0
    summary = [ln for ln in err.splitlines() if "jinan（static）" in ln]
    assert summary and summary[0].startswith("测评 jinan（static）：总分 ")
    assert "问题项：" in summary[0]
    assert_chinese(err)
    _, _, en = run("audit", "--static", TREE, "--dc", "jinan")
    assert "audit jinan (static): overall " in en and "; findings: " in en
    assert not CJK.search(en)


def test_controls_note_in_the_cli_language() -> None:
    _, out, _ = run("--lang", "zh", "controls")
    assert "（实验环境主机上不实施：属于内核全局设置）" in out
    _, out, _ = run("controls")
    assert "  (not applied on lab hosts: kernel-global)" in out and not CJK.search(out)


def test_library_errors_keep_english_and_know_their_template() -> None:
    """str() of a lab or netpush error is the English text (logs, the journal, JSON);
    text("zh") the catalog's; a message written as shown stays as it is."""
    from pesdc.i18n import N_

    exc = LabError(N_("no node {node!r} in lab {name}; nodes: {nodes}"), node="x",
                   name="l", nodes="a, b")
    assert str(exc) == "no node 'x' in lab l; nodes: a, b"
    assert exc.text("zh") == "实验环境 l 中没有节点 'x'；节点：a, b"
    assert error_text(NetpushError.of(exc), "zh") == exc.text("zh")
    assert error_text(ValueError("as {it} is"), "zh") == "as {it} is"
    assert LabError("written {as} shown").text("zh") == "written {as} shown"
    note = LocalizedText(N_("no lab is up (pesdc lab up PATH)"))
    assert note == "no lab is up (pesdc lab up PATH)" and "没有已启动的实验环境" in note.text("zh")
