"""Host checks with testinfra, generated per server from its desired state.

The expectations come from the same HostSpec the engines apply (packages, files,
users, services) plus what the topology implies (the exact set of listening ports,
logs reaching the log server, time from the time source, replication, backups), so
verify cannot drift from provisioning. Connections go through the lab's ssh_config
(ControlMaster: one shared connection per host).
"""

from __future__ import annotations

import difflib
import hashlib
import re
import shlex
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import testinfra

from pesdc.model.tree import Topology
from pesdc.provision.desired import DEPLOY_USER, desired_state
from pesdc.provision.spec import HostSpec
from pesdc.verify.checks import Check

Host = Any  # testinfra.host.Host


_CONNECTED: dict[str, Host] = {}


def connect(host: str, ssh_config: Path) -> Host:
    """A testinfra host. Provisioned hosts refuse root logins (PermitRootLogin no): the
    deploy account logs in and sudo runs the checks; a fresh host still takes root."""
    if host in _CONNECTED:
        return _CONNECTED[host]
    last = ""
    for url, sudo in ((f"ssh://{DEPLOY_USER}@{host}", True), (f"ssh://root@{host}", False)):
        h = testinfra.get_host(url, ssh_config=str(ssh_config), sudo=sudo)
        try:
            res = h.run("true")
        except RuntimeError as exc:
            last = str(exc)
            continue
        if res.rc == 0:
            _CONNECTED[host] = h
            return h
        last = res.stderr
    raise RuntimeError(f"cannot log in to {host} as {DEPLOY_USER} or root: {last[-300:]}")


@dataclass(frozen=True)
class AdminDuty:
    """What ``sudo -l`` must show for one of the three administrators, and what it must
    not: the separation of duties of GB/T 22239-2019 8.1.4.2 d), read back from sudo."""

    summary: str
    must: tuple[str, ...]
    must_not: tuple[str, ...]


ADMIN_DUTIES = {
    "system": AdminDuty("packages, services, maintenance; no audit, no accounts",
                        ("/usr/sbin/reboot", "/usr/sbin/ip"),
                        ("/usr/sbin/ausearch", "/usr/sbin/aureport", "/usr/sbin/useradd",
                         "/usr/sbin/auditctl")),
    "audit": AdminDuty("audit records only (ausearch, aureport)",
                       ("/usr/sbin/ausearch", "/usr/sbin/aureport"),
                       ("/usr/sbin/useradd", "/usr/sbin/nft", "/usr/sbin/reboot",
                        "/usr/bin/apt-get", "/usr/bin/dnf")),
    "security": AdminDuty("accounts, firewall, audit rules; no packages, no audit records",
                          ("/usr/sbin/useradd", "/usr/sbin/nft", "/usr/sbin/augenrules"),
                          ("/usr/sbin/ausearch", "/usr/sbin/aureport", "/usr/bin/apt-get",
                           "/usr/bin/dnf", "/usr/sbin/reboot")),
}


def _sudo_commands(sudo_l: str) -> set[str]:
    """The command paths ``sudo -l -U`` grants, negated ones left out.

    sudo wraps its listing at the terminal width (80 columns without one), breaking lines
    at spaces, so the listing is read as one text of path tokens, not line by line."""
    _, _, granted = sudo_l.partition("may run the following commands")
    return {m.group(2) for m in re.finditer(r"(!?)(/[^\s,]+)", granted) if not m.group(1)}


def _run(h: Host, cmd: str) -> tuple[int, str]:
    try:
        res = h.run(cmd)
    except RuntimeError as exc:  # testinfra raises on exit 255 (it takes it for ssh's)
        return 255, str(exc)[-500:]
    return res.rc, (res.stdout + res.stderr).strip()


def expected_listeners(spec: HostSpec) -> set[str]:
    """'proto/port' the host must listen on, on a non-loopback address, and no other."""
    roles = set(spec.roles)
    out = {"tcp/22"}
    for app in spec.data.get("pesdc", {}).get("apps", []):
        out |= {f"tcp/{p}" for p in app["ports"]}
    if "database" in roles:
        out.add("tcp/5432")
    if "logserver" in roles:
        out |= {"tcp/514", "udp/514"}
    if "timesource" in roles:
        out.add("udp/123")
    return out


def listeners(h: Host) -> tuple[set[str], str]:
    _, out = _run(h, "ss -H -tuln")
    found = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 5:
            continue
        proto, local = parts[0], parts[4]
        addr, _, port = local.rpartition(":")
        addr = addr.strip("[]").split("%")[0]
        if addr.startswith("127.") or addr in ("::1",):
            continue
        found.add(f"{proto}/{port}")
    return found, out


def check_host(topo: Topology, dc_name: str, server: str, ssh_config: Path,
               lab: bool = True) -> list[Check]:
    spec = desired_state(topo, dc_name, server, lab)
    t = spec.host
    checks: list[Check] = []
    try:
        h = connect(t, ssh_config)
        rc, out = _run(h, "true")
        if rc != 0:
            raise RuntimeError(out)
    except Exception as exc:  # unreachable: one failing check, the others are moot
        return [Check(t, "reachability", "ssh", False, "reachable over SSH", str(exc)[:300])]

    def add(category: str, name: str, ok: bool, expected: str = "", observed: str = "",
            evidence: str = "") -> None:
        checks.append(Check(t, category, name, ok, expected, observed, evidence[:2000]))

    pkgs = h.run("dpkg-query -W -f='${Package} ${Status}\\n' " +
                 " ".join(shlex.quote(p) for p in spec.packages)).stdout
    installed = {ln.split()[0] for ln in pkgs.splitlines() if "install ok installed" in ln}
    for p in spec.packages:
        add("packages", p, p in installed, "installed",
            "installed" if p in installed else "missing")

    # One round trip for all services (status, and the rc2.d start link for "enabled").
    script = "; ".join(
        f"service {shlex.quote(v.name)} status >/dev/null 2>&1; echo \"{v.name} run $?\"; "
        f"ls /etc/rc2.d/ | grep -qE '^S[0-9]+{v.name}$'; echo \"{v.name} boot $?\""
        for v in spec.services)
    _, out = _run(h, script)
    state = {tuple(ln.split()[:2]): ln.split()[2] for ln in out.splitlines()
             if len(ln.split()) == 3}
    for svc in spec.services:
        running = state.get((svc.name, "run")) == "0"
        add("services", f"{svc.name} running", running, "running",
            "running" if running else "stopped")
        if svc.enabled:
            boot = state.get((svc.name, "boot")) == "0"
            add("services", f"{svc.name} enabled", boot, "S-link in rc2.d",
                "present" if boot else "absent")

    want = expected_listeners(spec)
    have, raw = listeners(h)
    add("ports", "listening ports are exactly the expected set", have == want,
        ", ".join(sorted(want)), ", ".join(sorted(have)), raw)

    _, out = _run(h, "sha256sum " + " ".join(shlex.quote(f.path) for f in spec.files)
                  + " 2>/dev/null")
    sums = {ln.split(None, 1)[1].strip(): ln.split()[0] for ln in out.splitlines()
            if len(ln.split(None, 1)) == 2}
    for f in spec.files:
        sha = sums.get(f.path, "absent")
        want_sha = hashlib.sha256(f.content.encode()).hexdigest()
        ok = sha == want_sha
        evidence = _diff_excerpt(h, f.path, f.content) if not ok and sha != "absent" else ""
        add("files", f.path, ok, f"sha256 {want_sha[:12]} ({f.control})",
            f"sha256 {sha[:12]}" if sha != "absent" else "absent", evidence)

    for u in spec.users:
        user = h.user(u.name)
        add("users", f"user {u.name} ({u.admin_role})", user.exists, "exists",
            "exists" if user.exists else "missing")
    admins = {u.admin_role: u.name for u in spec.users}
    for role, name in sorted(admins.items()):
        duty = ADMIN_DUTIES.get(role)
        if duty is None:
            continue
        rc, out = _run(h, f"sudo -l -U {shlex.quote(name)}")
        allowed = _sudo_commands(out)
        missing = [c for c in duty.must if c not in allowed]
        foreign = [c for c in duty.must_not if c in allowed]
        unlimited = any(line.strip().endswith(("(ALL) ALL", "(ALL : ALL) ALL", "(root) ALL"))
                        for line in out.splitlines())
        ok = rc == 0 and not missing and not foreign and not unlimited
        observed = "limited to its duty" if ok else "; ".join(filter(None, (
            "unlimited sudo" if unlimited else "",
            f"lacks {', '.join(missing)}" if missing else "",
            f"also holds {', '.join(foreign)}" if foreign else "",
            f"sudo -l exit {rc}" if rc else "")))
        add("users", f"{role} administrator {name}: sudo limited to its duty (三权分立)", ok,
            duty.summary, observed, out)
    accounts = " ".join(shlex.quote(n) for n in spec.locked_accounts)
    _, out = _run(h, f"for u in {accounts}; do getent passwd $u >/dev/null && passwd -S $u; "
                     "done")
    status = {ln.split()[0]: ln.split()[1] for ln in out.splitlines() if len(ln.split()) > 1}
    for name, st in sorted(status.items()):
        add("users", f"default account {name} locked", st in ("L", "LK"), "L", st)

    if lab:
        rules = next((f for f in spec.files if f.path.startswith("/etc/audit/rules.d/")), None)
        checks.append(Check(t, "audit", "audit rules loaded", True, skipped=(
            "kernel audit is not namespaced: lab hosts install the rules file (checked under "
            "files) but do not load it into the machine's kernel")))
        if rules is None:
            add("audit", "audit rules file", False, "present", "absent")
    else:
        rc, out = _run(h, "auditctl -l")
        add("audit", "audit rules loaded", rc == 0 and "-k " in out, "rules with keys",
            f"{len(out.splitlines())} rules", out)
    return checks


def _diff_excerpt(h: Host, path: str, content: str) -> str:
    """The first lines of the difference: what an auditor or engineer needs to see."""
    have = h.run(f"cat {shlex.quote(path)}").stdout.splitlines()
    diff = difflib.unified_diff(content.splitlines(), have, "intended", path, lineterm="")
    return "\n".join(list(diff)[:40])


def check_logs(topo: Topology, dc_name: str, ssh_config: Path,
               senders: list[str]) -> list[Check]:
    """A message logged on each host arrives at the log server within seconds."""
    dc = topo.datacenters[dc_name]
    logs = [s for s in dc.servers if any(r.value == "logserver" for r in s.roles)]
    if not logs:
        return []
    log_host = f"{logs[0].name}.{dc.name}"
    nonce = uuid.uuid4().hex[:12]
    out: list[Check] = []
    try:
        lh = connect(log_host, ssh_config)
    except Exception as exc:
        return [Check(log_host, "logs", "log server reachable", False, "reachable", str(exc))]
    sent = []
    for name in senders:
        host = f"{name}.{dc.name}"
        if host == log_host:
            continue
        try:
            connect(host, ssh_config).run(f"logger -t pesdc-verify {nonce}-{name}")
            sent.append((host, name))
        except Exception as exc:
            out.append(Check(host, "logs", "logs reach the log server", False,
                             "delivered", f"could not log: {exc}"))
    deadline = time.monotonic() + 10
    seen = ""
    while time.monotonic() < deadline:
        seen = lh.run(f"grep -rh {nonce} /var/log/remote/").stdout
        if all(f"{nonce}-{n}" in seen for _, n in sent):
            break
        time.sleep(0.5)
    for host, name in sent:
        ok = f"{nonce}-{name}" in seen
        out.append(Check(host, "logs", f"logs reach the log server {log_host}", ok,
                         "message delivered", "delivered" if ok else "not received",
                         f"grep /var/log/remote on {log_host}"))
    return out


def check_time(topo: Topology, dc_name: str, server: str, ssh_config: Path) -> list[Check]:
    dc = topo.datacenters[dc_name]
    srcs = [s.address for s in dc.servers if any(r.value == "timesource" for r in s.roles)]
    t = f"{server}.{dc.name}"
    if not srcs:
        return []
    h = connect(t, ssh_config)
    if server in {s.name for s in dc.servers
                  if any(r.value == "timesource" for r in s.roles)}:
        return []
    # chrony selects its source some seconds after a (re)start: wait while it has not.
    deadline = time.monotonic() + 30
    out = ""
    while time.monotonic() < deadline:
        out = h.run("chronyc -n sources").stdout
        if any(f"* {a}" in out or f"^* {a}" in out for a in srcs):
            break
        time.sleep(1)
    ok = any(f"^* {a}" in out for a in srcs)
    return [Check(t, "time", "synchronised to the center's time source", ok,
                  f"selected source {', '.join(srcs)}", "selected" if ok else "not selected",
                  out)]


def check_replication(topo: Topology, dc_name: str, ssh_config: Path) -> list[Check]:
    dc = topo.datacenters[dc_name]
    by_name = {s.name: s for s in dc.servers}
    out: list[Check] = []
    for db in dc.databases:
        if db.standby is None or db.primary not in by_name:
            continue
        t = f"{db.primary}.{dc.name}"
        standby_addr = by_name[db.standby].address
        try:
            h = connect(t, ssh_config)
            res = h.run("sudo -u postgres psql -AtXc "
                        "\"select client_addr, state from pg_stat_replication\"")
            text = res.stdout.strip()
        except Exception as exc:
            text = str(exc)
        ok = f"{standby_addr}|streaming" in text
        out.append(Check(t, "replication", f"{db.name}: standby {db.standby} streaming", ok,
                         f"{standby_addr}|streaming", text or "no replication", text))
    return out


def check_backups(topo: Topology, dc_name: str, ssh_config: Path) -> list[Check]:
    dc = topo.datacenters[dc_name]
    out: list[Check] = []
    for db in dc.databases:
        if not db.backup_target:
            continue
        t = f"{db.backup_target}.{dc.name}"
        try:
            h = connect(t, ssh_config)
            res = h.run(f"ls -1 /srv/backup/{db.name}/ | grep -F .dump | tail -3")
        except Exception as exc:
            # The backup host could not be read: that proves nothing was backed up.
            why = f"cannot read the backup host: {exc}"
            out.append(Check(t, "backups", f"backup of {db.name} present", False,
                             f"/srv/backup/{db.name}/*", why, why))
            continue
        text = res.stdout.strip()
        out.append(Check(t, "backups", f"backup of {db.name} present", bool(text),
                         f"/srv/backup/{db.name}/*", text or "none", text))
    return out

