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
    """Exit status and output (stdout and stderr) of a command; 255 when ssh could not
    reach the host (testinfra raises on 255, taking it for ssh's), or anything else kept
    the command from running (a timeout, a dead connection)."""
    try:
        res = h.run(cmd)
    except Exception as exc:  # RuntimeError on exit 255; anything else: no answer either
        return UNREACHABLE, f"{type(exc).__name__}: {str(exc)[-500:]}"
    return res.rc, (res.stdout + res.stderr).strip()


UNREACHABLE = 255  # ssh's own exit status: the host or the connection failed


class Unobserved(Exception):
    """A command whose answer verify could not get (the host could not be reached, the
    command could not run, its output could not be read): its checks are errors."""


def _observe(h: Host, cmd: str, what: str) -> tuple[int, str]:
    """:func:`_run`, raising :class:`Unobserved` when the command gave no answer."""
    rc, out = _run(h, cmd)
    if rc == UNREACHABLE:
        raise Unobserved(f"{what}: host unreachable (ssh exit 255): {out[-300:]}")
    if rc in (126, 127):
        raise Unobserved(f"{what}: command could not run (exit {rc}): {out[-300:]}")
    return rc, out


def expected_listeners(spec: HostSpec) -> set[str]:
    """'proto/port' the host must listen on, on a non-loopback address, and no other."""
    roles = set(spec.roles)
    out = {"tcp/22"}
    for app in spec.data.get("pesdc", {}).get("apps", []):
        out |= {f"tcp/{p}" for p in app["ports"]}
    if "database" in roles:
        # The port provisioning configured (the database's own, from the topology);
        # PostgreSQL's default only for a database server that serves no database.
        db = spec.data.get("pesdc", {}).get("database")
        out.add(f"tcp/{db['port'] if db else 5432}")
    if "logserver" in roles:
        out |= {"tcp/514", "udp/514"}
    if "timesource" in roles:
        out.add("udp/123")
    return out


def listeners(h: Host) -> tuple[set[str], str]:
    """'proto/port' of every non-loopback listener, and the raw listing. An empty or
    failed listing is no observation (sshd listens whenever verify is logged in)."""
    rc, out = _observe(h, "ss -H -tuln", "ss")
    if rc != 0 or not out:
        raise Unobserved(f"ss -H -tuln exit {rc}: {out[-300:] or 'no output'}")
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


# One line per managed path: "F <mode>:<owner>:<group> <sha256> <path>" for a file,
# "D <mode>:<owner>:<group> - <path>" for a directory, "A - - <path>" when absent.
_STAT_SCRIPT = (
    'for p in "$@"; do if [ -d "$p" ]; then echo "D $(stat -c %a:%U:%G -- "$p") - $p"; '
    'elif [ -e "$p" ]; then echo "F $(stat -c %a:%U:%G -- "$p") '
    '$(sha256sum < "$p" | cut -d" " -f1) $p"; else echo "A - - $p"; fi; done')


def _stat_paths(h: Host, paths: list[str]) -> dict[str, tuple[str, str, str]]:
    """path -> (kind F/D/A, mode:owner:group, sha256) for the managed paths."""
    if not paths:
        return {}
    rc, out = _observe(h, f"sh -c {shlex.quote(_STAT_SCRIPT)} pesdc-verify " +
                       " ".join(shlex.quote(p) for p in paths), "stat of managed files")
    seen: dict[str, tuple[str, str, str]] = {}
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[0] in ("F", "D", "A"):
            seen[parts[3]] = (parts[0], parts[1], parts[2])
    if rc != 0 and not seen:
        raise Unobserved(f"stat of managed files exit {rc}: {out[-300:]}")
    return seen


def _owner_mode(want_mode: str, owner: str, group: str, have: str) -> str:
    """'' when mode:owner:group match, else what differs."""
    mode, _, rest = have.partition(":")
    h_owner, _, h_group = rest.partition(":")
    bad = []
    try:
        if int(mode, 8) != int(want_mode, 8):
            bad.append(f"mode {int(mode, 8):04o} (want {int(want_mode, 8):04o})")
    except ValueError:
        bad.append(f"mode {mode!r} unreadable")
    if h_owner != owner or h_group != group:
        bad.append(f"owner {h_owner}:{h_group} (want {owner}:{group})")
    return "; ".join(bad)


def check_host(topo: Topology, dc_name: str, server: str, ssh_config: Path,
               lab: bool = True) -> list[Check]:
    """Every host check of one server. What could not be observed (the host unreachable,
    a command that could not run, output that could not be read) is an error under the
    name of the check it stood for, never a failure or a pass; once the host stops
    answering (or when it cannot be logged in to at all), the checks still to come are
    errors with that cause, without waiting on each: the report names every check."""
    spec = desired_state(topo, dc_name, server, lab)
    t = spec.host
    checks: list[Check] = []
    down: list[str] = []  # the cause, once the host has stopped answering
    h: Host = None
    try:
        h = connect(t, ssh_config)
    except Exception as exc:  # unreachable: every check below is an error with this cause
        down.append(f"host unreachable: cannot log in over SSH: {str(exc)[-300:]}")
        checks.append(Check.errored(t, "reachability", "ssh", down[0], "reachable over SSH"))

    def add(category: str, name: str, ok: bool, expected: str = "", observed: str = "",
            evidence: str = "") -> None:
        checks.append(Check(t, category, name, ok, expected, observed, evidence[:2000]))

    def errored(category: str, names: list[str], cause: str, expected: str = "") -> None:
        checks.extend(Check.errored(t, category, n, cause, expected) for n in names)

    def section(category: str, names: list[str], body: Any, expected: str = "") -> None:
        """Run one group of checks; what it could not observe becomes errors."""
        if down:
            errored(category, names, down[0], expected)
            return
        try:
            body()
        except Unobserved as exc:
            cause = str(exc)
            if "host unreachable" in cause:
                down.append(cause)
            done = {c.name for c in checks if c.target == t and c.category == category}
            errored(category, [n for n in names if n not in done], cause, expected)

    def packages() -> None:
        rc, out = _observe(h, "dpkg-query -W -f='${Package} ${Status}\\n' " +
                           " ".join(shlex.quote(p) for p in spec.packages), "dpkg-query")
        status = {ln.split()[0]: ln.split(None, 1)[1] for ln in out.splitlines()
                  if len(ln.split()) > 1 and not ln.startswith("dpkg-query")}
        for p in spec.packages:
            if p in status:
                ok = "install ok installed" in status[p]
                add("packages", p, ok, "installed", "installed" if ok else status[p])
            elif f"no packages found matching {p}" in out:
                add("packages", p, False, "installed", "missing")
            else:
                checks.append(Check.errored(t, "packages", p, f"dpkg-query exit {rc} said "
                                            f"nothing about {p}: {out[-200:]}", "installed"))

    section("packages", list(spec.packages), packages, "installed")

    # One round trip for all services (status, and the rc2.d start link for "enabled").
    svc_names = [n for v in spec.services
                 for n in (f"{v.name} running", *([f"{v.name} enabled"] * v.enabled))]

    def services() -> None:
        script = "; ".join(
            f"service {shlex.quote(v.name)} status >/dev/null 2>&1; echo \"{v.name} run $?\";"
            f" ls /etc/rc2.d/ | grep -qE '^S[0-9]+{v.name}$'; echo \"{v.name} boot $?\""
            for v in spec.services)
        _, out = _observe(h, script, "service status")
        state = {tuple(ln.split()[:2]): ln.split()[2] for ln in out.splitlines()
                 if len(ln.split()) == 3}
        for svc in spec.services:
            run = state.get((svc.name, "run"))
            if run is None or run in ("126", "127"):
                checks.append(Check.errored(t, "services", f"{svc.name} running",
                                            f"service {svc.name} status gave no answer "
                                            f"({run or 'no line'}): {out[-200:]}", "running"))
            else:
                add("services", f"{svc.name} running", run == "0", "running",
                    "running" if run == "0" else f"stopped (status exit {run})")
            if svc.enabled:
                boot = state.get((svc.name, "boot"))
                if boot not in ("0", "1"):
                    checks.append(Check.errored(t, "services", f"{svc.name} enabled",
                                                f"rc2.d not readable ({boot or 'no line'})",
                                                "S-link in rc2.d"))
                else:
                    add("services", f"{svc.name} enabled", boot == "0", "S-link in rc2.d",
                        "present" if boot == "0" else "absent")

    section("services", svc_names, services)

    ports_name = "listening ports are exactly the expected set"

    def ports() -> None:
        want = expected_listeners(spec)
        have, raw = listeners(h)
        add("ports", ports_name, have == want, ", ".join(sorted(want)),
            ", ".join(sorted(have)), raw)

    section("ports", [ports_name], ports)

    dirs = [d["path"] for d in spec.directories]

    def files() -> None:
        seen = _stat_paths(h, [f.path for f in spec.files] + dirs)
        for f in spec.files:
            want_sha = hashlib.sha256(f.content.encode()).hexdigest()
            expected = f"sha256 {want_sha[:12]}, {f.mode} {f.owner}:{f.group} ({f.control})"
            got = seen.get(f.path)
            if got is None or (got[0] == "F" and (len(got[2]) != 64 or ":" not in got[1])):
                checks.append(Check.errored(t, "files", f.path, "no stat/sha256 answer for "
                                            f"{f.path}: {got}", expected))
                continue
            kind, own, sha = got
            if kind != "F":
                add("files", f.path, False, expected,
                    "absent" if kind == "A" else "a directory")
                continue
            wrong = _owner_mode(f.mode, f.owner, f.group, own)
            evidence = _diff_excerpt(h, f.path, f.content) if sha != want_sha else ""
            ok = sha == want_sha and not wrong
            observed = "; ".join(filter(None, (
                f"sha256 {sha[:12]}" if sha != want_sha else "", wrong))) or "as intended"
            add("files", f.path, ok, expected, observed, evidence)
        for d in spec.directories:
            expected = f"directory, {d['mode']} {d['owner']}:{d['group']}"
            got = seen.get(d["path"])
            if got is None or (got[0] == "D" and ":" not in got[1]):
                checks.append(Check.errored(t, "files", d["path"],
                                            f"no stat answer for {d['path']}", expected))
                continue
            if got[0] != "D":
                add("files", d["path"], False, expected,
                    "absent" if got[0] == "A" else "not a directory")
                continue
            wrong = _owner_mode(d["mode"], d["owner"], d["group"], got[1])
            add("files", d["path"], not wrong, expected, wrong or "as intended")

    section("files", [f.path for f in spec.files] + dirs, files)

    user_names = [f"user {u.name} ({u.admin_role})" for u in spec.users]
    uid0_name = "root is the only account with uid 0"

    def users() -> None:
        names = " ".join(shlex.quote(u.name) for u in spec.users)
        _, out = _observe(h, f"getent passwd {names}; echo pesdc-uid0; "
                             "getent passwd | awk -F: '$3 == 0 {print $1}'", "getent passwd")
        entries, _, uid0 = out.partition("pesdc-uid0")
        present = {ln.split(":", 1)[0] for ln in entries.splitlines() if ":" in ln}
        for u in spec.users:
            ok = u.name in present
            add("users", f"user {u.name} ({u.admin_role})", ok, "exists",
                "exists" if ok else "missing")
        zero = sorted(set(uid0.split()))
        if not zero:
            raise Unobserved(f"getent passwd listed no account with uid 0: {out[-200:]}")
        add("users", uid0_name, zero == ["root"], "root only", ", ".join(zero),
            "\n".join(zero))

    section("users", [*user_names, uid0_name], users)

    admins = {u.admin_role: u.name for u in spec.users}
    duties = [(role, name, ADMIN_DUTIES[role]) for role, name in sorted(admins.items())
              if role in ADMIN_DUTIES]
    sudo_names = [f"{role} administrator {name}: sudo limited to its duty (三权分立)"
                  for role, name, _ in duties]

    def sudo() -> None:
        for (_role, name, duty), check_name in zip(duties, sudo_names, strict=True):
            rc, out = _observe(h, f"sudo -l -U {shlex.quote(name)}", "sudo -l")
            answered = "may run the following commands" in out or \
                "not allowed to run sudo" in out
            if rc != 0 or not answered:
                checks.append(Check.errored(t, "users", check_name, f"sudo -l -U {name} exit "
                                            f"{rc}: {out[-300:] or 'no output'}",
                                            duty.summary, out))
                continue
            allowed = _sudo_commands(out)
            missing = [c for c in duty.must if c not in allowed]
            foreign = [c for c in duty.must_not if c in allowed]
            unlimited = any(line.strip().endswith(("(ALL) ALL", "(ALL : ALL) ALL",
                                                   "(root) ALL"))
                            for line in out.splitlines())
            ok = not missing and not foreign and not unlimited
            observed = "limited to its duty" if ok else "; ".join(filter(None, (
                "unlimited sudo" if unlimited else "",
                f"lacks {', '.join(missing)}" if missing else "",
                f"also holds {', '.join(foreign)}" if foreign else "")))
            add("users", check_name, ok, duty.summary, observed, out)

    section("users", sudo_names, sudo)

    locked_names = [f"default account {n} locked" for n in sorted(spec.locked_accounts)]

    def locked() -> None:
        accounts = " ".join(shlex.quote(n) for n in spec.locked_accounts)
        _, out = _observe(h, f"for u in {accounts}; do if getent passwd $u >/dev/null; then "
                             "passwd -S $u; else echo \"$u absent\"; fi; done",
                          "passwd -S")
        status = {ln.split()[0]: ln.split()[1] for ln in out.splitlines()
                  if len(ln.split()) > 1}
        for name in sorted(spec.locked_accounts):
            st = status.get(name)
            if st is None:
                checks.append(Check.errored(t, "users", f"default account {name} locked",
                                            f"passwd -S gave no status for {name}", "L"))
            elif st != "absent":  # an account the host does not have cannot log in
                add("users", f"default account {name} locked", st in ("L", "LK"), "L", st)

    if spec.locked_accounts:
        section("users", locked_names, locked, "L")

    if lab:
        rules = next((f for f in spec.files if f.path.startswith("/etc/audit/rules.d/")), None)
        checks.append(Check(t, "audit", "audit rules loaded", True, skipped=(
            "kernel audit is not namespaced: lab hosts install the rules file (checked under "
            "files) but do not load it into the machine's kernel")))
        if rules is None:
            add("audit", "audit rules file", False, "present", "absent")
    else:
        def audit() -> None:
            rc, out = _observe(h, "auditctl -l", "auditctl -l")
            if rc != 0:
                raise Unobserved(f"auditctl -l exit {rc}: {out[-300:]}")
            add("audit", "audit rules loaded", "-k " in out, "rules with keys",
                f"{len(out.splitlines())} rules", out)

        section("audit", ["audit rules loaded"], audit, "rules with keys")
    return checks


def _diff_excerpt(h: Host, path: str, content: str) -> str:
    """The first lines of the difference: what an auditor or engineer needs to see."""
    rc, out = _run(h, f"cat {shlex.quote(path)}")
    if rc != 0:
        return f"(the file could not be read for a diff: exit {rc}: {out[-200:]})"
    diff = difflib.unified_diff(content.splitlines(), out.splitlines(), "intended", path,
                                lineterm="")
    return "\n".join(list(diff)[:40])


def check_logs(topo: Topology, dc_name: str, ssh_config: Path,
               senders: list[str]) -> list[Check]:
    """A message logged on each host arrives at the log server within seconds. A sender
    or a log server that cannot be reached is an error for the hosts it concerns; a host
    that cannot log (logger fails) or whose message does not arrive is a failure."""
    dc = topo.datacenters[dc_name]
    logs = [s for s in dc.servers if any(r.value == "logserver" for r in s.roles)]
    if not logs:
        return []
    log_host = f"{logs[0].name}.{dc.name}"
    name_of = f"logs reach the log server {log_host}"
    hosts = [(f"{n}.{dc.name}", n) for n in senders if f"{n}.{dc.name}" != log_host]
    nonce = uuid.uuid4().hex[:12]
    try:
        lh = connect(log_host, ssh_config)
    except Exception as exc:
        return [Check.errored(host, "logs", name_of, f"the log server {log_host} cannot be "
                              f"read: {exc}", "message delivered") for host, _ in hosts]
    out: list[Check] = []
    sent = []
    for host, name in hosts:
        try:
            rc, text = _observe(connect(host, ssh_config),
                                f"logger -t pesdc-verify {nonce}-{name}", "logger")
        except Exception as exc:  # could not log in, or the command gave no answer
            out.append(Check.errored(host, "logs", name_of, f"could not log on {host}: {exc}",
                                     "message delivered"))
            continue
        if rc != 0:  # the host ran logger and it failed: the host cannot log
            out.append(Check(host, "logs", name_of, False, "message delivered",
                             f"logger exit {rc}", text[-500:]))
            continue
        sent.append((host, name))
    deadline = time.monotonic() + 10
    seen = ""
    while sent and time.monotonic() < deadline:
        rc, seen = _run(lh, f"grep -rh {nonce} /var/log/remote/")
        if rc == UNREACHABLE:
            return out + [Check.errored(host, "logs", name_of, f"the log server {log_host} "
                                        f"stopped answering: {seen[-300:]}",
                                        "message delivered") for host, _ in sent]
        if all(f"{nonce}-{n}" in seen for _, n in sent):
            break
        time.sleep(0.5)
    for host, name in sent:
        ok = f"{nonce}-{name}" in seen
        out.append(Check(host, "logs", name_of, ok,
                         "message delivered", "delivered" if ok else "not received",
                         f"grep /var/log/remote on {log_host}"))
    return out


TIME_CHECK = "synchronised to the center's time source"


def check_time(topo: Topology, dc_name: str, server: str, ssh_config: Path) -> list[Check]:
    dc = topo.datacenters[dc_name]
    sources = [s for s in dc.servers if any(r.value == "timesource" for r in s.roles)]
    srcs = [s.address for s in sources]
    t = f"{server}.{dc.name}"
    if not srcs or server in {s.name for s in sources}:
        return []
    expected = f"selected source {', '.join(srcs)}"
    try:
        h = connect(t, ssh_config)
    except Exception as exc:
        return [Check.errored(t, "time", TIME_CHECK, f"cannot log in over SSH: {exc}",
                              expected)]
    # chrony selects its source some seconds after a (re)start: wait while it has not.
    deadline = time.monotonic() + 30
    out = ""
    failed = 0
    while time.monotonic() < deadline:
        try:
            rc, out = _observe(h, "chronyc -n sources", "chronyc")
        except Unobserved as exc:
            return [Check.errored(t, "time", TIME_CHECK, str(exc), expected)]
        if rc != 0:  # chronyc could not ask chronyd (not running, or just restarting)
            failed += 1
            if failed >= 3:
                return [Check.errored(t, "time", TIME_CHECK, f"chronyc -n sources exit {rc}:"
                                      f" {out[-300:]}", expected, out)]
        elif any(f"^* {a}" in out for a in srcs):
            break
        time.sleep(1)
    ok = any(f"^* {a}" in out for a in srcs)
    return [Check(t, "time", TIME_CHECK, ok, expected, "selected" if ok else "not selected",
                  out)]


def check_replication(topo: Topology, dc_name: str, ssh_config: Path) -> list[Check]:
    """The standby streams from the primary (pg_stat_replication on the primary). No
    answer from the primary, or psql failing there, is an error; an answer without the
    standby streaming is a failure."""
    dc = topo.datacenters[dc_name]
    by_name = {s.name: s for s in dc.servers}
    out: list[Check] = []
    for db in dc.databases:
        if db.standby is None or db.primary not in by_name:
            continue
        t = f"{db.primary}.{dc.name}"
        name = f"{db.name}: standby {db.standby} streaming"
        want = f"{by_name[db.standby].address}|streaming"
        try:
            h = connect(t, ssh_config)
            # -p: the cluster listens on the database's port, and psql finds its socket
            # by port (.s.PGSQL.PORT), so the default would miss a cluster on 5433.
            rc, text = _observe(h, f"sudo -u postgres psql -p {int(db.port)} -AtXc "
                                   "\"select client_addr, state from pg_stat_replication\"",
                                "psql")
        except Exception as exc:
            out.append(Check.errored(t, "replication", name, f"cannot read "
                                     f"pg_stat_replication on {t}: {exc}", want))
            continue
        if rc != 0:
            out.append(Check.errored(t, "replication", name, f"psql on {t} exit {rc}: "
                                     f"{text[-300:]}", want, text))
            continue
        ok = want in text
        out.append(Check(t, "replication", name, ok, want, text or "no replication", text))
    return out


def check_backups(topo: Topology, dc_name: str, ssh_config: Path) -> list[Check]:
    """Per database with a backup target, on the backup host: the newest dump exists and
    is younger than the nightly job's schedule allows (its cron line, period + 1 h), and
    the job's latest run did not fail (it leaves ``DIR/.last-run-FAILED`` on failure and
    removes it on success). Evidence: the newest dumps, the failure marker, the job's
    last syslog lines, the cron line and the space left on the backup file system. A
    backup host that cannot be read is an error: nothing proves a backup exists."""
    from pesdc.provision.desired import BACKUP_DIR

    grace = 3600
    dc = topo.datacenters[dc_name]
    out: list[Check] = []

    def period(cron: str) -> tuple[int, str]:
        """Seconds between two runs of the cron line, and how it reads."""
        f = cron.split()
        if len(f) < 6 or not f[0].isdigit():
            return 0, f"no schedule line in /etc/cron.d/pesdc-backup: {cron!r}"
        if f[1] == "*":
            return 3600, f"hourly at :{f[0]:0>2}"
        if f[2] == f[3] == f[4] == "*":
            return 86400, f"daily at {f[1]:0>2}:{f[0]:0>2}"
        if f[2] == f[3] == "*":
            return 7 * 86400, f"weekly (day {f[4]}) at {f[1]:0>2}:{f[0]:0>2}"
        return 31 * 86400, f"monthly ({' '.join(f[2:5])}) at {f[1]:0>2}:{f[0]:0>2}"

    for db in dc.databases:
        if not db.backup_target:
            continue
        t = f"{db.backup_target}.{dc.name}"
        d = f"{BACKUP_DIR}/{db.name}"
        q = shlex.quote(d)
        cmd = (f"date +%s; echo @@; test -d {q} && echo dir; echo @@; "
               f"find {q} -maxdepth 1 -name {shlex.quote(db.name + '-*.dump')} "
               "-printf '%T@ %s %f\\n' | sort -n | tail -3; echo @@; "
               f"test -e {q}/.last-run-FAILED && stat -c %Y {q}/.last-run-FAILED; echo @@; "
               "grep -v '^#' /etc/cron.d/pesdc-backup | grep -F pesdc-backup-pull | head -1; "
               f"echo @@; df -Pk {q} 2>/dev/null | tail -1; echo @@; "
               # the job's own lines (its tag), not sudo's record of this command
               "grep -hE " + shlex.quote(rf" pesdc-backup(\[[0-9]+\])?: "
                                         rf"{re.escape(db.name)} from ") +
               " /var/log/auth.log /var/log/secure 2>/dev/null | tail -2")
        name = f"backup of {db.name} present, current and its last run ok"
        expected = f"{d}/{db.name}-*.dump within its schedule, no failed run"
        try:
            h = connect(t, ssh_config)
            res = h.run(cmd)
            parts = [p.strip() for p in res.stdout.split("@@", 6)]
            if len(parts) != 7:
                raise RuntimeError(f"unreadable answer (exit {res.rc}): "
                                   f"{(res.stdout + res.stderr)[-300:]}")
        except Exception as exc:
            # The backup host could not be read: that proves nothing was backed up.
            why = f"cannot read the backup host: {exc}"[:500]
            out.append(Check(t, "backups", name, False, expected, why, why, error=why))
            continue
        now_s, isdir, dumps, failed_at, cron, df, syslog = parts
        evidence = "\n".join(x for x in (
            f"newest dumps (mtime size name):\n{dumps or 'none'}",
            f"failure marker {d}/.last-run-FAILED: "
            f"{'set at ' + failed_at if failed_at else 'absent'}",
            f"schedule: {cron or 'none'}", f"df: {df or 'unknown'}",
            f"last job log lines:\n{syslog}" if syslog else "") if x)
        if not now_s.isdigit():
            why = f"no clock answer from {t}: {now_s[:200]!r}"
            out.append(Check(t, "backups", name, False, expected, why, evidence, error=why))
            continue
        if not isdir:  # the host answered and the directory is not there: observed
            out.append(Check(t, "backups", name, False, expected,
                             f"no backup directory {d} on {t}", evidence))
            continue
        now = int(now_s)
        every, schedule = period(cron)
        problems: list[str] = []
        newest = dumps.splitlines()[-1].split() if dumps else []
        if len(newest) != 3:
            problems.append(f"no backup in {d}")
        else:
            age = now - float(newest[0])
            allowed = (every or 86400) + grace
            if int(newest[1]) == 0:
                problems.append(f"the newest backup {newest[2]} is empty")
            if age > allowed:
                problems.append(f"the newest backup {newest[2]} is {age / 3600:.1f} h old; "
                                f"the schedule ({schedule}) allows {allowed / 3600:.0f} h")
        if not every:
            problems.append(schedule)
        if failed_at:
            last = syslog.splitlines()[-1] if syslog else "no log line found"
            problems.append(f"the latest backup run failed "
                            f"({(now - int(failed_at)) / 60:.0f} min ago): {last[-400:]}")
        observed = "; ".join(problems) if problems else \
            f"newest {newest[2]} ({(now - float(newest[0])) / 3600:.1f} h old, " \
            f"{newest[1]} bytes), schedule {schedule}, last run ok"
        out.append(Check(t, "backups", name, not problems, expected, observed[:500],
                         evidence))
    return out
