"""Results of several centers for `pesdc report national`.

The audit results are real: static audits (`pesdc audit TREE --dc CENTER --format json`)
of the example tree. The verify results have the shape `pesdc verify --junit` writes: a
real one needs a lab, so they are written by verify's own report code
(pesdc.verify.report.junit_xml) on checks built here."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pesdc.verify.checks import Check, VerifyReport
from pesdc.verify.report import junit_xml

ROOT = Path(__file__).resolve().parents[2]
HIGH_RULES = ("AUD-CE-06", "AUD-CN-09", "AUD-MC-10")  # jinan's high-risk partials today


def pesdc(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pesdc", *args], capture_output=True,
                          text=True, timeout=timeout)


def verify_junit(dc: str, failing: int = 0, errors: int = 0) -> str:
    checks = [Check(f"app-1.{dc}", "services", "nginx running", True, "active", "active")]
    checks += [Check(f"db-1.{dc}", "ports", f"port {5432 + i} closed", False, "closed",
                     "open") for i in range(failing)]
    checks += [Check.errored(f"fw-1.{dc}", "drift", "running config", "ssh timed out")
               for _ in range(errors)]
    return junit_xml(VerifyReport(dc, checks, 1.0))


@pytest.fixture(scope="session")
def example_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example tree with Jinan declaring stage 2: it meets 3, so the stage check
    lets it move on (the evidence decides)."""
    tree = tmp_path_factory.mktemp("tree") / "topologies"
    shutil.copytree(ROOT / "topologies", tree)
    jinan = tree / "shandong" / "jinan.yaml"
    text = jinan.read_text(encoding="utf-8")
    assert "  stage: 3\n" in text
    jinan.write_text(text.replace("  stage: 3\n", "  stage: 2\n", 1), encoding="utf-8")
    return tree


@pytest.fixture(scope="session")
def jinan_audit(example_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("audit") / "jinan.json"
    res = pesdc("audit", str(example_tree), "--dc", "jinan", "--format", "json", "-o", str(out))
    assert out.is_file(), res.stderr
    return out


@pytest.fixture(scope="session")
def jinan_audit_waived(example_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same audit with its high-risk rules waived (approved, not yet expired)."""
    folder = tmp_path_factory.mktemp("audit-waived")
    waivers = folder / "waivers.yaml"
    waivers.write_text("waivers:\n" + "".join(
        f"  - id: {r}\n    justification: remediation scheduled\n    approver: 张三 (CISO)\n"
        f"    expires: 2099-12-31\n" for r in HIGH_RULES), encoding="utf-8")
    out = folder / "jinan.json"
    res = pesdc("audit", str(example_tree), "--dc", "jinan", "--format", "json",
                "--waivers", str(waivers), "-o", str(out))
    assert out.is_file(), res.stderr
    return out


def results_dir(root: Path, audits: dict[str, Path], verifies: dict[str, str]) -> Path:
    for dc, src in audits.items():
        (root / dc).mkdir(parents=True, exist_ok=True)
        shutil.copy(src, root / dc / "audit.json")
    for dc, text in verifies.items():
        (root / dc).mkdir(parents=True, exist_ok=True)
        (root / dc / "verify.xml").write_text(text, encoding="utf-8")
    return root
