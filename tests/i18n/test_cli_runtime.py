"""The own lines of the commands besides validate, in Chinese under ``--lang zh`` (or the
locale) and unchanged in English: graph, export, targets, journal, lock, ledger, new,
stage plan/rehearse and diff. A zh line has Chinese and no sentence left in English
(four English words in a row), commands and paths aside."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pesdc.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
TREE = str(ROOT / "topologies")
EN_ENV = {"PESDC_LANG": "", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}
CJK = re.compile(r"[\u4e00-\u9fff]")
# what a line quotes as it is: a command to run, a path, an option with its value
QUOTED = re.compile(r"pesdc(?: [a-z-]+)+(?: [A-Z]+)*|(?:\S*/\S*)|--[a-z-]+(?: [A-Z]+)?")


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path / "state"))


def run(*args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={**EN_ENV, **env})
    return result.exit_code, result.output


def chinese(out: str) -> bool:
    """Chinese, with no English sentence left outside what it quotes."""
    bare = QUOTED.sub("", out)
    return bool(CJK.search(out)) and not re.findall(r"[A-Za-z]+(?: [A-Za-z]+){3,}", bare)


def both(*args: str) -> tuple[tuple[int, str], tuple[int, str]]:
    return run("--lang", "zh", *args), run(*args)


def test_graph(tmp_path: Path) -> None:
    (code, zh), (_, en) = both("graph", TREE, "--dc", "jinan", "-o", str(tmp_path / "g.dot"))
    assert code == 0 and chinese(zh) and zh == f"已写入 {tmp_path / 'g.dot'}（jinan）\n"
    assert en == f"wrote {tmp_path / 'g.dot'} (jinan)\n"
    (code, zh), (_, en) = both("graph", TREE, "-o", str(tmp_path / "g.xyz"))
    assert code == 2 and "错误：无法判断 'g.xyz' 的格式：请使用以下之一：.dot" in zh
    assert "Error: cannot tell the format of 'g.xyz': use one of .dot, .gv" in en


def test_export_awx(tmp_path: Path) -> None:
    args = ("export", "awx", TREE, "--scm-url", "https://example.invalid/x.git", "-o")
    (code, zh), (_, en) = (run("--lang", "zh", *args, str(tmp_path / "zh")),
                           run(*args, str(tmp_path / "en")))
    assert code == 0 and chinese(zh), zh
    assert "pesdc export awx：binzhou：没有执行节点（由 shandong 托管：其作业在该节点上运行）" in zh
    assert "pesdc export awx: binzhou: no execution node (hosted by shandong: its jobs run " \
           "on that node)" in en
    assert re.search(r"^exported \d+ AWX object\(s\) \(\d+ execution node\(s\), 1 hop node\(s\)\) "
                     r"into .*: \d+ file\(s\), \d+ bytes; apply with ansible-playbook ", en, re.M)
    # the files stay English: mesh.yml says why a center has no node as before
    assert "its jobs run on that node" in (tmp_path / "zh" / "mesh.yml").read_text()


def test_export_ansible_refusal(tmp_path: Path) -> None:
    (code, zh), (_, en) = both("export", "ansible", TREE, "-o", str(tmp_path / "a"),
                               "--lab", "x")
    assert code == 2 and chinese(zh) and "--lab 只导出一个中心：请用 --dc 选择" in zh
    assert "Error: --lab exports one center: choose it with --dc" in en


def test_targets_init(tmp_path: Path) -> None:
    out = tmp_path / "jinan.targets.yaml"
    code, zh = run("--lang", "zh", "targets", "init", TREE, "--dc", "jinan", "-o", str(out))
    assert code == 0 and chinese(zh), zh
    assert f"已写入 {out}：中心 jinan，堡垒机 jump-1（10.1.90.103）；下一步：pesdc targets" in zh
    code, zh = run("targets", "init", TREE, "--dc", "jinan", "-o", str(out), LANG="zh_CN.UTF-8")
    assert code == 2 and f"{out} 已存在：请检查它，或用 --force 替换" in zh
    _, en = run("targets", "init", TREE, "--dc", "jinan", "-o", str(out))
    assert f"Error: {out} exists: review it, or give --force to replace it" in en


def test_journal_and_lock() -> None:
    (code, zh), (_, en) = both("journal", "verify")
    assert code == 0 and chinese(zh) and "：完整，共 0 条链式条目" in zh
    assert ": intact, 0 chained entries" in en
    (code, zh), (_, en) = both("journal")
    assert code == 0 and "操作人" in zh and "┃ seq ┃ when ┃ who ┃ action ┃" in en
    (code, zh), (_, en) = both("lock", "status", "--dc", "jinan")
    assert code == 0 and chinese(zh), zh
    assert zh.startswith("中心 jinan：空闲（锁文件 ") and "本机锁不会过期失效" in zh
    assert en.startswith("center jinan: free (lock ") and "a local lock cannot be stale" in en
    (code, zh), (_, en) = both("lock", "break", "--dc", "jinan", "--reason", "x")
    assert code == 0 and chinese(zh) and "：无可解除（" in zh and "；未记入变更日志" in zh
    assert "is free: nothing to break (a local lock cannot be stale" in en
    (code, zh), (_, en) = both("lock", "break", "--dc", "jinan", "--reason", " ")
    assert code == 2 and "pesdc lock break：--reason 必须说明原因" in zh
    assert "Error: pesdc lock break: --reason must say why" in en


def test_lock_json_stays_english() -> None:
    _, out = run("--lang", "zh", "lock", "status", "--dc", "jinan", "--json")
    assert "a local lock cannot be stale" in out and not CJK.search(out)


def test_ledger_import_problems(tmp_path: Path) -> None:
    import openpyxl

    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "topologies", tree)
    book = tmp_path / "l.xlsx"
    code, _ = run("ledger", "export", str(tree), "--dc", "jinan", "-o", str(book))
    assert code == 0
    wb = openpyxl.load_workbook(book)
    wb["servers"]["A4"] = None  # a server without a name
    wb.save(book)
    into = ["--into", str(tree / "shandong" / "jinan.yaml")]
    (code, zh), (_, en) = (run("--lang", "zh", "ledger", "import", str(book), *into, "-o",
                               str(tmp_path / "zh.yaml")),
                           run("ledger", "import", str(book), *into, "-o",
                               str(tmp_path / "en.yaml")))
    assert code == 1 and chinese(zh), zh
    assert ":servers!4:A: error SCH003: 缺少必需的键 'name'\n    提示：请增加 name: ..." in zh
    assert ":servers!4:A: error SCH003: missing required key 'name'\n    hint: add name: ..." in en
    # A new file outside any tree: one line, in the language of the run.
    (code, zh), (_, en) = (run("--lang", "zh", "ledger", "import", str(book), "-o",
                               str(tmp_path / "zh.yaml")),
                           run("ledger", "import", str(book), "-o", str(tmp_path / "en.yaml")))
    assert code == 1 and chinese(zh) and "error LEDGER: 新文件不在任何拓扑树中" in zh, zh
    assert "error LEDGER: a new file outside any topology tree" in en


def test_new_city(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "topologies", tree)
    code, zh = run("--lang", "zh", "new", "city", "weifang", "--parent", "shandong", "--stage",
                   "2", "--division-code", "370700", "--tree", str(tree))
    assert code == 0 and "：地址规划 10.7.0.0/16，上联 " in zh and "下一步：pesdc validate" in zh
    code, zh = run("--lang", "zh", "new", "city", "weifang", "--parent", "shandong", "--stage",
                   "2", "--division-code", "370700", "--tree", str(tree))
    assert code == 2 and chinese(zh) and "error NEW002: " in zh and "    提示：" in zh


def test_stage_plan_rehearse_and_diff(tmp_path: Path) -> None:
    (code, zh), (_, en) = both("stage", "plan", TREE, "--dc", "jinan", "--to", "3", "-o",
                               str(tmp_path / "rb.md"))
    assert code == 0 and chinese(zh.replace("\n", "")), zh
    assert "操作手册：" in zh and "待撤销机房：无" in zh.replace("\n", "")
    assert "server move(s), 0 flow(s) to open, rooms" in en.replace("\n", " ")
    (code, zh), (_, en) = both("stage", "rehearse", TREE, "--dc", "jinan", "--to", "3")
    assert code == 2 and chinese(zh) and "未连接任何主机" in zh
    assert "Nothing was contacted." in en
    bad = str(tmp_path / "none.yaml")
    (code, zh), (_, en) = both("diff", str(ROOT / "topologies/shandong/jinan.yaml"), bad)
    assert code == 1 and "pesdc diff：" in zh and "无法作为拓扑读取" in zh
    assert f"pesdc diff: {bad} cannot be read as a topology" in en


def test_diff_of_two_versions(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(ROOT / "topologies", old)
    shutil.copytree(ROOT / "topologies", new)
    city = new / "shandong" / "jinan.yaml"
    city.write_text(city.read_text(encoding="utf-8").replace(
        "peer: shandong, bandwidth_mbps: 1000", "peer: shandong, bandwidth_mbps: 7777", 1),
        encoding="utf-8")
    (code, zh), (_, en) = both("diff", str(old), str(new))
    assert code == 0 and chinese(zh), zh
    assert "~ jinan uplink up-shandong 有变更\n    bandwidth_mbps: 1000.0 -> 7777.0" in zh
    assert zh.endswith("共 2 处变更：新增 0 处，删除 0 处，修改 2 处\n")
    assert "~ jinan uplink up-shandong changed\n" in en
    assert en.endswith("2 change(s): 0 added, 0 removed, 2 changed\n")
    (code, zh), (_, en) = both("diff", str(old), str(old))
    assert zh == "没有变更\n" and en == "no changes\n"
