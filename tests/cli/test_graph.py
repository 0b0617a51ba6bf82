"""pesdc graph: the data-center diagram (svg, png, dot) and its library function."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from pesdc.cli.main import main
from pesdc.graph import center_graph
from pesdc.model import validate
from pesdc.model.tree import CenterError
from tests.conftest import MINI, require_tool


@pytest.fixture
def _dot() -> str:
    return require_tool("dot", "Debian graphviz")


needs_dot = pytest.mark.usefixtures("_dot")
SVG = "{http://www.w3.org/2000/svg}"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return "\n".join(t.text or "" for t in root.iter(f"{SVG}text"))


@needs_dot
def test_graph_svg_zh(tmp_path: Path) -> None:
    out = tmp_path / "jinan.svg"
    code, stdout, err = run("graph", str(MINI), "--dc", "jinan", "-o", str(out),
                            "--lang", "zh")
    assert code == 0, err
    assert "wrote" in stdout
    text = svg_text(out)
    for zone in ("生产区", "交换区", "决策区", "互联网接入区", "安全管理区"):
        assert zone in text
    assert "物理隔离" in text  # the internet/production pair
    assert "网闸 gatekeeper" in text
    assert "防火墙 firewall: 1 flows" in text
    for site in ("lixia", "lixia-st1", "talent-room"):
        assert site in text
    assert "100M 2ms" in text  # link label
    assert "mis-1" in text and "fw-1 / fw-2" in text


@needs_dot
def test_graph_svg_en(tmp_path: Path) -> None:
    out = tmp_path / "jinan.svg"
    code, _, err = run("graph", str(MINI), "--dc", "jinan", "-o", str(out))
    assert code == 0, err
    text = svg_text(out)
    assert "physical" in text and "production" in text and "municipal network" in text


def test_graph_dot(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "jinan.dot"
    code, _, err = run("graph", str(MINI), "--dc", "jinan", "-o", str(out))
    assert code == 0, err
    src = out.read_text(encoding="utf-8")
    assert src.startswith("// pesdc jinan") and "digraph jinan" in src
    assert "cluster_production" in src and "物理隔离" in src
    assert "Noto Sans CJK SC" in src


@needs_dot
def test_graph_png_and_hosted_city(tmp_path: Path) -> None:
    png = tmp_path / "laiwu.png"
    code, _, err = run("graph", str(MINI), "--dc", "laiwu", "-o", str(png), "--lang", "zh")
    assert code == 0, err
    assert png.read_bytes().startswith(b"\x89PNG")


def test_graph_unknown_dc(tmp_path: Path) -> None:
    code, _, err = run("graph", str(MINI), "--dc", "atlantis", "-o", str(tmp_path / "x.svg"))
    assert code == 2
    assert "no data center named 'atlantis'" in err
    assert "jinan" in err and "Traceback" not in err
    assert not (tmp_path / "x.svg").exists()


def test_graph_needs_dc_when_several(tmp_path: Path) -> None:
    code, _, err = run("graph", str(MINI), "-o", str(tmp_path / "x.svg"))
    assert code == 2
    assert "--dc" in err and "mohrss, shandong, jinan, laiwu" in err


def test_graph_unknown_suffix(tmp_path: Path) -> None:
    code, _, err = run("graph", str(MINI), "--dc", "jinan", "-o", str(tmp_path / "x.txt"))
    assert code == 2 and ".svg" in err


def test_select_center_single_own_center() -> None:
    topo = validate([MINI]).topology
    for name in ("mohrss", "shandong"):
        del topo.datacenters[name]
    assert topo.pick_center(None).name == "jinan"  # laiwu is hosted
    with pytest.raises(CenterError, match="atlantis"):
        topo.pick_center("atlantis")


def test_center_graph_library() -> None:
    topo = validate([MINI]).topology
    g = center_graph(topo, "jinan", "en")
    assert "cluster_exchange" in g.source
    assert "gatekeeper" in g.source


def test_graph_module_has_no_click() -> None:
    code = "import sys, pesdc.graph, pesdc.catalog; print('click' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"
