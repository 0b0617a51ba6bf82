"""Verify's kill rate (issue 13, point 6): drifts injected into the converged lab city one
at a time, each over every verify category; verify must catch each by name (the target
and the check in a JUnit failure), and after its restore the lab is clean again.

Each drift runs only the verify part that covers it (``--only PART``), and every failure
of that run must belong to the drift (its target, or the collateral targets it names):
so a drift that was not restored shows up in the next run of the same part. After the
last drift a full verify must pass. The kill rate (caught / injected) is printed and
written to benchmarks/results/verify_kill_rate.json on a recording run
(PESDC_RECORD_RESULTS=1, see tests/results.py), beside the test's files otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.results import record
from tests.verify.conftest import LAB, ROOT, must, named, target_of, verify

pytestmark = pytest.mark.lab

RESULTS = ROOT / "benchmarks" / "results" / "verify_kill_rate.json"
FW_CONF = f"/var/lib/pesdc/labs/{LAB}/nodes/{{}}/config/nftables.conf"
VTYSH = f"vtysh -N pesdc-{LAB}-rt-1"


def _wait(condition: str, seconds: int = 60) -> str:
    """A shell loop: until `condition` holds (or fail after `seconds`)."""
    return (f"i=0; until {condition}; do i=$((i+1)); [ $i -ge {seconds} ] && exit 1; "
            "sleep 1; done")


def _drop_on(ifname: str) -> str:
    """A cut link: every packet in and out of `ifname` dropped (100% loss), in a table
    of its own that the restore deletes."""
    return ("nft add table inet pesdc_drift && nft add chain inet pesdc_drift in "
            "'{ type filter hook prerouting priority -300; }' && nft add chain inet "
            "pesdc_drift out '{ type filter hook postrouting priority -300; }' && "
            f"nft add rule inet pesdc_drift in iifname {ifname} drop && "
            f"nft add rule inet pesdc_drift out oifname {ifname} drop")


UNDROP = "nft delete table inet pesdc_drift"


@dataclass(frozen=True)
class Drift:
    name: str
    category: str  # the verify category the drift is in
    parts: tuple[str, ...]  # the verify parts that cover it (--only)
    inject: list[tuple[str, str]]  # (node, shell command), in order
    restore: list[tuple[str, str]]
    target: str  # the target verify must name: host, site or zone pair
    check: str  # ... and (a part of) the check's name
    detail: str = ""  # a text the failure's message or evidence must hold
    also: tuple[str, ...] = ()  # other targets this drift may fail (collateral)
    more: tuple[tuple[str, str], ...] = ()  # other (target, check) it must fail too
    settle: float = 0.0  # seconds between inject and verify
    fix: str = ""  # the verify change it needed to be caught ("" = caught as it was)


DRIFTS = [
    Drift("service stopped (cron)", "services", ("hosts",),
          [("mis-2", "service cron stop")], [("mis-2", "service cron start")],
          "mis-2", "cron running"),
    Drift("unexpected listening port (tcp/9999)", "ports", ("hosts",),
          [("mis-1", "setsid nohup python3 -m http.server 9999 >/dev/null 2>&1 &")],
          [("mis-1", "pkill -f 'http[.]server 9999'; " + _wait(
              "! ss -Htln | grep -q :9999", 10))],
          "mis-1", "listening ports are exactly the expected set", "tcp/9999", settle=1.5),
    Drift("sshd_config edited (PermitRootLogin yes)", "files", ("hosts",),
          [("mis-2", "sed -i 's/^PermitRootLogin no/PermitRootLogin yes/' "
                     "/etc/ssh/sshd_config")],
          [("mis-2", "sed -i 's/^PermitRootLogin yes/PermitRootLogin no/' "
                     "/etc/ssh/sshd_config")],
          "mis-2", "/etc/ssh/sshd_config", "PermitRootLogin yes"),
    Drift("managed file made world-writable (umask profile)", "files", ("hosts",),
          [("dss-1", "chmod 0666 /etc/profile.d/pesdc-umask.sh")],
          [("dss-1", "chmod 0644 /etc/profile.d/pesdc-umask.sh")],
          "dss-1", "/etc/profile.d/pesdc-umask.sh", "mode 0666",
          fix="files: mode, owner and group of every managed file and directory"),
    Drift("audit rules file emptied", "audit", ("hosts",),
          [("db-1", "cp -p /etc/audit/rules.d/50-pesdc.rules /root/drift.rules && "
                    ": > /etc/audit/rules.d/50-pesdc.rules")],
          [("db-1", "cp -p /root/drift.rules /etc/audit/rules.d/50-pesdc.rules && "
                    "rm /root/drift.rules")],
          "db-1", "/etc/audit/rules.d/50-pesdc.rules"),
    Drift("audit administrator given account rights (sudoers drop-in)", "sudo", ("hosts",),
          [("mis-1", "echo 'auditadmin ALL = (root) /usr/sbin/useradd' > "
                     "/etc/sudoers.d/60-extra && chmod 0440 /etc/sudoers.d/60-extra")],
          [("mis-1", "rm -f /etc/sudoers.d/60-extra")],
          "mis-1", "audit administrator auditadmin", "also holds /usr/sbin/useradd"),
    Drift("second uid-0 account (toor)", "users", ("hosts",),
          [("dx-1", "useradd -o -u 0 -g 0 -M -N -s /bin/sh toor")],
          [("dx-1", "sed -i '/^toor:/d' /etc/passwd /etc/shadow")],
          "dx-1", "root is the only account with uid 0", "toor",
          fix="users: root is the only account with uid 0"),
    Drift("package removed (acl)", "packages", ("hosts",),
          [("web-1", "dpkg -r --force-depends acl >/dev/null 2>&1")],
          [("web-1", "apt-get install -y -q acl >/dev/null 2>&1")],
          "web-1", "acl"),
    Drift("log forwarder stopped (rsyslog)", "logs", ("hosts",),
          [("dss-1", "service rsyslog stop")], [("dss-1", "service rsyslog start")],
          "dss-1", "logs reach the log server", more=(("dss-1", "rsyslog running"),)),
    Drift("time source taken offline (chronyc offline)", "time", ("hosts",),
          [("mis-2", "chronyc offline >/dev/null")],
          [("mis-2", "chronyc online >/dev/null; chronyc burst 4/4 >/dev/null; " + _wait(
              "chronyc -n sources | grep -q '^\\^\\*'", 60))],
          "mis-2", "synchronised to the center's time source"),
    Drift("standby database stopped", "replication", ("hosts",),
          [("db-2", "service postgresql stop")],
          [("db-2", "service postgresql start"),
           ("db-1", _wait("sudo -u postgres psql -AtXc 'select state from "
                          "pg_stat_replication' | grep -q streaming", 60))],
          "db-1", "misdb: standby db-2 streaming", also=("db-2",)),
    Drift("backups gone from the backup host", "backups", ("hosts",),
          [("backup-1", "mkdir /root/drift-dumps && mv /srv/backup/misdb/*.dump "
                        "/root/drift-dumps/")],
          [("backup-1", "mv /root/drift-dumps/*.dump /srv/backup/misdb/ && "
                        "rmdir /root/drift-dumps")],
          "backup-1", "backup of misdb present"),
    Drift("firewall allows exchange -> decision", "isolation", ("isolation", "policy"),
          [("fw-1", "nft insert rule inet pesdc forward ip saddr 10.50.2.0/24 "
                    "ip daddr 10.50.3.0/24 accept")],
          [("fw-1", f"nft -f {FW_CONF.format('fw-1')}")],
          "exchange -> decision", "10.50.2.10 -> 10.50.3.10", also=("fw-1",),
          more=(("fw-1", "forward policy equals the rendered one"),)),
    Drift("allow rule deleted (agencies-to-mis)", "policy", ("policy",),
          [("fw-1", "h=$(nft -a list chain inet pesdc forward | sed -n "
                    "'s/.*agencies-to-mis.*# handle \\([0-9]*\\)$/\\1/p'); "
                    "nft delete rule inet pesdc forward handle $h")],
          [("fw-1", f"nft -f {FW_CONF.format('fw-1')}")],
          "fw-1", "forward policy equals the rendered one", "missing: 3 agencies-to-mis"),
    Drift("accept rule pesdc did not write (backup firewall)", "policy", ("policy",),
          [("fw-2", "nft insert rule inet pesdc forward tcp dport 23 accept")],
          [("fw-2", f"nft -f {FW_CONF.format('fw-2')}")],
          "fw-2", "forward policy equals the rendered one", "did not write"),
    Drift("gatekeeper opened the other way (production -> exchange)", "policy", ("policy",),
          [("gk-1", "nft insert rule inet pesdc forward ip saddr 10.50.1.0/24 "
                    "ip daddr 10.50.2.0/24 accept comment \"back-channel\"")],
          [("gk-1", f"nft -f {FW_CONF.format('gk-1')}")],
          "gk-1", "forward policy equals the rendered one", "extra: back-channel"),
    Drift("router static route added by hand (FRR)", "device drift", ("drift",),
          [("rt-1", f"{VTYSH} -c 'configure terminal' -c 'ip route 10.99.0.0/24 "
                    "10.50.250.2'")],
          [("rt-1", f"{VTYSH} -c 'configure terminal' -c 'no ip route 10.99.0.0/24 "
                    "10.50.250.2'")],
          "rt-1", "running configuration equals intended", "10.99.0.0/24"),
    Drift("firewall input chain opened (tcp/8888 on the backup firewall)", "device drift",
          ("drift",), [("fw-2", "nft insert rule inet pesdc input tcp dport 8888 accept")],
          [("fw-2", f"nft -f {FW_CONF.format('fw-2')}")],
          "fw-2", "running configuration equals intended", "8888"),
    Drift("route to a street station removed", "routing", ("routing",),
          [("rt-1", f"{VTYSH} -c 'configure terminal' -c 'no ip route 10.50.101.0/27 "
                    "10.50.250.2'")],
          [("rt-1", f"{VTYSH} -c 'configure terminal' -c 'ip route 10.50.101.0/27 "
                    "10.50.250.2'")],
          "rt-1", "routes to all 3 sites", "huancui-st1"),
    Drift("OSPF adjacency to the province lost (uplink down)", "routing", ("routing",),
          [("rt-1", "ip link set eth4 down")],
          [("rt-1", "ip link set eth4 up; " + _wait(
              f"{VTYSH} -c 'show ip ospf neighbor' | grep -q Full", 60))],
          "rt-1", "OSPF neighbours Full"),
    Drift("municipal link cut (center - wendeng, 100% loss)", "links", ("links",),
          [("rt-1", _drop_on("eth2"))], [("rt-1", UNDROP)],
          "wendeng", "site reachable"),
    Drift("municipal link cut (huancui - street station, 100% loss)", "links", ("links",),
          [("site:huancui", _drop_on("down1"))], [("site:huancui", UNDROP)],
          "huancui-st1", "site reachable"),
]

_caught: dict[str, bool] = {}
_seconds: dict[str, float] = {}


def test_the_table_covers_every_verify_category() -> None:
    assert len(DRIFTS) >= 20 and len({d.name for d in DRIFTS}) == len(DRIFTS)
    assert {d.category for d in DRIFTS} >= {
        "services", "ports", "files", "users", "sudo", "logs", "time", "replication",
        "backups", "isolation", "policy", "device drift", "routing", "links", "packages",
        "audit"}


@pytest.mark.parametrize("drift", DRIFTS, ids=[d.name for d in DRIFTS])
def test_verify_catches_the_drift_by_name(provisioned: Path, drift: Drift) -> None:
    started = time.monotonic()
    _caught[drift.name] = False
    try:
        for node, cmd in drift.inject:
            must(node, cmd)
        time.sleep(drift.settle)
        rc, failures = verify(provisioned, *drift.parts)
        caught = rc == 1 and named(failures, drift.target, drift.check)
        _caught[drift.name] = caught
        assert caught, f"{drift.name}: verify --only {drift.parts} exit {rc}, not naming " \
                       f"{drift.target} / {drift.check}: {failures}"
        if drift.detail:
            assert any(drift.detail in f["message"] + f["evidence"] for f in failures
                       if named([f], drift.target, drift.check)), failures
        for target, check in drift.more:
            assert named(failures, target, check), (target, check, failures)
        # Everything that failed is this drift: the previous one was restored.
        allowed = {drift.target, *drift.also}
        stray = [f for f in failures
                 if not ({target_of(f), target_of(f).split(".")[0]} & allowed)]
        assert not stray, f"{drift.name}: failures outside the drift: {stray}"
    finally:
        for node, cmd in drift.restore:
            must(node, cmd, timeout=180)
        _seconds[drift.name] = round(time.monotonic() - started, 1)


def test_every_drift_restored_verify_passes_and_the_kill_rate(provisioned: Path,
                                                              tmp_path: Path) -> None:
    rc, failures = verify(provisioned)
    assert rc == 0 and not failures, failures
    injected = [d.name for d in DRIFTS if d.name in _caught]
    caught = [n for n in injected if _caught[n]]
    print(f"\nverify kill rate: {len(caught)}/{len(injected)} drifts caught by name")
    for d in DRIFTS:
        if d.name in _caught:
            print(f"  {'caught' if _caught[d.name] else 'MISSED'}  [{d.category}] {d.name}"
                  f" ({_seconds.get(d.name, 0)} s){'  - needed: ' + d.fix if d.fix else ''}")
    if len(injected) < len(DRIFTS):
        pytest.skip(f"only {len(injected)} of {len(DRIFTS)} drifts ran (a selection): the "
                    "kill rate is not written")
    result = {
        "injected": len(injected), "caught": len(caught), "drifts": injected,
        "passed": len(caught) == len(injected),
        "missed": [n for n in injected if not _caught[n]],
        "categories": sorted({d.category for d in DRIFTS}),
        "needed_a_verify_fix": {d.name: d.fix for d in DRIFTS if d.fix},
        "seconds": _seconds,
        "lab": "tests/fixtures/labcity (weihai), one drift at a time, --only PART",
    }
    record(RESULTS.name, result, tmp_path)
    assert result["passed"], result["missed"]

