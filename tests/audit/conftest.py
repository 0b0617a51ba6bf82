"""Shared helpers of the audit tests: the small Linux city, recorded host evidence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pesdc.audit.catalog import Catalog, load_catalog
from pesdc.audit.evidence import parse_sections, static_evidence
from pesdc.audit.registry import AuditContext, HostEvidence
from pesdc.model import validate
from pesdc.model.tree import Topology

ROOT = Path(__file__).resolve().parents[2]
LABCITY = ROOT / "tests" / "fixtures" / "labcity"
NONCOMPLIANT = ROOT / "topologies-noncompliant"
EVIDENCE = Path(__file__).resolve().parent / "evidence"
GOLDEN = ROOT / "tests" / "render" / "golden"


def load(path: Path = LABCITY) -> Topology:
    res = validate([path])
    assert res.report.ok, [d.format() for d in res.report.sorted()]
    return res.topology


def context(topo: Topology, dc: str = "weihai") -> AuditContext:
    ctx = AuditContext(topo, topo.datacenters[dc])
    static_evidence(ctx)
    return ctx


def recorded(name: str) -> HostEvidence:
    """Evidence recorded from a lab host with the collector script (pesdc lab exec)."""
    return HostEvidence(f"{name}.weihai", "lab",
                        parse_sections((EVIDENCE / f"{name}.txt").read_text()))


def pesdc(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pesdc", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()
