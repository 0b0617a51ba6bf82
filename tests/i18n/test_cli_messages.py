"""The messages a user meets, in Chinese under ``--lang zh`` or LANG=zh_CN.UTF-8: the
problems of ``validate`` (the example non-compliant tree's among them), a missing path,
an unknown center. Only the message and its hint are translated: each problem's
``file:line:column: severity rule:`` stays what editors and CI parse."""

from __future__ import annotations

import ast
import re
import shutil
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


def _english_words(text: str) -> list[str]:
    """Runs of four or more English words: a sentence left untranslated (ids, paths,
    code and the parser's own words are shorter or joined by other characters)."""
    return re.findall(r"[A-Za-z]+(?: [A-Za-z]+){3,}", text)


INVALID = ROOT / "tests" / "fixtures" / "invalid"


@pytest.mark.parametrize("fixture", ["SCH002-wrong-type", "SCH002-inherited-bad-value",
                                     "SCH002-invalid-mgmt-zone", "SCH005-control-character-in-text",
                                     "SCH006-identifier-pattern", "YAML002-duplicate-key"])
def test_schema_problems_in_chinese(fixture: str) -> None:
    """Pydantic's type and range messages (SCH002, with the value given and a value
    inherited from defaults), the free-text (SCH005) and identifier (SCH006) problems and
    a duplicate key (YAML002): Chinese, at the English run's locations."""
    _, zh = run("--lang", "zh", "validate", str(INVALID / fixture))
    _, en = run("validate", str(INVALID / fixture))
    assert [w for w, _ in problems(zh)] == [w for w, _ in problems(en)]
    for _, msg in problems(zh):
        assert CJK.search(msg.partition("（位置")[0]) and not _english_words(msg), msg
    assert not CJK.search(en.replace("安全管理中心", ""))


def test_schema_problems_keep_pydantic_english() -> None:
    """In English the messages are pydantic's own words, as before they were templates."""
    _, en = run("validate", str(INVALID / "SCH002-wrong-type"))
    assert ("error SCH002: Input should be a valid number, unable to parse string as a "
            "number (given 'fast') (at datacenter.links[2].bandwidth_mbps)") in en
    _, zh = run("--lang", "zh", "validate", str(INVALID / "SCH002-wrong-type"))
    assert "应为有效的数字，无法将字符串解析为数字（给出的值为 'fast'）" in zh
    _, en = run("validate", str(INVALID / "SCH002-inherited-bad-value"))
    assert "(given 'huawei_usb') (value inherited from defaults, used at " in en
    _, en = run("validate", str(INVALID / "SCH006-identifier-pattern"))
    assert ("error SCH006: 'web site' is not a valid identifier here (at "
            "datacenter.systems[1].name)") in en
    assert "    hint: identifiers are letters, digits, '.', '_' and '-', starting" in en
    _, en = run("validate", str(INVALID / "YAML002-duplicate-key"))
    assert "error YAML002: duplicate key 'name'; key 'name' first given at line 2" in en


def test_yaml_syntax_keeps_the_parser_words() -> None:
    """YAML001: the frame is translated, the parser's own detail stays as it wrote it."""
    _, zh = run("--lang", "zh", "validate", str(INVALID / "YAML001-malformed"))
    assert ("error YAML001: YAML 语法错误：did not find expected key (while parsing a block "
            "mapping)") in zh
    assert "提示：请修正该行的 YAML 语法（缩进、引号、冒号）" in zh
    _, en = run("validate", str(INVALID / "YAML001-malformed"))
    assert "error YAML001: YAML syntax: did not find expected key" in en
    assert "hint: fix the YAML syntax at this line (indentation, quotes, colons)" in en


def _runtime(args: list[str], tmp_path: Path) -> list[str]:
    return [str(tmp_path / "out") if a == "OUT" else
            str(ROOT / a) if a == "topologies" else a for a in args]


@pytest.mark.parametrize("args", [
    ["render", "topologies", "--dc", "jinan", "-o", "OUT"], ["stage", "check", "topologies"],
    ["rules"]])  # net plan: tests/i18n/test_cli_runtime_b.py
def test_runtime_messages_in_chinese(args: list[str], tmp_path: Path) -> None:
    _, out = run("--lang", "zh", *_runtime(args, tmp_path))
    assert CJK.search(out) and not _english_words(out), out


def test_render_summary_in_both_languages(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, en = run("render", str(ROOT / "topologies"), "--dc", "jinan", "-o", str(out))
    assert code == 0 and re.fullmatch(
        rf"rendered (\d+) file\(s\) into {re.escape(str(out))}: \1 written, 0 unchanged, "
        r"0 removed\n", en), en
    code, zh = run("--lang", "zh", "render", str(ROOT / "topologies"), "--dc", "jinan",
                   "-o", str(out), "--diff")
    assert code == 0 and zh == "新增 0 个，修改 0 个，删除 0 个\n"
    _, en = run("render", str(ROOT / "topologies"), "--dc", "jinan", "-o", str(out), "--diff")
    assert en == "0 added, 0 changed, 0 removed\n"
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "x").write_text("x")
    code, zh = run("--lang", "zh", "render", str(ROOT / "topologies"), "--dc", "jinan",
                   "-o", str(tmp_path / "foreign"))
    assert code == 1 and "错误：" in zh and "不为空且没有 pesdc 的 MANIFEST" in zh
    _, en = run("render", str(ROOT / "topologies"), "--dc", "jinan", "-o",
                str(tmp_path / "foreign"))
    assert "is not empty and has no pesdc MANIFEST, so pesdc did not create it" in en


def test_stage_check_in_both_languages() -> None:
    _, zh = run("--lang", "zh", "stage", "check", str(ROOT / "topologies"))
    assert "集中建设阶段" in zh and "下一阶段未满足项" in zh
    _, en = run("stage", "check", str(ROOT / "topologies"))
    assert "consolidation stages" in en and "unmet for next" in en and not CJK.search(en)
    _, js = run("--lang", "zh", "stage", "check", str(ROOT / "topologies"), "--format", "json")
    assert not CJK.search(js)  # for programs: English in any language


def test_rules_in_both_languages() -> None:
    _, zh = run("rules", LANG="zh_CN.UTF-8")
    assert "YAML001  yaml-syntax                      文件不是有效的 YAML" in zh
    _, en = run("rules")
    assert "YAML001  yaml-syntax                      the file is not valid YAML" in en
    assert not CJK.search(en)


def test_validator_refusals_in_chinese(tmp_path: Path) -> None:
    """A validator's own ValueError (a subnet with host bits, a TCP flow without ports):
    its template in the run's language, its English as pydantic reported it."""
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "topologies", tree)
    city = tree / "shandong" / "jinan.yaml"
    text = city.read_text(encoding="utf-8")
    text = text.replace("subnet: 10.1.0.0/24,", "subnet: 10.1.0.7/24,", 1)
    text = text.replace("protocol: tcp, ports: [443],", "protocol: tcp, ports: [],", 1)
    city.write_text(text, encoding="utf-8")
    _, en = run("validate", str(tree))
    _, zh = run("--lang", "zh", "validate", str(tree))
    assert "error SCH002: 10.1.0.7/24 has host bits set; the network is 10.1.0.0/24 (at " in en
    assert "error SCH002: tcp flows need at least one port (at " in en
    assert "error SCH002: 10.1.0.7/24 的主机位不为零；其网络为 10.1.0.0/24（位置 " in zh
    assert "error SCH002: tcp 策略至少需要一个端口（位置 " in zh


def test_the_no_root_note_in_chinese(tmp_path: Path) -> None:
    city = tmp_path / "city.yaml"
    shutil.copy(ROOT / "topologies" / "shandong" / "jinan.yaml", city)
    _, zh = run("--lang", "zh", "validate", str(city))
    assert "注意：" in zh and "处及其上级没有树根（.pesdc-tree）" in zh
    _, en = run("validate", str(city))
    assert "note: no tree root (.pesdc-tree) at or above " in en
