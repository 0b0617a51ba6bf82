"""pyinfra deploys: turn a HostSpec (host.data.pesdc_spec) into operations.

Every operation is named ``[CONTROL-ID] what`` and is skipped when the spec switches
the control off. Each operation yields commands only when the host differs from the
spec, so a second apply changes nothing. Secrets (the replication password, the backup
key) come from host.data.pesdc_secrets, which the engine fills at apply time from the
environment or the state directory's secrets; they are uploaded as file contents and
never appear in a command line, an operation name or the journal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import shlex
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from pyinfra import host
from pyinfra.api import operation
from pyinfra.api.command import FileUploadCommand
from pyinfra.facts.server import Command
from pyinfra.operations import apt, dnf, files, server, systemd

from pesdc.provision.controls import tag
from pesdc.provision.spec import FileSpec, HostSpec, ServiceSpec

NOLOGIN = {"debian": "/usr/sbin/nologin", "rhel": "/sbin/nologin"}


# -- pure helpers (tested without a host) ----------------------------------------------
def scram_verifier(password: str, salt_seed: str, iterations: int = 4096) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier, with a salt derived from the secret so that
    re-runs compute the same value (idempotent) and the password never reaches the host."""
    salt = hmac.new(password.encode(), f"pesdc-salt:{salt_seed}".encode(),
                    hashlib.sha256).digest()[:16]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(b: bytes) -> str:
        return base64.b64encode(b).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored)}:{b64(server_key)}"


def faillock_check(os_family: str) -> str:
    if os_family == "debian":
        return ("echo $(grep -c pam_faillock /etc/pam.d/common-auth 2>/dev/null || true)"
                " $(grep -c pam_faillock /etc/pam.d/common-account 2>/dev/null || true)")
    return ("echo $(grep -c pam_faillock /etc/pam.d/system-auth 2>/dev/null || true)"
            " $(grep -c pam_faillock /etc/pam.d/password-auth 2>/dev/null || true)")


def faillock_commands(os_family: str) -> list[str]:
    if os_family == "debian":
        return ["DEBIAN_FRONTEND=noninteractive pam-auth-update --enable pesdc-faillock "
                "pesdc-faillock-notify"]
    return ["authselect current >/dev/null 2>&1 || authselect select minimal --force",
            "authselect enable-feature with-faillock",
            "authselect apply-changes"]


def faillock_ok(os_family: str, out: str) -> bool:
    nums = [int(x) for x in out.split() if x.isdigit()]
    if os_family == "debian":
        return len(nums) == 2 and nums[0] >= 2 and nums[1] >= 1
    return len(nums) == 2 and nums[0] >= 2 and nums[1] >= 2


def service_reload_command(os_family: str, service: str, action: str) -> str:
    if os_family == "debian":
        if action == "restart":
            return initd_restart_command(service)
        return initd_start_command(service, action)
    return f"systemctl {action} {service}"


def initd_restart_command(service: str, wait_s: int = 30) -> str:
    """Stop, wait until the daemon is gone, start, and confirm it runs.

    Several Debian init scripts (chrony's among them) send SIGTERM on stop and return at
    once; their "restart" then finds the old daemon still shutting down, skips the start
    as "already running", and leaves the service stopped a moment later. systemd waits
    for the stop; without it we wait here, by the script's own status.
    """
    q = shlex.quote(service)
    return (f"{initd_start_command(service, 'stop')}; "
            f"for i in $(seq {wait_s * 5}); do /etc/init.d/{q} status >/dev/null 2>&1 || break;"
            f" sleep 0.2; done; "
            f"{initd_start_command(service, 'start')}; "
            # the daemon writes its pidfile after it has forked: give it a moment
            f"for i in $(seq 25); do /etc/init.d/{q} status >/dev/null 2>&1 && exit 0;"
            f" sleep 0.2; done; "
            f"echo '{service} is not running after its restart' >&2; exit 1")


def disable_service_commands(os_family: str, service: str) -> list[str]:
    if os_family == "debian":
        return [f"/etc/init.d/{service} stop >/dev/null 2>&1 || true",
                f"update-rc.d {service} disable"]
    return [f"systemctl disable --now {service}"]


def lock_account_commands(os_family: str, user: str) -> list[str]:
    return [f"usermod -L -s {NOLOGIN[os_family]} {shlex.quote(user)}"]


def package_module(os_family: str) -> str:
    return "apt" if os_family == "debian" else "dnf"


# -- custom operations -----------------------------------------------------------------
def _fact(cmd: str) -> str:
    out = host.get_fact(Command, command=cmd)
    return str(out or "")


@operation()
def pam_faillock(os_family: str) -> Generator[str, None, None]:
    if not faillock_ok(os_family, _fact(faillock_check(os_family))):
        yield from faillock_commands(os_family)


@operation()
def lock_accounts(os_family: str, users: list[str]) -> Generator[str, None, None]:
    script = " ".join(shlex.quote(u) for u in users)
    out = _fact(f"for u in {script}; do e=$(getent passwd $u) || continue; "
                f"s=$(getent shadow $u | cut -d: -f2 | cut -c1); "
                f"echo \"$u $(echo $e | cut -d: -f7) ${{s:-x}}\"; done")
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        user, shell, first = parts
        if shell.endswith(("nologin", "false")) and first in ("!", "*"):
            continue
        yield from lock_account_commands(os_family, user)


@operation()
def disable_services(os_family: str, services: list[str]) -> Generator[str, None, None]:
    names = " ".join(shlex.quote(s) for s in services)
    if os_family == "debian":
        out = _fact(f"for s in {names}; do ls /etc/rc[2-5].d/S*$s >/dev/null 2>&1 && "
                    f"echo $s; done; true")
    else:
        out = _fact(f"for s in {names}; do systemctl is-enabled $s >/dev/null 2>&1 && "
                    f"echo $s; done; true")
    for s in out.split():
        yield from disable_service_commands(os_family, s)


@operation()
def sysctls(values: dict[str, str]) -> Generator[str, None, None]:
    keys = sorted(values)
    if not keys:
        return
    out = _fact("for k in " + " ".join(keys) +
                "; do printf '%s=%s\\n' $k \"$(sysctl -n $k 2>/dev/null)\"; done")
    current = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    for k in keys:
        cur = " ".join(current.get(k, "").split())
        if cur == "":
            continue  # not present here (e.g. IPv6 off): nothing to enforce
        if cur != " ".join(values[k].split()):
            yield f"sysctl -q -w {k}={shlex.quote(values[k])}"


def psql(port: int) -> str:
    """psql as postgres on the cluster's own port: psql finds the server's socket by
    port (.s.PGSQL.PORT), so without it a cluster on 5433 is not found."""
    return f"runuser -u postgres -- psql -p {int(port)}"


@operation()
def pg_replication_role(user: str, verifier: str, port: int) -> Generator[str, None, None]:
    q = f"SELECT rolpassword FROM pg_authid WHERE rolname='{user}'"
    cur = _fact(f"{psql(port)} -XtAc {shlex.quote(q)} 2>/dev/null || true")
    if cur.strip() == verifier:
        return
    verb = "ALTER" if cur.strip() else "CREATE"
    sql = f"{verb} ROLE {user} WITH REPLICATION LOGIN PASSWORD '{verifier}'"
    yield f"{psql(port)} -Xq -v ON_ERROR_STOP=1 -c {shlex.quote(sql)}"


@operation()
def pg_standby(data_dir: str, primary: str, port: int, user: str, version: str,
               os_family: str) -> Generator[str, None, None]:
    if _fact(f"test -f {data_dir}/standby.signal && echo yes || echo no").strip() == "yes":
        return  # already a standby (streaming, or catching up): never rebuild it
    if os_family == "debian":
        stop = f"pg_ctlcluster {version} main stop -m fast || true"
        start = f"pg_ctlcluster {version} main start"
    else:
        stop, start = "systemctl stop postgresql || true", "systemctl start postgresql"
    yield stop
    yield f"rm -rf {data_dir} && install -d -o postgres -g postgres -m 0700 {data_dir}"
    # The primary may still be restarting with its replication settings: retry a while.
    yield (f"for i in $(seq 30); do runuser -u postgres -- pg_basebackup -h {primary} "
           f"-p {port} -U {user} -w -D {data_dir} -X stream -R && exit 0; "
           f"find {data_dir} -mindepth 1 -delete; sleep 2; done; exit 1")
    yield start


def initd_start_command(service: str, action: str = "start") -> str:
    """Daemons started over SSH must not keep the session's stdio open (the channel would
    stay open until they exit); the output goes to a log shown only on failure."""
    log = f"/var/log/pesdc-initd-{service}.log"
    return (f"/etc/init.d/{service} {action} </dev/null >{log} 2>&1 || "
            f"{{ cat {log} >&2; exit 1; }}")


@operation()
def initd_service(service: str, running: bool = True, enabled: bool = True
                  ) -> Generator[str, None, None]:
    q = shlex.quote(service)
    out = _fact(f"if /etc/init.d/{q} status >/dev/null 2>&1; then echo up; else echo down; fi;"
                f" ls /etc/rc2.d/S*{q} >/dev/null 2>&1 && echo enabled || echo disabled")
    if running and "down" in out:
        yield initd_start_command(service)
    if not running and "up" in out:
        yield initd_start_command(service, "stop")
    if enabled and "disabled" in out:
        yield f"update-rc.d {q} defaults >/dev/null && update-rc.d {q} enable >/dev/null"


@operation()
def remove_path(path: str) -> Generator[str, None, None]:
    q = shlex.quote(path)
    if _fact(f"if [ -e {q} ] || [ -L {q} ]; then echo yes; else echo no; fi").strip() == "yes":
        yield f"rm -f {q}"


@operation()
def snakeoil(cert: str, key: str, cn: str) -> Generator[str, None, None]:
    if _fact(f"test -s {cert} && test -s {key} && echo yes || echo no").strip() != "yes":
        yield (f"openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj /CN={cn} "
               f"-keyout {key} -out {cert} && chmod 0600 {key}")


# -- the deploy ------------------------------------------------------------------------
@dataclass
class RunRecord:
    """What one run's operations say of themselves, per host: each operation's own name
    (pyinfra merges the names of the operations that share a position across hosts),
    and "[CONTROL] file PATH" for every managed file that differs (filled while the
    batched file operations read their facts). The engine makes one per run and hands it
    to every host as ``host.data.pesdc_run``."""

    op_names: dict[str, dict[str, str]] = field(default_factory=dict)  # host -> hash -> name
    file_changes: dict[str, list[str]] = field(default_factory=dict)  # host -> changes

    def op_name(self, host_name: str, op_hash: str) -> str | None:
        return self.op_names.get(host_name, {}).get(op_hash)


def _record() -> RunRecord:
    record = host.data.get("pesdc_run")
    if not isinstance(record, RunRecord):
        raise RuntimeError("a pesdc deploy runs through pesdc.provision.engine (no run record)")
    return record


def _op(fn: Any, name: str, **kw: Any) -> Any:
    """Call an operation and record this host's own name for it."""
    meta = fn(name=name, **kw)
    h = getattr(meta, "_hash", None)
    if h is not None:
        _record().op_names.setdefault(host.name, {})[h] = name
    return meta


def _changed(*metas: Any) -> Callable[[], bool]:
    def check() -> bool:
        return any(m.did_change() for m in metas if m is not None)
    return check


def _on(spec: HostSpec, cid: str) -> bool:
    return spec.controls.get(cid, True) and cid not in spec.not_applicable


def managed_file_specs(spec: HostSpec) -> list[FileSpec]:
    """The files the deploy installs from the spec, in order: the accounts'
    authorized_keys, then the spec's files (the two secret files, .pgpass and the backup
    key, come from the run's secrets and are not listed)."""
    keys = [FileSpec(f"{u.home or '/home/' + u.name}/.ssh/authorized_keys",
                     "\n".join(u.authorized_keys) + "\n", mode="0600", owner=u.name,
                     group=u.name, control=u.control)
            for u in spec.users if u.authorized_keys and _on(spec, u.control or "PESDC-BL-01")]
    return [f for f in [*keys, *spec.files] if _on(spec, f.control)]


@dataclass
class _Deploy:
    """One host's deploy while its steps add operations: the spec, the run's secrets,
    and the file operations so far (their changes trigger the services' handlers)."""

    spec: HostSpec
    secrets: dict[str, str]
    plan: bool
    put_meta: dict[str, Any] = field(default_factory=dict)  # path -> its file operation

    @property
    def osf(self) -> str:
        return self.spec.os_family

    def on(self, cid: str) -> bool:
        return _on(self.spec, cid)

    def put(self, path: str, content: str, cid: str, mode: str, owner: str, group: str,
            what: str) -> None:
        """One file from the run's secrets: through managed_files, not files.put, so that
        it is written atomically."""
        self.put_meta[path] = _op(managed_files, name=tag(cid, what), files=[
            {"path": path, "content": content, "mode": mode, "owner": owner,
             "group": group, "validate": "", "control": cid}])

    def handler(self, name: str, commands: list[str], *metas: Any) -> None:
        """Commands run only when one of the operations changed something (not in a plan)."""
        if self.plan or not any(m is not None for m in metas):
            return
        _op(server.shell, name=name, commands=commands, _if=_changed(*metas))


def _packages(d: _Deploy) -> None:
    """First: files land in directories the packages create."""
    if not d.on("PESDC-BL-18"):
        return
    name = tag("PESDC-BL-18", "packages")
    if package_module(d.osf) == "apt":
        _op(apt.packages, name=name, packages=d.spec.packages, update=False,
            no_recommends=True)
    else:
        _op(dnf.packages, name=name, packages=d.spec.packages)


def _accounts(d: _Deploy) -> None:
    """Users before the files they own: all accounts, then all directories, one op each."""
    users: list[dict[str, Any]] = []
    dirs: list[dict[str, str]] = []
    for u in d.spec.users:
        if not d.on(u.control or "PESDC-BL-01"):
            continue
        home = u.home or f"/home/{u.name}"
        users.append({"name": u.name, "home": home, "shell": u.shell,
                      "groups": list(u.groups), "system": u.system})
        if u.authorized_keys:
            dirs.append({"path": f"{home}/.ssh", "owner": u.name, "group": u.name,
                         "mode": "0700"})
    if users:
        names = ", ".join(str(u["name"]) for u in users)
        _op(managed_users, name=tag("PESDC-BL-02", f"accounts {names}"), users=users)
    dirs += [{k: x[k] for k in ("path", "owner", "group", "mode")}
             for x in d.spec.directories if d.on(x.get("control", ""))]
    if dirs:
        _op(managed_directories, name=tag("PESDC-BL-01", f"{len(dirs)} directories"),
            dirs=dirs)


def _files(d: _Deploy) -> None:
    """Files in a few batches, one per set of services they notify, so that a change
    reloads only the services of its batch; then the files nginx must not have."""
    batches: dict[tuple[str, ...], list[FileSpec]] = {}
    for f in managed_file_specs(d.spec):
        batches.setdefault(tuple(sorted(f.notify)), []).append(f)
    for notify, group in sorted(batches.items()):
        what = f"{len(group)} files" + (f" for {', '.join(notify)}" if notify else "")
        ids = ",".join(sorted({f.control for f in group}))
        m = _op(managed_files, name=f"[{ids}] {what}",
                files=[{"path": f.path, "content": f.content, "mode": f.mode,
                        "owner": f.owner, "group": f.group, "validate": f.validate,
                        "control": f.control}
                       for f in group])
        for f in group:
            d.put_meta[f.path] = m
    for path in d.spec.data.get("pesdc", {}).get("nginx_remove", []):
        _op(remove_path, name=tag("PESDC-APP-01", f"remove {path}"), path=path)


def _secret_files(d: _Deploy) -> None:
    """The standby's replication password and the backup host's key: uploaded as
    contents (never on a command line)."""
    db, bk = d.spec.database, d.spec.backup
    if db and db["cluster_role"] == "standby" and d.on("PESDC-DB-02"):
        pw = d.secrets.get(db["replication_secret"], "")
        d.put(f"{db['paths']['home']}/.pgpass", f"{db['primary_address']}:{db['port']}:"
              f"replication:{db['replication_user']}:{pw}\n", "PESDC-DB-02", "0600",
              "postgres", "postgres", "replication password file")
    if bk and d.on("PESDC-BAK-01") and d.secrets.get("backup_private_key"):
        user = d.spec.data["pesdc"]["backup_user"]
        _op(files.directory, name=tag("PESDC-BAK-01", "backup ~/.ssh"),
            path=f"{bk['home']}/.ssh", user=user, group=user, mode="0700")
        d.put(f"{bk['home']}/.ssh/id_ed25519", d.secrets["backup_private_key"],
              "PESDC-BAK-01", "0600", user, user, "backup key")


def _system_state(d: _Deploy) -> None:
    """The baseline's state beyond files: PAM, accounts, services off, sysctls, the
    audit rules loaded, and a certificate for TLS sites where the OS ships none."""
    osf, spec, data = d.osf, d.spec, d.spec.data.get("pesdc", {})
    if d.on("PESDC-BL-05"):
        _op(pam_faillock, name=tag("PESDC-BL-05", "pam_faillock in the PAM stack"),
            os_family=osf)
    if d.on("PESDC-BL-12"):
        _op(lock_accounts, name=tag("PESDC-BL-12", "default accounts locked"), os_family=osf,
            users=spec.locked_accounts)
    if d.on("PESDC-BL-13"):
        _op(disable_services, name=tag("PESDC-BL-13", "unneeded services disabled"),
            os_family=osf, services=spec.disabled_services)
    if d.on("PESDC-BL-15"):
        _op(sysctls, name=tag("PESDC-BL-15", "network sysctls"),
            values=data.get("sysctl_net", {}))
    if d.on("PESDC-BL-16"):
        _op(sysctls, name=tag("PESDC-BL-16", "kernel sysctls"),
            values=data.get("sysctl_global", {}))
    if d.on("PESDC-BL-09"):
        d.handler(tag("PESDC-BL-09", "load audit rules"), ["augenrules --load"],
                  d.put_meta.get("/etc/audit/rules.d/50-pesdc.rules"))
    for app in data.get("apps", []):
        site = app.get("site", {})
        if app.get("tls") and osf != "debian" and d.on("PESDC-WEB-01"):
            _op(snakeoil, name=tag("PESDC-WEB-01", "TLS certificate"), cert=site["cert"],
                key=site["key"], cn=f"{app['system']}")


def _reload(d: _Deploy, s: ServiceSpec, notified: list[Any]) -> None:
    """The service's handler: its configuration checked where it can be, then reloaded
    or restarted when one of its files changed."""
    osf = d.osf
    if s.name in ("ssh", "sshd"):
        d.handler(tag(s.control, "sshd config checked and reloaded"),
                  ["/usr/sbin/sshd -t", service_reload_command(osf, s.name, "reload")],
                  *notified)
    elif s.name == "nginx":
        d.handler(tag(s.control, "nginx config checked and reloaded"),
                  ["/usr/sbin/nginx -t -q", service_reload_command(osf, s.name, "reload")],
                  *notified)
    elif s.name == "postgresql":
        d.handler(tag(s.control, "postgresql restarted for its configuration"),
                  [service_reload_command(osf, s.name, "restart")], *notified)
    else:
        d.handler(tag(s.control, f"service {s.name} restarted"),
                  [service_reload_command(osf, s.name, "restart")], *notified)


def _services(d: _Deploy) -> None:
    """Services running and enabled; reloaded or restarted when their files changed."""
    for s in d.spec.services:
        if not d.on(s.control):
            continue
        notified = [d.put_meta[f.path] for f in d.spec.files if s.name in f.notify
                    and f.path in d.put_meta]
        name = tag(s.control, f"service {s.name} running")
        if d.osf == "debian":
            _op(initd_service, name=name, service=s.name, running=s.running,
                enabled=s.enabled)
        else:
            _op(systemd.service, name=name, service=s.name, running=s.running,
                enabled=s.enabled)
        _reload(d, s, notified)


def _database(d: _Deploy) -> None:
    """The primary's replication role and databases, then the standby's base backup."""
    db = d.spec.database
    if not db:
        return
    pw = d.secrets.get("replication_password", "")
    if db["primary_databases"] and d.on("PESDC-DB-01") and pw:
        _op(pg_replication_role, name=tag("PESDC-DB-01", "replication role"),
            user=db["replication_user"],
            verifier=scram_verifier(pw, d.spec.data["dc"]["name"]), port=db["port"])
        far_pw = d.secrets.get("offsite_replication_password", "")
        if db["offsite_standbys"] and far_pw:
            # Standbys in other centers: a role of their own (pg_hba admits it from
            # their addresses only).
            _op(pg_replication_role, name=tag("PESDC-DB-01", "off-site replication role"),
                user=db["offsite_replication_user"],
                verifier=scram_verifier(far_pw, d.spec.data["dc"]["name"]), port=db["port"])
        for name in db["primary_databases"]:
            _op(pg_database, name=tag("PESDC-DB-01", f"database {name}"), database=name,
                port=db["port"])
    if db["cluster_role"] == "standby" and d.on("PESDC-DB-02"):
        pgp = db["paths"]
        _op(pg_standby, name=tag("PESDC-DB-02", "streaming standby"), data_dir=pgp["data"],
            primary=db["primary_address"], port=db["port"], user=db["replication_user"],
            version=pgp["version"], os_family=d.osf)


# A host's operations, in the order they run.
DEPLOY_STEPS = (_packages, _accounts, _files, _secret_files, _system_state, _services,
                _database)


def apply_spec(spec: HostSpec, secrets: dict[str, str], plan: bool = False) -> None:
    """Add the operations of one host (call with the host in context)."""
    d = _Deploy(spec, secrets, plan)
    for step in DEPLOY_STEPS:
        step(d)


@operation()
def managed_users(users: list[dict[str, Any]]) -> Generator[str, None, None]:
    """Every account of the host in one operation (one fact for all of them)."""
    names = " ".join(shlex.quote(u["name"]) for u in users)
    have: dict[str, tuple[str, str, set[str]]] = {}
    for line in _fact(f"for u in {names}; do e=$(getent passwd $u) && "
                      "echo \"$e|$(id -nG $u | tr ' ' ',')\"; done; true").splitlines():
        fields = line.split(":")
        if len(fields) >= 7:
            shell, groups = fields[6].split("|", 1) if "|" in fields[6] else (fields[6], "")
            have[fields[0]] = (fields[5], shell, set(filter(None, groups.split(","))))
    for u in users:
        q = shlex.quote(u["name"])
        groups = ",".join(u["groups"])
        if u["name"] not in have:
            yield (f"useradd {'-r ' if u['system'] else ''}-m -d {shlex.quote(u['home'])} "
                   f"-s {shlex.quote(u['shell'])} {('-G ' + groups + ' ') if groups else ''}"
                   f"{q}")
            continue
        home, shell, member = have[u["name"]]
        if shell != u["shell"]:
            yield f"usermod -s {shlex.quote(u['shell'])} {q}"
        if home != u["home"]:
            yield f"usermod -d {shlex.quote(u['home'])} -m {q}"
        missing = [g for g in u["groups"] if g not in member]
        if missing:
            yield f"usermod -aG {','.join(missing)} {q}"


@operation()
def managed_directories(dirs: list[dict[str, str]]) -> Generator[str, None, None]:
    """Directories with owner and mode, all checked by one command."""
    paths = " ".join(shlex.quote(d["path"]) for d in dirs)
    have = {}
    for line in _fact(f"for p in {paths}; do [ -d \"$p\" ] && "
                      "echo \"$(stat -c '%a %U %G' \"$p\") $p\"; done; true").splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4:
            have[parts[3]] = parts[:3]
    for d in dirs:
        q = shlex.quote(d["path"])
        cur = have.get(d["path"])
        if cur is None:
            yield f"mkdir -p {q}"
        if cur != [d["mode"].lstrip("0"), d["owner"], d["group"]]:
            yield f"chown {shlex.quote(d['owner'])}:{shlex.quote(d['group'])} {q}"
            yield f"chmod {d['mode']} {q}"


def temp_path(path: str) -> str:
    """Where a managed file is written before it replaces ``path``: the same directory
    (rename is atomic only within one file system), hidden, and ending in ``~`` so that
    no reader of a drop-in directory takes it for a file of its own while it is there
    (sudo skips names with a dot or a trailing ``~``, cron names with a dot,
    pam-auth-update names ending in ``~``; the others read only ``*.conf``, ``*.sh``...)."""
    d, name = path.rsplit("/", 1)
    return f"{d}/.{name}.pesdc-new~"


def atomic_file_commands(path: str, mode: str, owner: str, group: str, validate: str = "",
                         stage: str | None = None, stage_owner: str = "root"
                         ) -> tuple[str, str]:
    """The shell commands that bracket the upload of a managed file to its temp_path.

    ``prepare`` (before the upload): the directory exists, the temporary file is created
    empty with mode 0600 (the upload truncates it and keeps that mode, so a secret is
    never readable by others, not even for a moment), and so is the staging file in
    /tmp that pyinfra's SFTP upload goes through when the deploy account uses sudo.
    ``finish`` (after it): owner and mode are set, a validator that names the file
    (``visudo -cf PATH``) checks the new bytes before they are live, the bytes are
    fsync'ed, the file is renamed over ``path`` (atomic: a reader, a reboot or a killed
    connection sees the old file or the new one, never a part of either), and the
    directory is fsync'ed; on any failure the temporary file is removed and ``path``
    keeps its old content. A validator that checks the whole configuration
    (``nginx -t``) runs once the file is in place, as before."""
    tmp = temp_path(path)
    d = path.rsplit("/", 1)[0] or "/"
    q, qt, qd = shlex.quote(path), shlex.quote(tmp), shlex.quote(d)
    prepare = f"mkdir -p {qd} && rm -f {qt} && install -m 0600 /dev/null {qt}"
    if stage:
        qs = shlex.quote(stage)
        prepare += (f" && rm -f {qs} && install -m 0600 -o {shlex.quote(stage_owner)} "
                    f"/dev/null {qs}")
    steps = [f"chown {shlex.quote(owner)}:{shlex.quote(group)} {qt}", f"chmod {mode} {qt}"]
    after = ""
    if validate and path in validate:
        steps.append(validate.replace(path, tmp))
    elif validate:
        after = f" && {{ {validate}; }}"
    steps += [f"sync {qt}", f"mv -f -T {qt} {q}"]
    finish = ("{ " + " && ".join(steps) + f"; }} || {{ rc=$?; rm -f {qt}; exit $rc; }}; "
              f"sync {qd}{after}")
    return prepare, finish


@operation()
def managed_files(files: list[dict[str, str]]) -> Generator[Any, None, None]:
    """Several managed files in one operation: one command reads every file's checksum,
    mode and owner; only the files that differ are uploaded (pyinfra's files.put costs
    two facts and a round of every host per file, which made a no-change apply slow).

    A file is never rewritten in place (pyinfra's own upload truncates the target and
    writes it, directly over SFTP as root or with ``cp`` from /tmp under sudo, so a
    connection cut mid-way leaves a half file): it goes to a temporary file beside it
    and is renamed over it (:func:`atomic_file_commands`). Temporary files a killed run
    left behind are removed by the next one."""
    sudo = bool(host.data.get("_sudo"))
    ssh_user = str(host.data.get("ssh_user") or "root")
    stages = {f["path"]: host.get_temp_filename(f["path"]) for f in files}
    rows = " ".join(shlex.quote(f"{f['path']}|{temp_path(f['path'])}|{stages[f['path']]}")
                    for f in files)
    script = (f"for r in {rows}; do p=${{r%%|*}}; x=${{r#*|}}; t=${{x%%|*}}; s=${{x#*|}}; "
              "l=0; { [ -e \"$t\" ] || [ -e \"$s\" ]; } && l=1; "
              "if [ -f \"$p\" ]; then "
              "printf '%s %s %s %s\\n' \"$(sha256sum < \"$p\" | cut -d' ' -f1)\" "
              "\"$(stat -c '%a %U %G' \"$p\")\" $l \"$p\"; "
              "else echo \"- - - - $l $p\"; fi; done")
    state: dict[str, list[str]] = {}
    for line in _fact(script).splitlines():
        parts = line.split(" ", 5)
        if len(parts) == 6:
            state[parts[5]] = parts[:5]
    for f in files:
        path = f["path"]
        sha, mode, owner, group, left = state.get(path, ["-", "-", "-", "-", "0"])
        want = hashlib.sha256(f["content"].encode()).hexdigest()
        meta_differs = mode != f["mode"].lstrip("0") or owner != f["owner"] or \
            group != f["group"]
        if sha != want or meta_differs:
            # Per-file detail for the plan and the journal (the batch is one operation).
            _record().file_changes.setdefault(host.name, []).append(
                tag(f["control"], f"file {path}"))
        if sha != want:
            stage = stages[path] if sudo else None
            prepare, finish = atomic_file_commands(
                path, f["mode"], f["owner"], f["group"], f.get("validate", ""),
                stage=stage, stage_owner=ssh_user)
            yield prepare
            yield FileUploadCommand(io.StringIO(f["content"]), temp_path(path),
                                    remote_temp_filename=stage)
            yield finish
            continue
        if meta_differs:
            # The content is right: only its owner or mode (each change is atomic).
            yield f"chown {shlex.quote(f['owner'])}:{shlex.quote(f['group'])} {shlex.quote(path)}"
            yield f"chmod {f['mode']} {shlex.quote(path)}"
        if left == "1":
            yield f"rm -f {shlex.quote(temp_path(path))} {shlex.quote(stages[path])}"


@operation()
def first_backup(directories: list[str], user: str) -> Generator[str, None, None]:
    """Take the first backup when a database has none yet: backups exist from day one,
    not from the first night (8.1.4.9). Later ones come from cron. The pull script's
    --first mode waits for a database host that is still starting, no longer."""
    missing = [d for d in directories
               if not _fact(f"ls {shlex.quote(d)}/ 2>/dev/null | grep -F .dump | head -1; "
                            "true").strip()]
    if missing:
        yield f"runuser -u {shlex.quote(user)} -- /usr/local/sbin/pesdc-backup-pull --first"


@operation()
def pg_database(database: str, port: int) -> Generator[str, None, None]:
    q = f"SELECT 1 FROM pg_database WHERE datname='{database}'"
    if _fact(f"{psql(port)} -XtAc {shlex.quote(q)} 2>/dev/null || true").strip() != "1":
        yield f"runuser -u postgres -- createdb -p {int(port)} {shlex.quote(database)}"


def deploy_first_backup() -> None:
    """The second phase of an apply, on backup hosts: the first backup, once every
    database of the run exists (pyinfra orders one run's operations across hosts by
    their place in the deploy, not by what they depend on on other hosts)."""
    spec: HostSpec = host.data.pesdc_spec
    bk = spec.backup
    if bk and spec.controls.get("PESDC-BAK-01", True):
        _op(first_backup, name=tag("PESDC-BAK-01", "first backup taken"),
            directories=[d["dir"] for d in bk["databases"]],
            user=spec.data["pesdc"]["backup_user"])


def deploy_host() -> None:
    """add_deploy entry point: reads the spec and secrets from host.data."""
    spec: HostSpec = host.data.pesdc_spec
    apply_spec(spec, dict(host.data.get("pesdc_secrets") or {}),
               plan=bool(host.data.get("pesdc_plan")))
