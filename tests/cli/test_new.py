"""`pesdc new city` on the command line, in a tmp copy of topologies/: the file is
written and then validates and renders with the real commands; bad input says where,
the rule and what to do, exits 2, with no traceback and nothing written."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scaffold.conftest import snapshot

ROOT = Path(__file__).resolve().parents[2]


def pesdc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pesdc", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    dst = tmp_path / "topologies"
    shutil.copytree(ROOT / "topologies", dst)
    return dst


CITY = ("new", "city", "weifang", "--parent", "shandong", "--stage", "2",
        "--division-code", "370700")


def test_new_city_then_validate_and_render(tree, tmp_path):
    res = pesdc(tree / "shandong", *CITY)  # the tree around the current folder
    assert res.returncode == 0, res.stderr
    assert "wrote weifang.yaml: address plan 10.7.0.0/16, uplink 10.255.0.20/30" in res.stdout
    assert "edited shandong.yaml:" in res.stdout
    assert "rt-2 GigabitEthernet0/0/5: downlink weifang/up-shandong" in res.stdout
    assert "next: pesdc validate .." in res.stdout
    val = pesdc(tree, "validate", ".")
    assert val.returncode == 0 and "0 error(s), 0 warning(s)" in val.stderr, val.stderr
    out = tmp_path / "out"
    ren = pesdc(tree, "render", "shandong/weifang.yaml", "-o", str(out))
    assert ren.returncode == 0, ren.stderr
    devices = out / "devices" / "weifang"
    assert {"fw-1", "fw-2", "gk-1", "rt-1", "rt-2", "core-1"} <= {p.name for p in
                                                                   devices.iterdir()}
    # the border firewall (USG by the tree's defaults) on the template's sub-interfaces
    fw = (devices / "fw-1" / "device.cfg").read_text(encoding="utf-8")
    assert "interface Eth-Trunk1.10" in fw and "security-policy" in fw


def test_tree_option_from_outside(tree, tmp_path):
    res = pesdc(tmp_path, *CITY[:2], "weihai", "--parent", "shandong", "--stage", "3",
                "--division-code", "371000", "--tree", str(tree / "shandong" / "zibo.yaml"))
    assert res.returncode == 0, res.stderr
    assert (tree / "shandong" / "weihai.yaml").is_file()


@pytest.mark.parametrize(("args", "head"), [
    (("--parent", "nowhere"), "--parent: error NEW001: 'nowhere' is not a province center"),
    (("--stage", "5"), "--stage: error NEW005: stage '5' is not 1, 2 or 3"),
    (("--division-code", "3707"), "--division-code: error NEW003: '3707' is not the "
                                  "division code"),
    (("--division-code", "370300"), "shandong/zibo.yaml:19:18: error NEW004: division code "
                                    "370300 is zibo's"),
])
def test_bad_input(tree, args, head):
    before = snapshot(tree)
    argv = list(CITY)
    for opt, value in zip(args[::2], args[1::2], strict=True):
        argv[argv.index(opt) + 1] = value
    res = pesdc(tree, *argv)
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.startswith(head), res.stderr
    assert "\n    hint: " in res.stderr
    assert "Traceback" not in res.stderr
    assert snapshot(tree) == before


def test_twice(tree):
    assert pesdc(tree, *CITY).returncode == 0
    before = snapshot(tree)
    res = pesdc(tree, *CITY)
    assert res.returncode == 2
    assert "error NEW002: a center named 'weifang' is in the tree" in res.stderr
    assert snapshot(tree) == before


def test_outside_any_tree(tmp_path):
    res = pesdc(tmp_path, *CITY)
    assert res.returncode == 2
    assert "error NEW008:" in res.stderr and "Traceback" not in res.stderr


def test_new_province(tree):
    res = pesdc(tree, "new", "province", "henan", "--division-code", "410000")
    assert res.returncode == 0, res.stderr
    assert "wrote henan/henan.yaml: address plan 10.41.0.0/16" in res.stdout
    assert "rt-1 GigabitEthernet0/0/3: downlink henan/up-mohrss" in res.stdout
    val = pesdc(tree, "validate", "henan/henan.yaml")
    assert val.returncode == 0, val.stderr


def test_a_bad_title_lists_the_new_files_own_errors_only(tree):
    """A --title-zh holding a line break fails the schema of the new file (SCH005): that
    is listed, in English and in Chinese; what the parent's edit and the tree's
    references to the center that did not load then say (XC001, NET005) is not."""
    before = snapshot(tree)
    res = pesdc(tree, *CITY, "--title-zh", "潍坊市\n  zone: x")
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        "shandong/weifang.yaml:21:15: error NEW009: SCH005: text holds U+000A LINE FEED at "
        "character 4: a value is one printable line (no line breaks, tabs or other control "
        "characters)",
        "    hint: nothing was written; write the value as one line of plain text; put "
        "long notes in a YAML comment instead"]
    zh = pesdc(tree, "--lang", "zh", *CITY, "--title-zh", "潍坊市\n  zone: x")
    assert zh.returncode == 2
    assert zh.stderr.splitlines() == [
        "shandong/weifang.yaml:21:15: error NEW009: SCH005：文本第 4 个字符是 U+000A LINE "
        "FEED：值应为单行可打印文本（不含换行、制表符或其他控制字符）",
        "    提示：未写入任何文件；请把该值写成一行纯文本；较长的说明请写在 YAML 注释中"]
    assert snapshot(tree) == before
