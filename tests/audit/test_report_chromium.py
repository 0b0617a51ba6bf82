"""The HTML report as an auditor reads it: opened in headless Chromium (Debian chromium),
key content asserted on the rendered DOM, a screenshot saved for a person to look at."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.audit.conftest import NONCOMPLIANT, pesdc
from tests.conftest import require_tool

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Root: Debian's chromium does not start as an unprivileged user here (crashpad).
pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("_chromium")]


@pytest.fixture(scope="module")
def _chromium() -> None:
    require_tool("chromium", "Debian chromium")


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="pesdc-chromium-") as profile:
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def report() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / "audit-noncompliant.zh.html"
    res = pesdc("audit", str(NONCOMPLIANT), "--format", "html", "--lang", "zh", "-o", str(out),
                "--today", "2026-01-15")
    assert res.returncode == 0, res.stderr
    return out


def test_dom_has_the_key_content(report: Path):
    res = chromium("--dump-dom", report.as_uri())
    dom = res.stdout
    assert res.returncode == 0 and "</html>" in dom, res.stderr[-2000:]
    assert "<title>等级保护测评报告（第三级）" in dom
    assert 'id="overall-score">5' in dom  # overall score in the 50s
    assert "安全计算环境" in dom and "安全区域边界" in dom
    assert 'id="AUD-CE-01"' in dom and "<details>" in dom
    assert "日照市人社数据中心" in dom
    assert dom.count("<svg") >= 2  # the family chart and the center's picture
    assert "#ff9a9a" in dom  # a node of the picture is red (fail)


def test_screenshot(report: Path):
    shot = ARTIFACTS / "audit-noncompliant.zh.png"
    shot.unlink(missing_ok=True)
    res = chromium(f"--screenshot={shot}", "--window-size=1400,2000", report.as_uri())
    assert shot.is_file() and shot.stat().st_size > 50_000, res.stderr[-2000:]
