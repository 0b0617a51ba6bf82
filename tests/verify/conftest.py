"""One provisioned lab city ("tvfy", tests/fixtures/labcity) for every verify lab test:
brought up, applied and backed up once, taken down after the last verify test.

``PESDC_VERIFY_KEEP_LAB=1`` (for working on these tests) keeps the lab up at the end and
reuses one that an earlier run provisioned (its marker file), instead of applying again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

ROOT = Path(__file__).resolve().parents[2]
LABCITY = ROOT / "tests" / "fixtures" / "labcity"
LAB = "tvfy"
PESDC = [sys.executable, "-m", "pesdc"]
KEEP_ENV = "PESDC_VERIFY_KEEP_LAB"


def pesdc(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PESDC, *args], capture_output=True, text=True, timeout=timeout)


def on(node: str, command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A shell command on a lab node (inside its namespaces, as root)."""
    return pesdc("lab", "exec", "--name", LAB, node, "sh", "-c", command, timeout=timeout)


def must(node: str, command: str, timeout: float = 120) -> str:
    res = on(node, command, timeout)
    assert res.returncode == 0, f"{node}: {command}: {res.stdout[-1000:]}{res.stderr[-1000:]}"
    return res.stdout


def read_junit(junit: Path) -> list[dict[str, str]]:
    """Every failed and errored testcase: kind (failure / error), classname (CENTER.
    CATEGORY.TARGET), name, message, evidence."""
    out = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        for kind in ("failure", "error"):
            el = case.find(kind)
            if el is not None:
                out.append({"kind": kind, "classname": case.get("classname") or "",
                            "name": case.get("name") or "", "message": el.get("message") or "",
                            "evidence": el.text or ""})
    return out


def verify(tmp: Path, *only: str) -> tuple[int, list[dict[str, str]]]:
    """`pesdc verify --only PART...` on the lab: exit code, failures and errors."""
    junit = tmp / f"verify-{time.monotonic_ns()}.xml"
    args = ["verify", str(LABCITY), "--lab", LAB, "--junit", str(junit)]
    for part in only:
        args += ["--only", part]
    res = pesdc(*args)
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    return res.returncode, read_junit(junit)


def target_of(case: dict[str, str]) -> str:
    """The target of a JUnit testcase (its classname is CENTER.CATEGORY.TARGET)."""
    return case["classname"].split(".", 2)[-1]


def named(failures: list[dict[str, str]], target: str, check: str, kind: str = "failure"
          ) -> bool:
    """A failure (or error) of ``target`` (a host or site by name, or an isolation zone
    pair) whose check name holds ``check``."""
    return any(f["kind"] == kind and target in (target_of(f), target_of(f).split(".")[0])
               and check in f["name"] for f in failures)


def backup_now() -> None:
    """The nightly backup job, once now, so that "backups present" has something."""
    res = on("backup-1", "/usr/local/sbin/pesdc-backup-pull")
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.fixture(scope="package")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("lab test: needs root, and this is not root")
    from pesdc.lab import image
    from pesdc.lab.runtime import Lab

    if not image.is_ready():
        pytest.fail("the lab base image is not built: `pesdc lab image build`", pytrace=False)
    keep = os.environ.get(KEEP_ENV, "") not in ("", "0")
    marker = Lab(LAB).dir / "pesdc-test-provisioned"
    try:
        res = pesdc("lab", "up", str(LABCITY), "--name", LAB)
        assert res.returncode == 0, res.stderr
        if not (keep and marker.is_file()):
            res = pesdc("apply", str(LABCITY), "--lab", LAB, timeout=1500)
            assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
            backup_now()
            marker.write_text("applied\n")
        yield tmp_path_factory.mktemp("verify")
    finally:
        if not keep:
            pesdc("lab", "down", "--name", LAB)


@pytest.fixture
def closed_port(tmp_path: Path) -> Path:
    """An ssh_config whose every host is a closed port on loopback: the connect is
    refused at once, for real, and nothing leaves the machine."""
    config = tmp_path / "ssh_config"
    config.write_text("Host *\n  Hostname 127.0.0.1\n  Port 1\n  ConnectTimeout 3\n"
                      "  BatchMode yes\n  StrictHostKeyChecking no\n"
                      "  UserKnownHostsFile /dev/null\n", "utf-8")
    return config
