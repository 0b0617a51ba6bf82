"""RHEL-family (openEuler, Kylin) command paths, without a live host."""

from __future__ import annotations

from pathlib import Path

from pesdc.model.loader import load
from pesdc.provision import deploys
from pesdc.provision.desired import desired_state

CITY = Path(__file__).resolve().parents[2] / "tests/fixtures/labcity"


def _spec(name: str, osf: str = "rhel"):
    topo = load([CITY]).topology
    dc = topo.datacenters["weihai"]
    for s in dc.servers:
        s.os = type(s.os)(osf)
    return desired_state(topo, "weihai", name, lab=False, deploy_pubkeys=["ssh-ed25519 K x"],
                         backup_pubkey="ssh-ed25519 B y")


def test_rhel_packages_and_paths():
    spec = _spec("db-1")
    assert {"audit", "libpwquality", "postgresql-server", "chrony", "rsyslog"} <= set(spec.packages)
    assert "auditd" not in spec.packages and "libpam-pwquality" not in spec.packages
    paths = {f.path for f in spec.files}
    assert "/etc/chrony.conf" in paths and "/etc/chrony/chrony.conf" not in paths
    assert "/var/lib/pgsql/data/pg_hba.conf" in paths
    assert not any(p.startswith("/usr/share/pam-configs") for p in paths)
    assert {s.name for s in spec.services} >= {"sshd", "crond", "chronyd", "auditd"}
    web = _spec("web-1")
    assert "nginx" in web.packages and "ssl-cert" not in web.packages


def test_rhel_commands():
    assert deploys.package_module("rhel") == "dnf"
    cmds = deploys.faillock_commands("rhel")
    assert "authselect enable-feature with-faillock" in cmds
    assert "/etc/pam.d/system-auth" in deploys.faillock_check("rhel")
    assert deploys.lock_account_commands("rhel", "games") == ["usermod -L -s /sbin/nologin games"]
    assert deploys.disable_service_commands("rhel", "cups") == ["systemctl disable --now cups"]
    assert deploys.service_reload_command("rhel", "sshd", "reload") == "systemctl reload sshd"


def test_debian_commands():
    assert deploys.package_module("debian") == "apt"
    assert "pam-auth-update" in deploys.faillock_commands("debian")[0]
    assert deploys.faillock_ok("debian", "2 1") and not deploys.faillock_ok("debian", "0 0")


def test_lab_marks_kernel_global_controls():
    topo = load([CITY]).topology
    spec = desired_state(topo, "weihai", "ntp-1", lab=True)
    assert "PESDC-BL-16" in spec.not_applicable and "PESDC-BL-09" in spec.not_applicable
    assert all(k.startswith(("net.ipv4.", "net.ipv6.")) for k in spec.data["pesdc"]["sysctl_net"])
    assert "kernel.kptr_restrict" in spec.data["pesdc"]["sysctl_global"]
    assert all(f.control for f in spec.files) and all(f.template for f in spec.files)


def test_scram_verifier_is_stable():
    a = deploys.scram_verifier("secret", "weihai")
    assert a == deploys.scram_verifier("secret", "weihai") and a.startswith("SCRAM-SHA-256$4096:")
    assert "secret" not in a
