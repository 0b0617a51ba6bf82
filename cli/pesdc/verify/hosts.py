"""Host checks with testinfra, generated per server from its desired state.

The expectations come from the same HostSpec the engines apply: packages, files, users,
services, the exact set of listening ports, the administrators' sudo duties, the log
server its logs reach and the time source it follows; replication and backups from the
center's databases. So verify cannot drift from provisioning. Connections go through
the target's ssh_config (:class:`Reach`: a lab's, or a live center's through its
bastion; ControlMaster: one shared connection per host).
"""

from __future__ import annotations

import difflib
import hashlib
import re
import shlex
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import testinfra

from pesdc.model.tree import Topology
from pesdc.provision.desired import DEPLOY_USER, desired_state
from pesdc.provision.duties import Duty
from pesdc.provision.spec import FileSpec, HostSpec, ServiceSpec
from pesdc.verify.checks import Check

Host = Any  # testinfra.host.Host


LAB_USERS = (DEPLOY_USER, "root")  # a lab's hosts: the deploy account, then root


class HostKeyRefused(RuntimeError):
    """A live host whose key is not the pinned one (or none is pinned): not connected."""


@dataclass(frozen=True)
class Reach:
    """How verify reaches the hosts: an OpenSSH configuration (a lab's, or a live
    center's through its bastion), the accounts tried in order (the deploy account logs
    in and sudo runs the checks; root runs them itself), and the hosts (NAME.CENTER)
    that must not be connected to, with why (a live host key that is not the pinned
    one)."""

    ssh_config: Path
    users: tuple[str, ...] = LAB_USERS
    blocked: Mapping[str, str] = field(default_factory=dict)


Via = Path | Reach  # an ssh_config alone is a lab's: its accounts, nothing blocked


def reach_of(via: Via) -> Reach:
    return via if isinstance(via, Reach) else Reach(via)


_CONNECTED: dict[tuple[str, str], Host] = {}


def connect(host: str, via: Via) -> Host:
    """A testinfra host. Provisioned hosts refuse root logins (PermitRootLogin no): the
    deploy account logs in and sudo runs the checks; a fresh host still takes root. A
    host whose key was refused (``Reach.blocked``) is never connected to."""
    r = reach_of(via)
    if host in r.blocked:
        raise HostKeyRefused(f"not connected: {r.blocked[host]}")
    key = (host, str(r.ssh_config))
    if key in _CONNECTED:
        return _CONNECTED[key]
    last = ""
    for user in r.users:
        h = testinfra.get_host(f"ssh://{user}@{host}", ssh_config=str(r.ssh_config),
                               sudo=user != "root")
        try:
            res = h.run("true")
        except RuntimeError as exc:
            last = str(exc)
            continue
        if res.rc == 0:
            _CONNECTED[key] = h
            return h
        last = res.stderr
    raise RuntimeError(f"cannot log in to {host} as {' or '.join(r.users)}: {last[-300:]}")


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
    return set(spec.listeners)


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


class _HostRun:
    """The checks of one host as they are made. What could not be observed becomes an
    error under the name of the check it stood for; once the host stops answering (or
    when it could not be logged in to at all), the checks still to come are errors with
    that cause, without waiting on each: the report names every check."""

    def __init__(self, spec: HostSpec, via: Via) -> None:
        self.spec = spec
        self.t = spec.host
        self.checks: list[Check] = []
        self.down: list[str] = []  # the cause, once the host has stopped answering
        self.h: Host = None
        try:
            self.h = connect(self.t, via)
        except HostKeyRefused as exc:  # the host key error itself is reported once, by
            self.down.append(str(exc))  # the run (verify_live)
        except Exception as exc:  # unreachable: every check is an error with this cause
            self.down.append(f"host unreachable: cannot log in over SSH: {str(exc)[-300:]}")
            self.checks.append(Check.errored(self.t, "reachability", "ssh", self.down[0],
                                             "reachable over SSH"))

    def add(self, category: str, name: str, ok: bool, expected: str = "",
            observed: str = "", evidence: str = "") -> None:
        self.checks.append(Check(self.t, category, name, ok, expected, observed,
                                 evidence[:2000]))

    def errored(self, category: str, names: list[str], cause: str, expected: str = "",
                evidence: str = "") -> None:
        self.checks.extend(Check.errored(self.t, category, n, cause, expected, evidence)
                           for n in names)

    def section(self, category: str, names: list[str], body: Callable[[], None],
                expected: str = "") -> None:
        """Run one group of checks; what it could not observe becomes errors."""
        if self.down:
            self.errored(category, names, self.down[0], expected)
            return
        try:
            body()
        except Unobserved as exc:
            cause = str(exc)
            if "host unreachable" in cause:
                self.down.append(cause)
            done = {c.name for c in self.checks if c.target == self.t
                    and c.category == category}
            self.errored(category, [n for n in names if n not in done], cause, expected)


def _packages(r: _HostRun, spec: HostSpec) -> None:
    def body() -> None:
        rc, out = _observe(r.h, "dpkg-query -W -f='${Package} ${Status}\\n' " +
                           " ".join(shlex.quote(p) for p in spec.packages), "dpkg-query")
        status = {ln.split()[0]: ln.split(None, 1)[1] for ln in out.splitlines()
                  if len(ln.split()) > 1 and not ln.startswith("dpkg-query")}
        for p in spec.packages:
            if p in status:
                ok = "install ok installed" in status[p]
                r.add("packages", p, ok, "installed", "installed" if ok else status[p])
            elif f"no packages found matching {p}" in out:
                r.add("packages", p, False, "installed", "missing")
            else:
                r.errored("packages", [p], f"dpkg-query exit {rc} said nothing about {p}: "
                          f"{out[-200:]}", "installed")

    r.section("packages", list(spec.packages), body, "installed")


def _service_checks(r: _HostRun, svc: ServiceSpec, state: dict[tuple[str, str], str],
                    out: str) -> None:
    """Running (its status), and enabled (its start link in rc2.d) when it should be."""
    run = state.get((svc.name, "run"))
    if run is None or run in ("126", "127"):
        r.errored("services", [f"{svc.name} running"], f"service {svc.name} status gave no "
                  f"answer ({run or 'no line'}): {out[-200:]}", "running")
    else:
        r.add("services", f"{svc.name} running", run == "0", "running",
              "running" if run == "0" else f"stopped (status exit {run})")
    if not svc.enabled:
        return
    boot = state.get((svc.name, "boot"))
    if boot not in ("0", "1"):
        r.errored("services", [f"{svc.name} enabled"], f"rc2.d not readable "
                  f"({boot or 'no line'})", "S-link in rc2.d")
    else:
        r.add("services", f"{svc.name} enabled", boot == "0", "S-link in rc2.d",
              "present" if boot == "0" else "absent")


def _services(r: _HostRun, spec: HostSpec) -> None:
    names = [n for v in spec.services
             for n in (f"{v.name} running", *([f"{v.name} enabled"] * v.enabled))]

    def body() -> None:
        # One round trip for all services (status, and the rc2.d start link).
        script = "; ".join(
            f"service {shlex.quote(v.name)} status >/dev/null 2>&1; echo \"{v.name} run $?\";"
            f" ls /etc/rc2.d/ | grep -qE '^S[0-9]+{v.name}$'; echo \"{v.name} boot $?\""
            for v in spec.services)
        _, out = _observe(r.h, script, "service status")
        state = {(ln.split()[0], ln.split()[1]): ln.split()[2] for ln in out.splitlines()
                 if len(ln.split()) == 3}
        for svc in spec.services:
            _service_checks(r, svc, state, out)

    r.section("services", names, body)


PORTS_CHECK = "listening ports are exactly the expected set"


def _ports(r: _HostRun, spec: HostSpec) -> None:
    def body() -> None:
        want = expected_listeners(spec)
        have, raw = listeners(r.h)
        r.add("ports", PORTS_CHECK, have == want, ", ".join(sorted(want)),
              ", ".join(sorted(have)), raw)

    r.section("ports", [PORTS_CHECK], body)


def _file_check(r: _HostRun, f: FileSpec, got: tuple[str, str, str] | None) -> None:
    want_sha = hashlib.sha256(f.content.encode()).hexdigest()
    expected = f"sha256 {want_sha[:12]}, {f.mode} {f.owner}:{f.group} ({f.control})"
    if got is None or (got[0] == "F" and (len(got[2]) != 64 or ":" not in got[1])):
        r.errored("files", [f.path], f"no stat/sha256 answer for {f.path}: {got}", expected)
        return
    kind, own, sha = got
    if kind != "F":
        r.add("files", f.path, False, expected, "absent" if kind == "A" else "a directory")
        return
    wrong = _owner_mode(f.mode, f.owner, f.group, own)
    evidence = _diff_excerpt(r.h, f.path, f.content) if sha != want_sha else ""
    observed = "; ".join(filter(None, (
        f"sha256 {sha[:12]}" if sha != want_sha else "", wrong))) or "as intended"
    r.add("files", f.path, sha == want_sha and not wrong, expected, observed, evidence)


def _directory_check(r: _HostRun, d: dict[str, str],
                     got: tuple[str, str, str] | None) -> None:
    expected = f"directory, {d['mode']} {d['owner']}:{d['group']}"
    if got is None or (got[0] == "D" and ":" not in got[1]):
        r.errored("files", [d["path"]], f"no stat answer for {d['path']}", expected)
    elif got[0] != "D":
        r.add("files", d["path"], False, expected,
              "absent" if got[0] == "A" else "not a directory")
    else:
        wrong = _owner_mode(d["mode"], d["owner"], d["group"], got[1])
        r.add("files", d["path"], not wrong, expected, wrong or "as intended")


def _files(r: _HostRun, spec: HostSpec) -> None:
    dirs = [d["path"] for d in spec.directories]

    def body() -> None:
        seen = _stat_paths(r.h, [f.path for f in spec.files] + dirs)
        for f in spec.files:
            _file_check(r, f, seen.get(f.path))
        for d in spec.directories:
            _directory_check(r, d, seen.get(d["path"]))

    r.section("files", [f.path for f in spec.files] + dirs, body)


UID0_CHECK = "root is the only account with uid 0"


def _users(r: _HostRun, spec: HostSpec) -> None:
    names = [f"user {u.name} ({u.admin_role})" for u in spec.users]

    def body() -> None:
        accounts = " ".join(shlex.quote(u.name) for u in spec.users)
        _, out = _observe(r.h, f"getent passwd {accounts}; echo pesdc-uid0; "
                               "getent passwd | awk -F: '$3 == 0 {print $1}'", "getent passwd")
        entries, _, uid0 = out.partition("pesdc-uid0")
        present = {ln.split(":", 1)[0] for ln in entries.splitlines() if ":" in ln}
        for u, name in zip(spec.users, names, strict=True):
            ok = u.name in present
            r.add("users", name, ok, "exists", "exists" if ok else "missing")
        zero = sorted(set(uid0.split()))
        if not zero:
            raise Unobserved(f"getent passwd listed no account with uid 0: {out[-200:]}")
        r.add("users", UID0_CHECK, zero == ["root"], "root only", ", ".join(zero),
              "\n".join(zero))

    r.section("users", [*names, UID0_CHECK], body)


def sudo_breaches(duty: Duty, sudo_l: str) -> list[str]:
    """How ``sudo -l -U`` of one administrator departs from its duty ([] when it keeps
    to it): unlimited sudo, programs of its duty it lacks, programs of the others'."""
    allowed = _sudo_commands(sudo_l)
    missing = [c for c in duty.must if c not in allowed]
    foreign = [c for c in duty.must_not if c in allowed]
    unlimited = any(line.strip().endswith(("(ALL) ALL", "(ALL : ALL) ALL", "(root) ALL"))
                    for line in sudo_l.splitlines())
    return [x for x in ("unlimited sudo" if unlimited else "",
                        f"lacks {', '.join(missing)}" if missing else "",
                        f"also holds {', '.join(foreign)}" if foreign else "") if x]


def _sudo_check(r: _HostRun, check_name: str, name: str, duty: Duty, rc: int,
                out: str) -> None:
    """``sudo -l -U`` of one administrator against its duty."""
    answered = "may run the following commands" in out or "not allowed to run sudo" in out
    if rc != 0 or not answered:
        r.errored("users", [check_name], f"sudo -l -U {name} exit {rc}: "
                  f"{out[-300:] or 'no output'}", duty.summary, out)
        return
    breaches = sudo_breaches(duty, out)
    r.add("users", check_name, not breaches, duty.summary,
          "; ".join(breaches) or "limited to its duty", out)


def _sudo(r: _HostRun, spec: HostSpec) -> None:
    """The separation of duties of GB/T 22239-2019 8.1.4.2 d), read back from sudo."""
    duties = [(role, name, spec.duties[role]) for role, name in sorted(spec.admins.items())]
    names = [f"{role} administrator {name}: sudo limited to its duty (三权分立)"
             for role, name, _ in duties]

    def body() -> None:
        for (_role, name, duty), check_name in zip(duties, names, strict=True):
            rc, out = _observe(r.h, f"sudo -l -U {shlex.quote(name)}", "sudo -l")
            _sudo_check(r, check_name, name, duty, rc, out)

    r.section("users", names, body)


def _locked(r: _HostRun, spec: HostSpec) -> None:
    if not spec.locked_accounts:
        return
    accounts = sorted(spec.locked_accounts)

    def body() -> None:
        quoted = " ".join(shlex.quote(n) for n in spec.locked_accounts)
        _, out = _observe(r.h, f"for u in {quoted}; do if getent passwd $u >/dev/null; then "
                               "passwd -S $u; else echo \"$u absent\"; fi; done", "passwd -S")
        status = {ln.split()[0]: ln.split()[1] for ln in out.splitlines()
                  if len(ln.split()) > 1}
        for name in accounts:
            st = status.get(name)
            if st is None:
                r.errored("users", [f"default account {name} locked"],
                          f"passwd -S gave no status for {name}", "L")
            elif st != "absent":  # an account the host does not have cannot log in
                r.add("users", f"default account {name} locked", st in ("L", "LK"), "L", st)

    r.section("users", [f"default account {n} locked" for n in accounts], body, "L")


def _audit(r: _HostRun, spec: HostSpec) -> None:
    if spec.lab:
        rules = next((f for f in spec.files if f.path.startswith("/etc/audit/rules.d/")),
                     None)
        r.checks.append(Check(r.t, "audit", "audit rules loaded", True, skipped=(
            "kernel audit is not namespaced: lab hosts install the rules file (checked under "
            "files) but do not load it into the machine's kernel")))
        if rules is None:
            r.add("audit", "audit rules file", False, "present", "absent")
        return

    def body() -> None:
        rc, out = _observe(r.h, "auditctl -l", "auditctl -l")
        if rc != 0:
            raise Unobserved(f"auditctl -l exit {rc}: {out[-300:]}")
        r.add("audit", "audit rules loaded", "-k " in out, "rules with keys",
              f"{len(out.splitlines())} rules", out)

    r.section("audit", ["audit rules loaded"], body, "rules with keys")


# The host's checks, in the order the report lists them.
HOST_STEPS = (_packages, _services, _ports, _files, _users, _sudo, _locked, _audit)


def check_host(topo: Topology, dc_name: str, server: str, ssh_config: Via,
               lab: bool = True, *, spec: HostSpec | None = None) -> list[Check]:
    """Every host check of one server, against its HostSpec (built here unless given).
    What could not be observed is an error under the check's name (:class:`_HostRun`),
    never a failure or a pass."""
    spec = spec or desired_state(topo, dc_name, server, lab)
    r = _HostRun(spec, ssh_config)
    for step in HOST_STEPS:
        step(r, spec)
    return r.checks


def _diff_excerpt(h: Host, path: str, content: str) -> str:
    """The first lines of the difference: what an auditor or engineer needs to see."""
    rc, out = _run(h, f"cat {shlex.quote(path)}")
    if rc != 0:
        return f"(the file could not be read for a diff: exit {rc}: {out[-200:]})"
    diff = difflib.unified_diff(content.splitlines(), out.splitlines(), "intended", path,
                                lineterm="")
    return "\n".join(list(diff)[:40])


def _log_server(topo: Topology, dc_name: str, senders: list[str],
                specs: dict[str, HostSpec] | None = None) -> str | None:
    """NAME.CENTER of the log server the senders forward to (their HostSpec's first):
    the HostSpec verify built for that sender when given, derived here otherwise."""
    dc = topo.datacenters[dc_name]
    for name in senders[:1] or [s.name for s in dc.servers[:1]]:
        spec = (specs or {}).get(name) or desired_state(topo, dc_name, name, True)
        by_address = {s.address: s.name for s in dc.servers}
        for address in spec.log_servers:
            if address in by_address:
                return f"{by_address[address]}.{dc.name}"
    return None


def check_logs(topo: Topology, dc_name: str, ssh_config: Via, senders: list[str], *,
               specs: dict[str, HostSpec] | None = None) -> list[Check]:
    """A message logged on each host arrives at the log server within seconds. A sender
    or a log server that cannot be reached is an error for the hosts it concerns; a host
    that cannot log (logger fails) or whose message does not arrive is a failure."""
    dc = topo.datacenters[dc_name]
    log_host = _log_server(topo, dc_name, senders, specs)
    if log_host is None:
        return []
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


def check_time(topo: Topology, dc_name: str, server: str, ssh_config: Via, *,
               spec: HostSpec | None = None) -> list[Check]:
    """The host follows its time sources (the HostSpec's; a time source itself is not
    checked here)."""
    spec = spec or desired_state(topo, dc_name, server, True)
    srcs = spec.time_sources
    t = spec.host
    if not srcs or "timesource" in spec.roles:
        return []
    expected = f"selected source {', '.join(srcs)}"
    try:
        h = connect(t, ssh_config)
    except HostKeyRefused as exc:
        return [Check.errored(t, "time", TIME_CHECK, str(exc), expected)]
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


def check_replication(topo: Topology, dc_name: str, ssh_config: Via) -> list[Check]:
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


BACKUP_GRACE = 3600  # seconds a dump may be late beyond its schedule


def _backup_period(cron: str) -> tuple[int, str]:
    """Seconds between two runs of the backup job's cron line, and how it reads."""
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


def _backup_probe(d: str, db_name: str) -> str:
    """One command for all the backup host says of a database's backups, in seven parts
    split by @@: its clock, the directory, the newest dumps, the failure marker, the
    cron line, the file system's space, the job's last log lines."""
    q = shlex.quote(d)
    return (f"date +%s; echo @@; test -d {q} && echo dir; echo @@; "
            f"find {q} -maxdepth 1 -name {shlex.quote(db_name + '-*.dump')} "
            "-printf '%T@ %s %f\\n' | sort -n | tail -3; echo @@; "
            f"test -e {q}/.last-run-FAILED && stat -c %Y {q}/.last-run-FAILED; echo @@; "
            "grep -v '^#' /etc/cron.d/pesdc-backup | grep -F pesdc-backup-pull | head -1; "
            f"echo @@; df -Pk {q} 2>/dev/null | tail -1; echo @@; "
            # the job's own lines (its tag), not sudo's record of this command
            "grep -hE " + shlex.quote(rf" pesdc-backup(\[[0-9]+\])?: "
                                      rf"{re.escape(db_name)} from ") +
            " /var/log/auth.log /var/log/secure 2>/dev/null | tail -2")


def _backup_problems(d: str, now: int, dumps: str, failed_at: str, cron: str,
                     syslog: str) -> tuple[list[str], str]:
    """What is wrong with a database's backups (nothing: its newest dump is there, not
    empty, within its schedule, and the last run did not fail), and how it reads."""
    every, schedule = _backup_period(cron)
    problems: list[str] = []
    newest = dumps.splitlines()[-1].split() if dumps else []
    if len(newest) != 3:
        problems.append(f"no backup in {d}")
    else:
        age = now - float(newest[0])
        allowed = (every or 86400) + BACKUP_GRACE
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
    return problems, observed


def backup_check(t: str, d: str, db_name: str, ssh_config: Via,
                 label: str | None = None) -> Check:
    """One database's backups on its backup host ``t`` (their directory ``d``);
    ``label``: what the check calls them (default: backup of DB)."""
    name = f"{label or 'backup of ' + db_name} present, current and its last run ok"
    expected = f"{d}/{db_name}-*.dump within its schedule, no failed run"
    try:
        h = connect(t, ssh_config)
        res = h.run(_backup_probe(d, db_name))
        parts = [p.strip() for p in res.stdout.split("@@", 6)]
        if len(parts) != 7:
            raise RuntimeError(f"unreadable answer (exit {res.rc}): "
                               f"{(res.stdout + res.stderr)[-300:]}")
    except Exception as exc:
        # The backup host could not be read: that proves nothing was backed up.
        why = f"cannot read the backup host: {exc}"[:500]
        return Check(t, "backups", name, False, expected, why, why, error=why)
    now_s, isdir, dumps, failed_at, cron, df, syslog = parts
    evidence = "\n".join(x for x in (
        f"newest dumps (mtime size name):\n{dumps or 'none'}",
        f"failure marker {d}/.last-run-FAILED: "
        f"{'set at ' + failed_at if failed_at else 'absent'}",
        f"schedule: {cron or 'none'}", f"df: {df or 'unknown'}",
        f"last job log lines:\n{syslog}" if syslog else "") if x)
    if not now_s.isdigit():
        why = f"no clock answer from {t}: {now_s[:200]!r}"
        return Check(t, "backups", name, False, expected, why, evidence, error=why)
    if not isdir:  # the host answered and the directory is not there: observed
        return Check(t, "backups", name, False, expected, f"no backup directory {d} on {t}",
                     evidence)
    problems, observed = _backup_problems(d, int(now_s), dumps, failed_at, cron, syslog)
    return Check(t, "backups", name, not problems, expected, observed[:500], evidence)


def check_backups(topo: Topology, dc_name: str, ssh_config: Via) -> list[Check]:
    """Per database with a backup target, on the backup host: the newest dump exists and
    is younger than the nightly job's schedule allows (its cron line, period + 1 h), and
    the job's latest run did not fail (it leaves ``DIR/.last-run-FAILED`` on failure and
    removes it on success). Evidence: the newest dumps, the failure marker, the job's
    last syslog lines, the cron line and the space left on the backup file system. A
    backup host that cannot be read is an error: nothing proves a backup exists."""
    from pesdc.provision.desired import BACKUP_DIR

    dc = topo.datacenters[dc_name]
    return [backup_check(f"{db.backup_target}.{dc.name}", f"{BACKUP_DIR}/{db.name}",
                          db.name, ssh_config)
            for db in dc.databases if db.backup_target]
