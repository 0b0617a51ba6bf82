"""`pesdc verify` on a provisioned lab: a clean city passes with its JUnit and HTML.

The drifts verify must catch, each by name, are the table of test_kill_rate.py (the
ones this file once injected are rows there, with the same assertions); the faults
while verify runs are test_verify_faults.py. All share the lab of conftest.py."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.secret_scan import assert_no_secrets
from tests.verify.conftest import LAB, LABCITY, pesdc

pytestmark = pytest.mark.lab


def test_clean_city_passes_with_junit_and_html(provisioned: Path):
    html = provisioned / "verify.html"
    junit = provisioned / "verify.xml"
    res = pesdc("verify", str(LABCITY), "--lab", LAB, "--junit", str(junit), "--html",
                str(html))
    assert res.returncode == 0, res.stdout[-4000:]
    root = ET.parse(junit).getroot()
    assert int(root.get("tests")) > 300 and root.get("failures") == "0"
    assert root.get("errors") == "0"
    suites = {s.get("name") for s in root.iter("testsuite")}
    for cat in ("files", "ports", "services", "logs", "time", "replication", "backups",
                "isolation", "policy", "drift", "routing", "links"):
        assert f"weihai.{cat}" in suites, cat
    page = html.read_text()
    assert "<svg" in page and "PASS" in page
    # the provisioned secrets (state directory) appear in no report verify wrote
    assert_no_secrets([provisioned])


def test_a_lab_that_is_not_up_is_a_clear_error():
    res = pesdc("verify", str(LABCITY), "--lab", "no-such-lab")
    assert res.returncode == 2 and "not up" in res.stderr and "Traceback" not in res.stderr
