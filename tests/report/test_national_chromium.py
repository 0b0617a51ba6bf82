"""The national page as a person opens it: headless Chromium (Debian chromium) renders
the zh page; the DOM it built keeps the CJK text, and a screenshot is saved to look at.
Marked lab like tests/audit/test_report_chromium.py: Debian's chromium needs root here
(crashpad); no lab is brought up."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.audit.test_report_chromium import chromium
from tests.conftest import require_tool
from tests.report.conftest import pesdc, results_dir, verify_junit

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
pytestmark = [pytest.mark.lab, pytest.mark.slow]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, example_tree: Path,
         jinan_audit: Path) -> Path:
    require_tool("chromium", "Debian chromium")
    results = results_dir(tmp_path_factory.mktemp("results"), {"jinan": jinan_audit},
                          {"jinan": verify_junit("jinan"), "zibo": verify_junit("zibo", 1)})
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / "national.zh.html"
    res = pesdc("report", "national", str(results), "--tree", str(example_tree), "--lang", "zh",
                "-o", str(out))
    assert res.returncode == 0, res.stderr
    return out


def test_rendered_dom_keeps_the_cjk_text(page: Path):
    res = chromium("--dump-dom", page.as_uri())
    assert res.returncode == 0 and "</html>" in res.stdout, res.stderr[-2000:]
    assert "<title>全国数据中心汇总</title>" in res.stdout
    assert "济南市人力资源和社会保障数据中心" in res.stdout and "无证据" in res.stdout


def test_screenshot(page: Path):
    shot = ARTIFACTS / "national.zh.png"
    shot.unlink(missing_ok=True)
    res = chromium(f"--screenshot={shot}", "--window-size=1200,1400", page.as_uri())
    assert shot.is_file() and shot.stat().st_size > 20_000, res.stderr[-2000:]
