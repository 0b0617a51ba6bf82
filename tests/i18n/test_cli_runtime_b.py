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


@pytest.mark.parametrize("args", [  # lab up's: tests/i18n/test_cli_runtime_lab.py
    ["net", "plan", TREE, "--lab", LAB, "--live", "x.yaml"],
    ["audit", "--static", "--lab", LAB, TREE],
    ["audit", "--static", "--all", TREE, "--dc", "jinan"]], ids=lambda a: " ".join(a[:2]))
def test_bad_options(args: list[str]) -> None:
    assert_usage_error_in_both(args)


def assert_usage_error_in_both(args: list[str]) -> None:
    """A usage error (exit 2): its last line Chinese under --lang zh, English without."""
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
    assert "audit jinan：正在生成数据中心的配置" in err  # the progress lines
    assert "jinan: host 类规则 ... 成功: 19 条规则，2 条不满足" in err
    assert_chinese(err)
    _, _, en = run("audit", "--static", TREE, "--dc", "jinan")
    assert "audit jinan (static): overall " in en and "; findings: " in en
    assert "audit jinan: rendering the center's configurations" in en
    assert "jinan: host rules ... ok: 19 rules, 2 not met" in en
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


@pytest.fixture
def closed_port(tmp_path: Path) -> Path:
    """An ssh_config whose every host is a closed port on loopback (as
    tests/verify/conftest.py's): refused at once, for real, nothing leaves the machine."""
    config = tmp_path / "ssh_config"
    config.write_text("Host *\n  Hostname 127.0.0.1\n  Port 1\n  ConnectTimeout 3\n"
                      "  BatchMode yes\n  StrictHostKeyChecking no\n"
                      "  UserKnownHostsFile /dev/null\n", "utf-8")
    return config


def _plan_and_apply_results() -> tuple[object, object]:
    from pesdc.netpush.engine import NEW, ROLLED_BACK
    from pesdc.results import HostResult, RunResult

    plan = RunResult("plan", "netmiko", [
        HostResult("rt-1.jinan", "netmiko", True, changed=2,
                   details={"remediation": ["ntp server 10.0.0.1", "logging host 10.0.0.2"],
                            "commit": "commit confirmed 5", "missing_secrets": ["snmp"]}),
        HostResult("rt-2.jinan", "netmiko", True, details={"remediation": []})])
    apply = RunResult("apply", "netmiko", [
        HostResult("rt-1.jinan", "netmiko", True, changed=2,
                   details={"state": NEW, "backup": "/var/lib/pesdc/backups/x.cfg"}),
        HostResult("rt-2.jinan", "netmiko", True, details={"state": ROLLED_BACK})])
    return plan, apply


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_net_plan_and_apply_reports(lang: str, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The lines net plan and net apply print per device and their summary (the
    command line's language from the environment, as a zh locale gives it)."""
    from pesdc.cli.net_cmd import _report_text

    monkeypatch.setenv("PESDC_LANG", lang)
    for res in _plan_and_apply_results():
        _report_text(res)  # type: ignore[arg-type]
    got = capsys.readouterr()
    text = got.out + got.err
    if lang == "en":
        assert "~ rt-1.jinan: 2 line(s) to push (0.0 s)" in text
        assert "= rt-2.jinan: in sync (0.0 s)" in text
        assert "    commit: commit confirmed 5" in text
        assert "    secrets needed by apply: snmp" in text
        assert "2 device(s), 2 line(s) to push, 0 failed" in got.err
        assert "✓ rt-1.jinan: 2 line(s) pushed, post-check clean (0.0 s)" in text
        assert "    state: on its backup (rolled back, checked)" in text
        assert "2 device(s), 2 line(s) pushed, 0 failed" in got.err
        assert not CJK.search(text)
        return
    assert "~ rt-1.jinan: 待推送 2 行 (0.0 s)" in text and "= rt-2.jinan: 已同步" in text
    assert "2 台设备，待推送 2 行，0 台失败" in got.err
    assert "    状态：已恢复为备份（已回滚并检查）" in text
    # the pushed lines and the device's own words are what the device says: English
    assert_chinese(text.replace("commit confirmed 5", "").replace("ntp server 10.0.0.1", "")
                   .replace("logging host 10.0.0.2", ""))


def test_verify_summary_of_unreachable_standbys(closed_port: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """verify's table and last line over real errors (off-site standbys behind a closed
    loopback port, tests/verify/conftest.py): the CLI's words in Chinese, the checks'
    evidence as observed; ERROR and FAIL as they are."""
    from pesdc.cli.verify_cmd import print_summary
    from pesdc.model import validate
    from pesdc.verify import offsite
    from pesdc.verify.checks import VerifyReport

    topo = validate([ROOT / "topologies"]).topology
    checks = offsite.check_offsite(topo, "shandong", closed_port, servers=["jn-misdb-dr"])
    report = VerifyReport("shandong", checks, 0.5)
    monkeypatch.setenv("PESDC_LANG", "zh")
    print_summary(report, "shandong")
    zh = capsys.readouterr().out
    n = len(checks)
    assert n and all(c.error for c in checks)
    assert f"验证 shandong：{n} 项检查，用时 0.5 秒" in zh and "类别" in zh
    assert "无法观测：" in zh and "[red]" not in zh
    assert zh.rstrip().splitlines()[-1] == f"FAIL ({n} 错误)"
    monkeypatch.setenv("PESDC_LANG", "en")
    print_summary(report, "shandong")
    en = capsys.readouterr().out
    assert f"verify shandong: {n} checks in 0.5 s" in en and "could not observe: " in en
    assert en.rstrip().splitlines()[-1] == f"FAIL ({n} error)" and not CJK.search(en)


def test_provision_table_and_summary(monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from pesdc.cli.provision_cmd import _print
    from pesdc.results import HostResult, RunResult

    res = RunResult("plan", "pyinfra", [
        HostResult("app-1.jinan", "pyinfra", True, changed=3, changes=["apt packages"]),
        HostResult("db-1.jinan", "pyinfra", False, error="unreachable")])
    monkeypatch.setenv("PESDC_LANG", "zh")
    _print(res, "jinan", 1.0)
    zh = capsys.readouterr().out
    assert "主机" in zh and "将变更" in zh and "1 台主机失败：db-1.jinan (unreachable)" in zh
    res.hosts.pop()
    _print(res, "jinan", 1.0)
    assert "全部 1 台主机正常，将变更 3 项操作" in capsys.readouterr().out
    monkeypatch.setenv("PESDC_LANG", "en")
    _print(res, "jinan", 1.0)
    en = capsys.readouterr().out
    assert "all 1 hosts ok, 3 operation(s) would change" in en and not CJK.search(en)
    res.hosts.append(HostResult("db-1.jinan", "pyinfra", False, error="unreachable"))
    _print(res, "jinan", 1.0)
    assert "1 host(s) failed: db-1.jinan (unreachable)" in capsys.readouterr().out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_progress_lines_of_the_engines(lang: str) -> None:
    """An engine's words reach the progress lines as templates (LocalizedText): in the
    reporter's language, the host names and a tool's cause as they are."""
    import io

    from pesdc.cli.reporting import LineReporter
    from pesdc.i18n import N_
    from pesdc.provision.engine import CONNECT

    clock = iter(range(100)).__next__
    stream = io.StringIO()
    with LineReporter(stream, clock=lambda: float(clock()), lang=lang) as say:
        say.start(2, LocalizedText(N_("{deploy}: {total} operations on {count} hosts"),
                                   deploy="deploy_host", total=2, count=1))
        what = LocalizedText(N_("operation {k}/{n} {name}"), k=1, n=2, name="apt packages")
        say.begin("jinan/app-1", what, "apt packages")
        say.step("jinan/app-1", what, "changed", "apt packages")
        say.step("jinan/db-1", CONNECT, "failed: unreachable: [Errno 101] Network is "
                                        "unreachable")
    lines = [ln.split("] ", 1)[1] for ln in stream.getvalue().splitlines()]
    if lang == "en":
        assert lines == ["deploy_host: 2 operations on 1 hosts (2 steps)",
                         "jinan/app-1: operation 1/2 apt packages ...",
                         "jinan/app-1: operation 1/2 apt packages ... changed",
                         "jinan/db-1: connect ... failed: unreachable: [Errno 101] Network "
                         "is unreachable", "done: 2/2 step(s), 1 failed"]
        return
    assert lines[:3] == ["deploy_host：1 台主机上共 2 项操作（共 2 步）",
                         "jinan/app-1: 操作 1/2 apt packages ...",
                         "jinan/app-1: 操作 1/2 apt packages ... 已变更"]
    assert lines[3].startswith("jinan/db-1: 连接 ... 失败: unreachable")
