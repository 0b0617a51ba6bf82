"""The messages a user meets, in Chinese under ``--lang zh`` or LANG=zh_CN.UTF-8: the
problems of ``validate`` (the example non-compliant tree's among them), a missing path,
an unknown center. Only the message and its hint are translated: each problem's
``file:line:column: severity rule:`` stays what editors and CI parse."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pesdc.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
EN_ENV = {"PESDC_LANG": "", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}
CJK = re.compile(r"[\u4e00-\u9fff]")
LOCATED = re.compile(r"^(\S+:\d+:\d+: (?:error|warning) [A-Z]+\d+: )(.*)$")


def run(*args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={**EN_ENV, **env})
    return result.exit_code, result.output


def problems(output: str) -> list[tuple[str, str]]:
    """(location, message) of each problem line."""
    return [(m.group(1), m.group(2)) for line in output.splitlines()
            if (m := LOCATED.match(line))]


def test_the_noncompliant_tree_in_chinese_at_the_same_locations() -> None:
    code_en, en = run("--lang", "en", "validate", str(ROOT / "topologies-noncompliant"),
                      LANG="zh_CN.UTF-8")
    code_zh, zh = run("--lang", "zh", "validate", str(ROOT / "topologies-noncompliant"))
    assert code_en == code_zh == 0
    en_problems, zh_problems = problems(en), problems(zh)
    assert len(en_problems) == 3 and [w for w, _ in zh_problems] == [w for w, _ in en_problems]
    for (_, en_msg), (_, zh_msg) in zip(en_problems, zh_problems, strict=True):
        assert not CJK.search(en_msg.replace("安全管理中心", "")) and CJK.search(zh_msg)
    assert "安全管理区中没有 timesource 服务器（位置 datacenter.zones[4].name）" in zh
    assert "数据库 misdb 没有备份目标" in zh and "提示：增加 backup_target: BACKUP-SERVER" in zh
    assert "    hint: add a server with role timesource in zone mgmt" in en
    assert "0 个错误，3 个警告" in zh and "0 error(s), 3 warning(s)" in en


def test_the_same_under_the_locale() -> None:
    _, out = run("validate", str(ROOT / "topologies-noncompliant"), LANG="zh_CN.UTF-8")
    assert "rizhao 的上联链路 to-province 在 shandong 没有对端" in out
    assert "{name: IFNAME, downlink: rizhao/to-province}" in out


def test_json_stays_english() -> None:
    """--format json is for programs: its messages are the English ones in any language."""
    _, out = run("--lang", "zh", "validate", "--format", "json",
                 str(ROOT / "topologies-noncompliant"))
    assert "database misdb has no backup target" in out and not CJK.search(out)


def test_a_missing_path_in_chinese() -> None:
    code, out = run("--lang", "zh", "validate", "no/such/place.yaml")
    assert code == 1
    assert "no/such/place.yaml: error YAML003: 没有这个文件或文件夹" in out
    assert "    提示：请检查路径" in out
    _, out = run("validate", "no/such/place.yaml")
    assert "error YAML003: no such file or folder" in out and "    hint: check the path" in out


@pytest.mark.parametrize("command", [["render"], ["export", "ansible"]])
def test_an_unknown_center_in_chinese(command: list[str], tmp_path: Path) -> None:
    code, out = run("--lang", "zh", *command, str(ROOT / "topologies"), "-o",
                    str(tmp_path / "out"), "--dc", "nope")
    assert code == 2
    assert "错误：未知的数据中心：nope；已知的有：binzhou, heze, jinan" in out


def test_an_unknown_center_picked_in_chinese() -> None:
    code, out = run("show", str(ROOT / "topologies"), "--dc", "nope", LANG="zh_CN.UTF-8")
    assert code == 2 and "没有名为 'nope' 的数据中心；该路径中有：" in out
    code, out = run("show", str(ROOT / "topologies"), "--dc", "nope")
    assert "unknown data center: no data center named 'nope'" in out


def _written_as_shown(node: ast.expr) -> bool:
    """Whether a message argument is an f-string or a bare literal (a conditional: either
    branch), not an ``N_`` template (a name standing for templates is one)."""
    if isinstance(node, ast.IfExp):
        return _written_as_shown(node.body) or _written_as_shown(node.orelse)
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str))


def _unmarked_problems(folder: Path) -> list[str]:
    """The problem(...) calls of the rules whose message or hint is written as shown
    instead of a catalog template."""
    found = []
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "problem" and len(node.args) >= 3
                    and any(_written_as_shown(a) for a in node.args[2:4])):
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_every_rule_message_is_a_template() -> None:
    """Every rule's message and hint are catalog templates (so a zh run shows them in
    Chinese; the catalog test fails on one left untranslated)."""
    assert not _unmarked_problems(ROOT / "cli" / "pesdc" / "rules")


def test_loader_problems_in_chinese() -> None:
    """The loader's own problems: an unknown key (with its did-you-mean), a missing one,
    a center defined twice, a link out of the tree."""
    invalid = ROOT / "tests" / "fixtures" / "invalid"
    _, out = run("--lang", "zh", "validate", str(invalid / "SCH001-unknown-key"))
    assert "error SCH001: 未知的键 'grup'（位置 datacenter.servers[4].grup）" in out
    assert "提示：是否指 'group'？允许的键：name, roles" in out
    _, out = run("--lang", "zh", "validate", str(invalid / "SCH003-missing-field"))
    assert "error SCH003: 缺少必需的键 'bandwidth_mbps'" in out
    _, out = run("validate", str(invalid / "YAML004-symlink-out-of-tree"), LANG="zh_CN.UTF-8")
    assert "的符号链接通向树" in out and "；未跟随" in out


@pytest.mark.xfail(strict=True, reason="not done: the type and value messages pydantic "
                   "writes (SCH002 and its hints, SCH005), SCH006, and the YAML parser's "
                   "YAML001/YAML002 are English in a zh run")
def test_schema_problems_in_chinese() -> None:
    _, out = run("--lang", "zh", "validate",
                 str(ROOT / "tests" / "fixtures" / "invalid" / "SCH002-wrong-type"))
    assert all(CJK.search(msg.partition("（位置")[0]) for _, msg in problems(out)), out


@pytest.mark.xfail(strict=True, reason="not done: the runtime messages of the commands "
                   "other than validate (render's summary, stage check's table, rules' "
                   "summaries, lab, net, plan/apply, verify, targets, journal, lock, audit's "
                   "own lines) are English in a zh run")
@pytest.mark.parametrize("args", [
    ["render", "topologies", "--dc", "jinan", "-o", "OUT"], ["stage", "check", "topologies"],
    ["rules"]])  # net plan: tests/i18n/test_cli_runtime_b.py (passes)
def test_runtime_messages_in_chinese(args: list[str], tmp_path: Path) -> None:
    args = [str(tmp_path / "out") if a == "OUT" else
            str(ROOT / a) if a == "topologies" else a for a in args]
    _, out = run("--lang", "zh", *args)
    words = re.findall(r"[A-Za-z]+(?: [A-Za-z]+){3,}", out)
    assert CJK.search(out) and not words, out
