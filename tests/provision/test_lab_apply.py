"""provision against a real lab: plan changes nothing, apply converges, second apply is
empty, a dead host fails alone, the journal records every host (needs root and the image).

The lab city runs its database on a port of its own (5433, issue 14): provision
configures it, verify's port and replication checks and audit's listener rule agree on
it in the same lab."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from pesdc.lab import image
from tests.provision.dbport import PORT, labcity_on_port

ROOT = Path(__file__).resolve().parents[2]
PESDC = str(ROOT / ".venv/bin/pesdc")
LAB = "pv"
HOSTS = ["web-1", "dx-1", "mis-1", "mis-2", "db-1", "db-2", "dss-1", "log-1", "ntp-1",
         "bastion-1", "backup-1"]

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not image.is_ready(),
                                reason="needs root and the lab image")
pytestmark = [pytestmark, pytest.mark.lab]


def pesdc(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([PESDC, *args], capture_output=True, text=True, timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError(f"pesdc {' '.join(args)}: rc={res.returncode}\n{res.stdout}\n"
                             f"{res.stderr[-3000:]}")
    return res


def sh(node: str, cmd: str, check: bool = True) -> str:
    res = pesdc("lab", "exec", "--name", LAB, node, "--", "sh", "-c", cmd, check=check)
    return res.stdout


def apply_json(city: str, check: bool = True) -> tuple[dict, float]:
    t = time.monotonic()
    res = pesdc("apply", city, "--lab", LAB, "--json", check=check)
    return json.loads(res.stdout), time.monotonic() - t


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory):
    city = str(labcity_on_port(tmp_path_factory.mktemp("pv") / "labcity", PORT))
    pesdc("lab", "down", "--name", LAB, check=False)
    pesdc("lab", "up", city, "--name", LAB)
    timings: dict[str, float] = {}
    try:
        before = sh("mis-1", "md5sum /etc/ssh/sshd_config /etc/passwd")
        plan = pesdc("plan", city, "--lab", LAB, "--json")
        timings["plan"] = 0.0
        assert sh("mis-1", "md5sum /etc/ssh/sshd_config /etc/passwd") == before
        first, timings["apply1"] = apply_json(city)
        yield {"plan": json.loads(plan.stdout), "first": first, "timings": timings,
               "city": city}
    finally:
        print("timings:", timings)
        pesdc("lab", "down", "--name", LAB, check=False)


def test_plan_shows_changes(applied):
    plan = applied["plan"]
    assert plan["ok"] and len(plan["hosts"]) == 11
    assert all(h["changed"] > 10 for h in plan["hosts"])
    names = {c for h in plan["hosts"] for c in h["changes"]}
    assert "[PESDC-BL-07] file /etc/ssh/sshd_config" in names


def test_first_apply_succeeds_everywhere(applied):
    first = applied["first"]
    assert first["ok"], [h for h in first["hosts"] if not h["ok"]]
    assert sorted(h["host"] for h in first["hosts"]) == sorted(f"{h}.weihai" for h in HOSTS)
    print("first apply", first["seconds"], "s")


def test_admins_and_sudo(applied):
    out = sh("mis-1", "id sysadmin && id auditadmin && id secadmin && sudo -l -U auditadmin")
    assert "/usr/sbin/ausearch" in out and "apt-get" not in out
    assert "/usr/bin/apt-get" in sh("mis-1", "sudo -l -U sysadmin")


def test_sshd_and_auth_files(applied):
    assert "PermitRootLogin no" in sh("db-1", "cat /etc/ssh/sshd_config")
    sh("db-1", "/usr/sbin/sshd -t")
    assert "minlen = 12" in sh("db-1", "cat /etc/security/pwquality.conf")
    assert "deny = 5" in sh("db-1", "cat /etc/security/faillock.conf")
    assert "pam_faillock" in sh("db-1", "cat /etc/pam.d/common-auth")
    assert "PASS_MAX_DAYS\t\t90" in sh("db-1", "cat /etc/login.defs")
    assert sh("db-1", "bash -lc 'echo $TMOUT'").strip() == "600"
    assert "ClientAliveInterval 600" in sh("db-1", "cat /etc/ssh/sshd_config")


def test_logs_reach_the_log_server(applied):
    assert "10.50.9.10" in sh("mis-1", "cat /etc/rsyslog.d/50-pesdc-forward.conf")
    token = f"pesdc-test-{time.time_ns()}"
    sh("mis-1", f"logger -t pesdc-test {token}")
    for _ in range(40):
        if token in sh("log-1", "cat /var/log/remote/mis-1/*.log 2>/dev/null || true"):
            return
        time.sleep(0.5)
    raise AssertionError("log-1 did not receive mis-1's message")


def test_chrony_time_source(applied):
    assert "allow 10.50.1.0/24" in sh("ntp-1", "cat /etc/chrony/chrony.conf")
    assert "server 10.50.9.12 iburst" in sh("mis-1", "cat /etc/chrony/chrony.conf")
    for _ in range(30):
        out = sh("mis-1", "chronyc -n sources 2>&1 || true")
        if "10.50.9.12" in out and " 0 " not in out.split("10.50.9.12")[1][:12]:
            return
        time.sleep(1)
    assert "10.50.9.12" in out


def test_postgresql_primary_standby(applied):
    for _ in range(20):
        out = sh("db-1", f"runuser -u postgres -- psql -p {PORT} -XtAc "
                 "'SELECT state FROM pg_stat_replication'")
        if "streaming" in out:
            break
        time.sleep(1)
    assert out.strip() == "streaming"
    hba = sh("db-1", "cat /etc/postgresql/15/main/pg_hba.conf")
    assert "10.50.1.10/32" in hba and "0.0.0.0/0               reject" in hba
    assert "10.50.3." not in hba


def _verify_inside(city: str, call: str) -> list[dict]:
    """verify's host checks, run from the lab's controller namespace (``call``: an
    expression of hosts, topo and ssh giving a list of checks)."""
    import sys

    from pesdc.lab.enter import run_inside

    code = ("import json; from pathlib import Path; from pesdc.model import validate; "
            "from pesdc.lab.enter import access; from pesdc.verify import hosts; "
            f"topo = validate([Path({city!r})]).topology; ssh = access({LAB!r}).ssh_config; "
            f"print(json.dumps([c.as_dict() for c in {call}]))")
    proc = run_inside(LAB, [sys.executable, "-c", code], capture_output=True, timeout=180,
                      cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_database_on_its_own_port_provision_verify_and_audit_agree(applied):
    """Provisioned on 5433: the cluster listens there, verify's port and replication
    checks pass, and audit's listener rule (AUD-CE-17) passes on the host's own ss."""
    from pesdc.audit.registry import HOST_CHECKS, AuditContext, HostEvidence, all_checks
    from pesdc.model import validate

    city = applied["city"]
    ss = {n: sh(n, "ss -H -tuln") for n in ("db-1", "db-2")}
    assert all(f":{PORT} " in text and ":5432 " not in text for text in ss.values()), ss
    checks = _verify_inside(city, "hosts.check_host(topo, 'weihai', 'db-1', ssh) + "
                                  "hosts.check_host(topo, 'weihai', 'db-2', ssh) + "
                                  "hosts.check_replication(topo, 'weihai', ssh)")
    named = [c for c in checks if c["category"] in ("ports", "replication")]
    assert len(named) == 3 and all(c["ok"] for c in named), named
    assert all(f"tcp/{PORT}" in c["expected"] for c in named if c["category"] == "ports")
    topo = validate([city]).topology
    ctx = AuditContext(topo, topo.datacenters["weihai"], "lab")
    all_checks()
    for name, text in ss.items():
        facts = ctx.host_facts(next(s for s in ctx.dc.servers if s.name == name))
        res = HOST_CHECKS["AUD-CE-17"](HostEvidence(f"{name}.weihai", "lab",
                                                    {"cmd:ss -H -tuln": text}), facts, {})
        assert res.status.value == "pass", res.message


def test_app_behind_nginx_and_tls(applied):
    out = sh("mis-1", "python3 -c \"import urllib.request as u;"
                      "print(u.urlopen('http://10.50.1.10:8080/').read().decode())\"")
    assert '"system": "pes-mis"' in out
    out = sh("web-1", "python3 -c \"import ssl,urllib.request as u;"
                      "c=ssl._create_unverified_context();"
                      "print(u.urlopen('https://10.50.0.10/',context=c).read().decode())\"")
    assert "Weihai" in out


def test_backup_of_misdb(applied):
    sh("backup-1", "runuser -u pesdc-backup -- /usr/local/sbin/pesdc-backup-pull")
    out = sh("backup-1", "ls -l /srv/backup/misdb/")
    assert "misdb-" in out and ".dump" in out


def test_second_apply_changes_nothing(applied):
    second, secs = apply_json(applied["city"])
    applied["timings"]["apply2"] = secs
    assert second["ok"]
    assert second["changed"] == 0, [(h["host"], h["changes"]) for h in second["hosts"]
                                    if h["changed"]]
    print("second apply", second["seconds"], "s")


def test_unreachable_host_fails_alone_then_converges(applied):
    sh("dss-1", "kill -TERM 1", check=False)
    time.sleep(0.5)
    city = applied["city"]
    res, _ = apply_json(city, check=False)
    bad = [h["host"] for h in res["hosts"] if not h["ok"]]
    assert bad == ["dss-1.weihai"]
    assert not res["ok"]
    text = pesdc("apply", city, "--lab", LAB, "--limit", "dss-1", check=False)
    assert text.returncode != 0 and "dss-1.weihai" in text.stdout
    pesdc("lab", "up", city, "--name", LAB)
    again, _ = apply_json(city)
    assert again["ok"]


def test_journal_records_each_host(applied):
    rows = json.loads(pesdc("journal", "--tail", "0", "--json").stdout)["entries"]
    mine = [r for r in rows if r.get("lab") == LAB]
    assert len(mine) >= 11 * 3
    assert all(r["who"]["user"] and r["when"].endswith("Z") for r in mine)
    assert not any("replication_password" in json.dumps(r) for r in mine)
