"""`pesdc verify` on a provisioned lab: a clean city passes, and each drift the issue
names is caught and named."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from pesdc.lab import image
from tests.secret_scan import assert_no_secrets

ROOT = Path(__file__).resolve().parents[2]
LABCITY = ROOT / "tests" / "fixtures" / "labcity"
LAB = "tvfy"
PESDC = [sys.executable, "-m", "pesdc"]
pytestmark = pytest.mark.lab


def pesdc(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PESDC, *args], capture_output=True, text=True, timeout=timeout)


def on(node: str, command: str) -> subprocess.CompletedProcess[str]:
    return pesdc("lab", "exec", "--name", LAB, node, "sh", "-c", command, timeout=120)


def verify(tmp: Path, *only: str) -> tuple[int, list[dict]]:
    junit = tmp / f"verify-{time.monotonic_ns()}.xml"
    args = ["verify", str(LABCITY), "--lab", LAB, "--junit", str(junit)]
    for part in only:
        args += ["--only", part]
    res = pesdc(*args)
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    failures = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        fail = case.find("failure")
        if fail is not None:
            failures.append({"classname": case.get("classname"), "name": case.get("name"),
                             "message": fail.get("message"), "evidence": fail.text or ""})
    return res.returncode, failures


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory):
    if os.geteuid() != 0 or not image.is_ready():
        pytest.skip("needs root and the lab image")
    res = pesdc("lab", "up", str(LABCITY), "--name", LAB)
    assert res.returncode == 0, res.stderr
    try:
        res = pesdc("apply", str(LABCITY), "--lab", LAB, timeout=1500)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        # The nightly backup job, once now, so that "backups present" has something.
        res = on("backup-1", "/usr/local/sbin/pesdc-backup-pull")
        assert res.returncode == 0, res.stdout + res.stderr
        yield tmp_path_factory.mktemp("verify")
    finally:
        pesdc("lab", "down", "--name", LAB)


def test_clean_city_passes_with_junit_and_html(provisioned: Path):
    html = provisioned / "verify.html"
    junit = provisioned / "verify.xml"
    res = pesdc("verify", str(LABCITY), "--lab", LAB, "--junit", str(junit), "--html",
                str(html))
    assert res.returncode == 0, res.stdout[-4000:]
    root = ET.parse(junit).getroot()
    assert int(root.get("tests")) > 300 and root.get("failures") == "0"
    suites = {s.get("name") for s in root.iter("testsuite")}
    for cat in ("files", "ports", "services", "logs", "time", "replication", "backups",
                "isolation", "policy", "drift", "routing", "links"):
        assert f"weihai.{cat}" in suites, cat
    page = html.read_text()
    assert "<svg" in page and "PASS" in page
    # the provisioned secrets (state directory) appear in no report verify wrote
    assert_no_secrets([provisioned])


def _named(failures: list[dict], target: str, text: str) -> bool:
    return any(target in f["classname"] and text in (f["name"] + f["message"])
               for f in failures)


def test_extra_listening_port_is_caught(provisioned: Path):
    on("mis-1", "setsid nohup python3 -m http.server 9999 >/dev/null 2>&1 &")
    time.sleep(1)
    try:
        rc, failures = verify(provisioned, "hosts")
        assert rc == 1
        assert _named(failures, "mis-1", "listening ports")
        assert any("tcp/9999" in f["message"] for f in failures)
    finally:
        on("mis-1", "pkill -f 'http.server 9999'")


def test_permit_root_login_is_caught(provisioned: Path):
    on("mis-2", "sed -i 's/^PermitRootLogin no/PermitRootLogin yes/' /etc/ssh/sshd_config")
    try:
        rc, failures = verify(provisioned, "hosts")
        assert rc == 1
        fail = next(f for f in failures if "mis-2" in f["classname"]
                    and f["name"] == "/etc/ssh/sshd_config")
        assert "PermitRootLogin yes" in fail["evidence"]
    finally:
        on("mis-2", "sed -i 's/^PermitRootLogin yes/PermitRootLogin no/' "
                    "/etc/ssh/sshd_config")


def test_rule_allowing_exchange_to_decision_is_caught(provisioned: Path):
    rule = ("nft insert rule inet pesdc forward ip saddr 10.50.2.0/24 ip daddr 10.50.3.0/24 "
            "accept")
    assert on("fw-1", rule).returncode == 0
    try:
        rc, failures = verify(provisioned, "policy", "isolation")
        assert rc == 1
        assert _named(failures, "fw-1", "forward policy")
        assert any("exchange -> decision" in f["classname"] for f in failures)
    finally:
        conf = f"/var/lib/pesdc/labs/{LAB}/nodes/fw-1/config/nftables.conf"
        assert on("fw-1", f"nft -f {conf}").returncode == 0


def test_stopped_log_forwarder_is_caught(provisioned: Path):
    on("dss-1", "service rsyslog stop")
    try:
        rc, failures = verify(provisioned, "hosts")
        assert rc == 1
        assert _named(failures, "dss-1", "rsyslog running")
        assert _named(failures, "dss-1", "logs reach the log server")
    finally:
        on("dss-1", "service rsyslog start")


def test_changed_frr_route_is_caught(provisioned: Path):
    from pesdc.lab.runtime import Lab

    lab = Lab(LAB)
    lab_ssh = lab.controller_argv(["ssh", "-F", str(lab.ssh_dir / "ssh_config"), "rt-1.weihai"])
    subprocess.run([*lab_ssh, "configure terminal\nip route 10.99.0.0/24 10.50.250.2\nend"],
                   capture_output=True, text=True, timeout=60)
    out = on("rt-1", f"vtysh -N pesdc-{LAB}-rt-1 -c 'show running-config'").stdout
    assert "10.99.0.0/24" in out
    try:
        rc, failures = verify(provisioned, "drift")
        assert rc == 1
        fail = next(f for f in failures if "rt-1" in f["classname"])
        assert "10.99.0.0/24" in fail["evidence"]
    finally:
        on("rt-1", f"vtysh -N pesdc-{LAB}-rt-1 -c 'configure terminal' "
                   "-c 'no ip route 10.99.0.0/24 10.50.250.2'")


def test_standby_database_disconnected_is_caught(provisioned: Path):
    on("db-2", "service postgresql stop")
    try:
        rc, failures = verify(provisioned, "hosts")
        assert rc == 1
        assert _named(failures, "db-1", "standby db-2 streaming")
    finally:
        on("db-2", "service postgresql start")
        time.sleep(3)


def test_audit_administrator_given_account_rights_is_caught(provisioned: Path):
    # Separation of duties (三权分立): a sudoers drop-in outside pesdc's managed files that
    # lets the audit administrator manage accounts is seen through `sudo -l`.
    from pesdc.model.loader import load
    from pesdc.provision.desired import desired_state

    spec = desired_state(load([LABCITY]).topology, "weihai", "mis-1", lab=True)
    auditor = next(u.name for u in spec.users if u.admin_role == "audit")
    drop_in = "/etc/sudoers.d/60-extra"
    on("mis-1", f"echo '{auditor} ALL = (root) /usr/sbin/useradd' > {drop_in}; "
                f"chmod 0440 {drop_in}")
    try:
        rc, failures = verify(provisioned, "hosts")
        assert rc == 1
        fail = next(f for f in failures if "mis-1" in f["classname"]
                    and f["name"].startswith("audit administrator"))
        assert "also holds /usr/sbin/useradd" in fail["message"]
        assert not any(f["name"].startswith(("system administrator", "security administrator"))
                       for f in failures)
    finally:
        on("mis-1", f"rm -f {drop_in}")


def test_a_lab_that_is_not_up_is_a_clear_error():
    res = pesdc("verify", str(LABCITY), "--lab", "no-such-lab")
    assert res.returncode == 2 and "not up" in res.stderr and "Traceback" not in res.stderr
