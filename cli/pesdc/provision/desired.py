"""The desired state of one server, computed from the topology (no host contact).

`desired_state()` returns a HostSpec: packages, files (each rendered from a shared
template under templates/linux/, so the Ansible roles render the same bytes from the
same context), users, services, locked accounts and disabled services, each tagged with
its control id, and what the host must show for it (its listeners, log servers and time
sources). It is built by small steps: the baseline every server gets, then one builder
per role. ``HostSpec.data`` is the plain template context (JSON-able) that the Ansible
export writes to host_vars. Secrets never appear here: the deploys add them at apply
time. Provisioning applies this HostSpec, verify checks a host against it and audit
takes its expectations from it (audit's norms are its own). Each builder is two steps,
its facts and its files: `desired_facts()` runs the first only (the static audit, which
renders the shared server files as its evidence), `desired_state()` both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pesdc.backbone import offsite_copies, offsite_replicas
from pesdc.model.schema import DataCenter, OsFamily, Server
from pesdc.model.tree import Topology
from pesdc.provision.controls import controls_for
from pesdc.provision.spec import FileSpec, HostSpec, ServiceSpec, UserSpec
from pesdc.render.context import CenterFacts
from pesdc.render.engine import render_template
from pesdc.render.servers import server_files, server_files_context, shared_files_context

DEPLOY_USER = "pesdc"
BACKUP_USER = "pesdc-backup"
APP_USER = "pesdc-app"
REPLICATION_USER = "replicator"
# Off-site standbys (another center's database servers) log in as a role of their own,
# with a secret shared by both centers' runs (pesdc.provision.secrets).
OFFSITE_REPLICATION_USER = "replicator_offsite"
APP_PORT_OFFSET = 10000
BACKUP_DIR = "/srv/backup"
TLS_PORTS = frozenset({443, 8443})

PACKAGES: dict[str, dict[str, list[str]]] = {
    "debian": {
        "baseline": ["openssh-server", "sudo", "chrony", "rsyslog", "auditd",
                     "libpam-pwquality", "logrotate", "cron", "acl"],
        "logserver": [],
        "database": ["postgresql", "postgresql-client"],
        "appserver": ["nginx", "python3", "ssl-cert", "openssl"],
        "web": ["nginx", "ssl-cert", "openssl"],
        "bastion": ["openssh-client"],
        "backup": ["openssh-client", "rsync"],
        "timesource": [],
    },
    "rhel": {
        "baseline": ["openssh-server", "sudo", "chrony", "rsyslog", "audit",
                     "libpwquality", "logrotate", "cronie", "acl", "authselect"],
        "logserver": [],
        "database": ["postgresql-server", "postgresql"],
        "appserver": ["nginx", "python3", "ssl-cert", "openssl"],
        "web": ["nginx", "openssl"],
        "bastion": ["openssh-clients"],
        "backup": ["openssh-clients", "rsync"],
        "timesource": [],
    },
}
SERVICE_NAMES = {
    "debian": {"ssh": "ssh", "cron": "cron", "chrony": "chrony"},
    "rhel": {"ssh": "sshd", "cron": "crond", "chrony": "chronyd"},
}
# Accounts a base install ships that nobody logs in as (8.1.4.1: default accounts).
DEFAULT_ACCOUNTS = ("sync", "games", "news", "uucp", "proxy", "www-data", "list", "irc",
                    "gnats", "lp", "mail", "man", "nobody", "adm", "operator", "ftp",
                    "halt", "shutdown")
UNNEEDED_SERVICES = ("avahi-daemon", "cups", "rpcbind", "nfs-server", "nfs-kernel-server",
                     "telnet", "xinetd", "vsftpd", "bluetooth", "rsh", "tftpd-hpa",
                     "snmpd", "exim4", "postfix")
# Written with values, applied only per network namespace on lab hosts.
NETNS_SYSCTL_PREFIXES = ("net.ipv4.", "net.ipv6.")

def _server(dc: DataCenter, name: str) -> Server:
    for s in dc.servers:
        if s.name == name:
            return s
    raise KeyError(f"no server {name!r} in {dc.name}")


def pg_paths(os_family: str, version: str = "15") -> dict[str, str]:
    if os_family == "debian":
        return {"version": version, "conf_dir": f"/etc/postgresql/{version}/main",
                "conf_d": f"/etc/postgresql/{version}/main/conf.d",
                "data": f"/var/lib/postgresql/{version}/main",
                "home": "/var/lib/postgresql", "bin": f"/usr/lib/postgresql/{version}/bin",
                "service": "postgresql"}
    return {"version": version, "conf_dir": "/var/lib/pgsql/data",
            "conf_d": "/var/lib/pgsql/data/conf.d", "data": "/var/lib/pgsql/data",
            "home": "/var/lib/pgsql", "bin": "/usr/bin", "service": "postgresql"}


def _database_ctx(dc: DataCenter, srv: Server) -> dict[str, Any] | None:
    by_name = {s.name: s for s in dc.servers}
    mine = [d for d in dc.databases if srv.name in (d.primary, d.standby)]
    if not mine:
        return None
    standby_of = [d for d in mine if d.standby == srv.name]
    clients = []
    for d in mine:
        for system in dc.systems:
            if system.database != d.name:
                continue
            for sname in system.servers:
                if sname in by_name:
                    clients.append({"database": d.name, "system": system.name,
                                    "cidr": f"{by_name[sname].address}/32"})
    replication = []
    for d in mine:
        for peer in (d.primary, d.standby):
            if peer and peer != srv.name and peer in by_name:
                # Both ends: the standby replicates from the primary, and after a
                # switchover the roles swap.
                kind = "standby" if peer == d.standby else "primary"
                replication.append({"cidr": f"{by_name[peer].address}/32",
                                    "what": f"{d.name} {kind} {peer}",
                                    "user": REPLICATION_USER})
    primary = by_name[standby_of[0].primary] if standby_of else None
    backup_hosts = sorted({d.backup_target for d in mine if d.backup_target})
    version = next((d.version for d in mine if d.version), None) or "15"  # bookworm
    return {
        "names": [d.name for d in mine],
        "cluster_role": "standby" if standby_of else "primary",
        "primary_databases": [d.name for d in mine if d.primary == srv.name],
        "primary_address": primary.address if primary else None,
        "primary_host": primary.name if primary else None,
        "slot": srv.name.replace("-", "_"),
        "port": mine[0].port,
        "clients": clients,
        "replication": replication,
        "replication_user": REPLICATION_USER,
        "replication_secret": "replication_password",
        "offsite_standbys": [],
        "offsite_replication_user": OFFSITE_REPLICATION_USER,
        "dumpable": sorted({d.name for d in mine}),
        "backup_sources": [by_name[b].address for b in backup_hosts if b in by_name],
        "paths": pg_paths(srv.os.value, version),
    }


def _backup_ctx(dc: DataCenter, srv: Server) -> dict[str, Any] | None:
    by_name = {s.name: s for s in dc.servers}
    dbs = [d for d in dc.databases if d.backup_target == srv.name]
    if "backup" not in [r.value for r in srv.roles] and not dbs:
        return None
    out = []
    for d in dbs:
        # Dump from the standby when there is one (spares the primary), else the primary.
        src = by_name.get(d.primary)
        if src is not None:
            out.append({"name": d.name, "host": src.name, "address": src.address,
                        "dir": f"{BACKUP_DIR}/{d.name}"})
    return {"dir": BACKUP_DIR, "home": BACKUP_DIR, "databases": out,
            "retention_days": 30, "minute": 30, "hour": 1}


def offsite_dir(center: str, database: str) -> str:
    """Where a backup server keeps another center's database (names repeat across
    centers: each center has its own folder)."""
    return f"{BACKUP_DIR}/offsite/{center}/{database}"


def _offsite(facts: CenterFacts, srv: Server, db: dict[str, Any] | None,
             backup: dict[str, Any] | None) -> None:
    """A database primary lets the other center's backup server pull its dumps too; that
    backup server pulls them into a folder of the center's own."""
    copies = offsite_copies(facts.topo)
    me = facts.dc.name
    if db is not None:
        db["offsite"] = [{"center": c.backup_center, "server": c.backup_server,
                          "address": c.backup_address, "database": c.database}
                         for c in copies if c.db_center == me and c.primary == srv.name]
    if backup is not None:
        backup["databases"] += [
            {"name": c.database, "host": f"{c.primary}.{c.db_center}",
             "address": c.primary_address, "dir": offsite_dir(c.db_center, c.database),
             "center": c.db_center}
            for c in copies if c.backup_center == me and c.backup_server == srv.name]


def _offsite_standby(facts: CenterFacts, srv: Server, db: dict[str, Any] | None
                     ) -> dict[str, Any] | None:
    """Both ends of an off-site stream (异地实时备份): a primary admits its standbys in
    other centers (their own replication role, from their addresses only); a database
    server of this center that stands by for another center's primary replicates it."""
    me = facts.dc.name
    for s in offsite_replicas(facts.topo):
        if db is not None and s.db_center == me and s.primary == srv.name:
            db["offsite_standbys"].append({"center": s.standby_center,
                                           "server": s.standby_server,
                                           "address": s.standby_address})
            db["replication"].append({
                "cidr": f"{s.standby_address}/32", "user": OFFSITE_REPLICATION_USER,
                "what": f"off-site standby {s.standby_server}.{s.standby_center}"})
        elif db is None and s.standby_center == me and s.standby_server == srv.name:
            return {
                "names": list(s.databases), "cluster_role": "standby",
                "primary_databases": [], "primary_address": s.primary_address,
                "primary_host": f"{s.primary}.{s.db_center}",
                "slot": srv.name.replace("-", "_"), "port": s.port, "clients": [],
                "replication": [], "replication_user": OFFSITE_REPLICATION_USER,
                "replication_secret": "offsite_replication_password",
                "offsite_standbys": [],
                "offsite_replication_user": OFFSITE_REPLICATION_USER,
                "dumpable": sorted(s.databases), "backup_sources": [],
                "paths": pg_paths(srv.os.value, s.version)}
    return db


def _apps_ctx(dc: DataCenter, srv: Server) -> list[dict[str, Any]]:
    roles = [r.value for r in srv.roles]
    out: list[dict[str, Any]] = []
    for system in dc.systems:
        if srv.name not in system.servers:
            continue
        tcp = [p.port for p in system.ports if p.protocol == "tcp"]
        if not tcp:
            continue
        if "appserver" in roles:
            out.append({"system": system.name, "kind": system.kind.value, "ports": tcp,
                        "backend_port": tcp[0] + APP_PORT_OFFSET, "user": APP_USER,
                        "public": system.public,
                        "title": system.title.en if system.title else system.name})
        elif "web" in roles:
            out.append({"system": system.name, "kind": system.kind.value, "ports": tcp,
                        "backend_port": None, "user": APP_USER, "public": system.public,
                        "title": (f"{system.title.zh} / {system.title.en}"
                                  if system.title else system.name)})
    return out


def host_context(facts: CenterFacts, srv: Server, lab: bool,
                 deploy_pubkeys: list[str] | None = None,
                 backup_pubkey: str | None = None, shared: bool = False) -> dict[str, Any]:
    """The shared template context: what the server files render from (the server's
    context, the administrators' duties) plus the role values (``pesdc``). ``shared``:
    the center-wide values and the duties are the objects render_server shares between
    servers (for a caller that only reads the context); by default its own copies."""
    ctx = shared_files_context(facts, srv) if shared else server_files_context(facts, srv)
    dc = facts.dc
    roles = [r.value for r in srv.roles]
    db = _database_ctx(dc, srv) if "database" in roles else None
    if "database" in roles:
        db = _offsite_standby(facts, srv, db)
    backup = _backup_ctx(dc, srv) if "backup" in roles else None
    _offsite(facts, srv, db, backup)
    ctx["pesdc"] = {
        "lab": lab,
        "roles": roles,
        "deploy_user": DEPLOY_USER,
        "deploy_pubkeys": list(deploy_pubkeys or []),
        "backup_user": BACKUP_USER,
        "backup_pubkey": backup_pubkey,
        "database": db,
        "backup": backup,
        "apps": _apps_ctx(dc, srv) if {"appserver", "web"} & set(roles) else [],
        "netns_sysctl_prefixes": list(NETNS_SYSCTL_PREFIXES),
    }
    return ctx




@dataclass
class _Build:
    """One server's HostSpec while the builders fill it, with what they read."""

    spec: HostSpec
    ctx: dict[str, Any]
    deploy_pubkeys: list[str]
    backup_pubkey: str | None

    @property
    def osf(self) -> str:
        return self.spec.os_family

    @property
    def roles(self) -> list[str]:
        return self.spec.roles

    @property
    def svc(self) -> dict[str, str]:
        return SERVICE_NAMES[self.osf]

    @property
    def pesdc(self) -> dict[str, Any]:
        return self.ctx["pesdc"]

    def add(self, path: str, template: str, control: str, c: dict[str, Any] | None = None,
            mode: str = "0644", owner: str = "root", group: str = "root",
            notify: list[str] | None = None, validate: str = "") -> None:
        """A file rendered from a shared template (``c``: a context beyond the host's,
        whose extra values the Ansible role is given too)."""
        ctx = self.ctx
        extra = {k: v for k, v in (c or {}).items() if k not in ctx or v is not ctx[k]}
        self.spec.files.append(FileSpec(
            path=path, content=render_template(template, c or ctx), template=template,
            mode=mode, owner=owner, group=group, control=control,
            notify=list(notify or []), validate=validate.format(path=path), context=extra))

    def listen(self, *sockets: str) -> None:
        """'proto/port' the host must listen on (on a non-loopback address)."""
        for s in sockets:
            if s not in self.spec.listeners:
                self.spec.listeners.append(s)


# -- the baseline: every server ------------------------------------------------------
def _packages(b: _Build) -> None:
    table = PACKAGES[b.osf]
    seen: list[str] = []
    for role in ["baseline", *b.roles]:
        seen += [p for p in table.get(role, []) if p not in seen]
    b.spec.packages = seen


def _shared_files(b: _Build) -> None:
    """The shared server files (render/servers.py SERVER_FILES)."""
    for f in server_files(b.ctx):
        b.add(f.dest[b.osf], f"linux/server/{f.template}", f.implements, mode=f.mode,
              notify=[b.svc.get(n, n) for n in f.notify], validate=f.validate)


def _baseline_files(b: _Build) -> None:
    """The baseline's own files (after the shared ones)."""
    b.add("/etc/profile.d/pesdc-umask.sh", "linux/roles/baseline/umask.sh.j2", "PESDC-BL-14")
    b.add("/etc/sudoers.d/40-pesdc-deploy", "linux/roles/baseline/sudoers-deploy.j2",
          "PESDC-BL-01", mode="0440", validate="/usr/sbin/visudo -cf {path}")
    if b.osf == "debian":
        _debian_files(b)


def _debian_files(b: _Build) -> None:
    """PAM, chrony's defaults and rsyslog as Debian's SysV hosts need them."""
    b.add("/usr/share/pam-configs/pesdc-faillock", "linux/roles/baseline/pam-faillock.j2",
          "PESDC-BL-05")
    b.add("/usr/share/pam-configs/pesdc-faillock-notify",
          "linux/roles/baseline/pam-faillock-notify.j2", "PESDC-BL-05")
    b.add("/etc/default/chrony", "linux/roles/baseline/chrony-default.j2", "PESDC-BL-11",
          notify=[b.svc["chrony"]])
    initd = {"name": "rsyslog", "description": "rsyslog (system and remote logging)",
             "daemon": "/usr/sbin/rsyslogd", "pidfile": "/run/rsyslogd.pid",
             "args": "-i /run/rsyslogd.pid"}
    b.add("/etc/rsyslog.conf", "linux/roles/baseline/rsyslog.conf.j2", "PESDC-BL-10",
          notify=["rsyslog"])
    b.add("/etc/init.d/rsyslog", "linux/roles/baseline/initd.j2", "PESDC-BL-10",
          {**b.ctx, "initd": initd}, mode="0755")


def _accounts(b: _Build) -> None:
    """The three administrators, the deploy account, the default accounts locked."""
    admins = b.ctx["mgmt"]["admins"]
    b.spec.users = [
        UserSpec(admins["system"], "system", control="PESDC-BL-02"),
        UserSpec(admins["audit"], "audit", groups=["adm"], control="PESDC-BL-02"),
        UserSpec(admins["security"], "security", control="PESDC-BL-02"),
        UserSpec(DEPLOY_USER, "deploy", control="PESDC-BL-01",
                 authorized_keys=list(b.deploy_pubkeys)),
    ]
    b.spec.locked_accounts = list(DEFAULT_ACCOUNTS)
    b.spec.directories.append({"path": "/var/log/sudo-io", "mode": "0700", "owner": "root",
                               "group": "root", "control": "PESDC-BL-02"})


def _baseline_services(b: _Build) -> None:
    svc = b.svc
    b.spec.services = [ServiceSpec(svc["ssh"], control="PESDC-BL-07"),
                       ServiceSpec("rsyslog", control="PESDC-BL-10"),
                       ServiceSpec(svc["cron"], control="PESDC-BL-13"),
                       ServiceSpec(svc["chrony"], control="PESDC-BL-11")]
    if not b.spec.lab:
        b.spec.services.append(ServiceSpec("auditd", control="PESDC-BL-09"))
    b.spec.disabled_services = list(UNNEEDED_SERVICES)


def _sysctls(b: _Build) -> None:
    """The sysctl file's values, split into the per-namespace ones and the global ones."""
    text = next((f.content for f in b.spec.files if f.path.endswith("90-pesdc.conf")), "")
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = (x.strip() for x in line.split("=", 1))
            values[k] = v
    net = {k: v for k, v in values.items() if k.startswith(NETNS_SYSCTL_PREFIXES)}
    b.pesdc["sysctl_net"] = net
    b.pesdc["sysctl_global"] = {k: v for k, v in values.items() if k not in net}


def _reachable_as(b: _Build) -> None:
    """What the host shows everyone: SSH, and where its logs and time come from."""
    b.listen("tcp/22")
    b.spec.log_servers = list(b.ctx["mgmt"]["syslog_servers"])
    b.spec.time_sources = list(b.ctx["mgmt"]["ntp_servers"])


# What the baseline derives (no file rendered), then the files it renders: two steps so
# that the audit takes the same facts without rendering files it does not read.
BASELINE_FACTS = (_packages, _accounts, _baseline_services, _reachable_as)
BASELINE_FILES = (_shared_files, _baseline_files, _sysctls)


# -- the roles -----------------------------------------------------------------------
def _logserver(b: _Build) -> None:
    b.spec.directories.append({"path": "/var/log/remote", "mode": "0750", "owner": "root",
                               "group": "adm" if b.osf == "debian" else "root",
                               "control": "PESDC-LOG-01"})
    b.listen("tcp/514", "udp/514")


def _timesource(b: _Build) -> None:
    b.listen("udp/123")


def _timesource_files(b: _Build) -> None:
    for f in b.spec.files:
        if f.template == "linux/server/chrony.conf.j2":
            f.control = "PESDC-NTP-01"  # the same file, serving the center's time


def _database(b: _Build) -> None:
    db = b.pesdc["database"]
    # The port provisioning configures (the database's own, from the topology);
    # PostgreSQL's default for a database server that serves no database.
    b.listen(f"tcp/{db['port'] if db else 5432}")
    if db is None:
        return
    keys = []
    opts = "restrict,command=\"/usr/local/sbin/pesdc-pg-dump\""
    if b.backup_pubkey:
        # The backup server's key runs the dump only, and only from the backup hosts
        # (none: no key, e.g. an off-site standby that no backup server of its center
        # dumps).
        frm = ",".join(db["backup_sources"])
        if frm:
            keys.append(f"{opts},from=\"{frm}\" {b.backup_pubkey}")
        # Another center's backup server (off-site, 8.1.4.9): its own center's key, from
        # its address only (a provisioning run: the key is generated once for that
        # center in the state directory, and that center's run installs its half).
        from pesdc.provision.secrets import generated_backup_keypair

        for far in db.get("offsite", []):
            pub = generated_backup_keypair(far["center"])[1]
            keys.append(f"{opts},from=\"{far['address']}\" {pub}")
    b.spec.users.append(UserSpec(BACKUP_USER, "backup", control="PESDC-DB-03",
                                 home="/var/lib/pesdc-backup", system=True,
                                 shell="/bin/sh", authorized_keys=keys))
    b.spec.services.append(ServiceSpec("postgresql", control="PESDC-DB-01"))


def _database_files(b: _Build) -> None:
    db = b.pesdc["database"]
    if db is None:
        return
    p = db["paths"]
    b.add(f"{p['conf_d']}/pesdc.conf", "linux/roles/database/postgresql-pesdc.conf.j2",
          "PESDC-DB-01", owner="postgres", group="postgres", notify=["postgresql"])
    b.add(f"{p['conf_dir']}/pg_hba.conf", "linux/roles/database/pg_hba.conf.j2",
          "PESDC-DB-01", mode="0640", owner="postgres", group="postgres",
          notify=["postgresql"])
    b.add("/usr/local/sbin/pesdc-pg-dump", "linux/roles/database/pg-dump.sh.j2",
          "PESDC-DB-03", mode="0755")
    b.add("/etc/sudoers.d/45-pesdc-backup", "linux/roles/database/sudoers-backup.j2",
          "PESDC-DB-03", mode="0440", validate="/usr/sbin/visudo -cf {path}")


def _backup(b: _Build) -> None:
    bk = b.pesdc["backup"]
    if bk is None:
        return
    b.spec.users.append(UserSpec(BACKUP_USER, "backup", control="PESDC-BAK-01",
                                 home=bk["home"], system=True, shell="/bin/sh"))
    b.spec.directories.append({"path": bk["dir"], "mode": "0750", "owner": BACKUP_USER,
                               "group": BACKUP_USER, "control": "PESDC-BAK-01"})
    if any(d.get("center") for d in bk["databases"]):
        # Verify reads an off-site copy back with pg_restore (it restores, table by table).
        client = "postgresql-client" if b.osf == "debian" else "postgresql"
        if client not in b.spec.packages:
            b.spec.packages.append(client)


def _backup_files(b: _Build) -> None:
    if b.pesdc["backup"] is None:
        return
    b.add("/usr/local/sbin/pesdc-backup-pull", "linux/roles/backup/backup-pull.sh.j2",
          "PESDC-BAK-01", mode="0755")
    b.add("/etc/cron.d/pesdc-backup", "linux/roles/backup/cron.j2", "PESDC-BAK-01")


NGINX_CONF_DIR = "/etc/nginx/conf.d"


def _site(b: _Build, app: dict[str, Any]) -> dict[str, Any]:
    """The nginx site of one application: its ports (TLS on the TLS ports), backend and
    certificate (Debian's snakeoil pair, else one the deploy makes)."""
    deb = b.osf == "debian"
    return {"system": app["system"], "backend_port": app["backend_port"],
            "title": app["title"],
            "listen": [{"port": p, "tls": p in TLS_PORTS} for p in app["ports"]],
            "cert": "/etc/ssl/certs/ssl-cert-snakeoil.pem" if deb
            else "/etc/pki/tls/certs/pesdc.crt",
            "key": "/etc/ssl/private/ssl-cert-snakeoil.key" if deb
            else "/etc/pki/tls/private/pesdc.key"}


def _site_control(b: _Build) -> str:
    """The control of the nginx sites (and so of nginx)."""
    return "PESDC-WEB-01" if "web" in b.roles else "PESDC-APP-01"


def _app_files(b: _Build, app: dict[str, Any]) -> None:
    """One application's files: its nginx site, then its backend or its static page."""
    c = {**b.ctx, "app": app, "site": app["site"]}
    name = app["system"]
    b.add(f"{NGINX_CONF_DIR}/pesdc-{name}.conf", "linux/roles/appserver/nginx-site.j2",
          _site_control(b), c, notify=["nginx"], validate="/usr/sbin/nginx -t -q")
    if app["backend_port"]:
        b.add(f"/opt/pesdc/apps/{name}/app.py", "linux/roles/appserver/app.py.j2",
              "PESDC-APP-01", c, mode="0755", notify=[f"pesdc-app-{name}"])
        b.add(f"/etc/init.d/pesdc-app-{name}", "linux/roles/appserver/app-init.j2",
              "PESDC-APP-01", c, mode="0755", notify=[f"pesdc-app-{name}"])
    else:
        b.add(f"/var/www/pesdc/{name}/index.html", "linux/roles/web/index.html.j2",
              "PESDC-WEB-01", c)


def _apps(b: _Build) -> None:
    """Application servers and web servers: nginx in front of each system they serve."""
    apps = b.pesdc["apps"]
    if not apps:
        return
    if b.osf == "debian":
        b.pesdc["nginx_remove"] = ["/etc/nginx/sites-enabled/default"]
    for app in apps:
        app["tls"] = any(p in TLS_PORTS for p in app["ports"])
        app["site"] = _site(b, app)
        b.listen(*(f"tcp/{p}" for p in app["ports"]))
    backends = [a["system"] for a in apps if a["backend_port"]]
    if backends:
        b.spec.users.append(UserSpec(APP_USER, "app", control="PESDC-APP-01",
                                     home="/nonexistent", system=True,
                                     shell="/usr/sbin/nologin"))
    b.spec.services.append(ServiceSpec("nginx", control=_site_control(b)))
    b.spec.services += [ServiceSpec(f"pesdc-app-{n}", control="PESDC-APP-01")
                        for n in backends]


def _apps_files(b: _Build) -> None:
    for app in b.pesdc["apps"]:
        _app_files(b, app)


def _bastion_files(b: _Build) -> None:
    b.add("/etc/ssh/ssh_config.d/pesdc-bastion.conf", "linux/roles/bastion/ssh_config.j2",
          "PESDC-BAS-01")
    b.add("/etc/profile.d/pesdc-session-log.sh", "linux/roles/bastion/session-log.sh.j2",
          "PESDC-BAS-01")


def _nothing(b: _Build) -> None:
    """A role with no facts of its own, or no files of its own."""


# Each builder runs when the server has its role (appserver and web share one), in
# this order: the order of the HostSpec's files, users and services. A role's facts
# (users, services, listeners...) and its files are two builders: the facts are built
# for every role first, then the files rendered (desired_facts builds the first only).
ROLE_BUILDERS: tuple[tuple[frozenset[str], Any, Any], ...] = (
    (frozenset({"logserver"}), _logserver, _nothing),
    (frozenset({"database"}), _database, _database_files),
    (frozenset({"backup"}), _backup, _backup_files),
    (frozenset({"appserver", "web"}), _apps, _apps_files),
    (frozenset({"bastion"}), _nothing, _bastion_files),
    (frozenset({"timesource"}), _timesource, _timesource_files),
)


def _controls(b: _Build) -> None:
    """All controls of the roles on; kernel-global ones recorded as not applicable in
    the lab (its hosts share the machine's kernel)."""
    for ctl in controls_for(b.roles):
        b.spec.controls[ctl.id] = True
        if b.spec.lab and not ctl.lab_safe:
            b.spec.not_applicable[ctl.id] = "kernel-global state: namespace lab host"


def _facts(topo: Topology, dc_name: str, server_name: str, lab: bool,
           deploy_pubkeys: list[str] | None, backup_pubkey: str | None,
           facts: CenterFacts | None, shared: bool = False) -> _Build:
    """The server's HostSpec with everything but its files (and the sysctl values read
    from them), and the context its files render from."""
    dc = topo.datacenters[dc_name]
    srv = _server(dc, server_name)
    if lab and srv.os is not OsFamily.debian:
        # The lab's hosts are Debian (its cached image): a RHEL-family server (openEuler,
        # Kylin) runs there as a Debian stand-in, as vendor gear runs as Linux stand-ins.
        # Its RHEL command paths are covered by the fixture tests of the deploys.
        srv = srv.model_copy(update={"os": OsFamily.debian})
    facts = facts or CenterFacts.of(topo, dc)
    ctx = host_context(facts, srv, lab, deploy_pubkeys, backup_pubkey, shared)
    spec = HostSpec(host=f"{srv.name}.{dc.name}", address=srv.address, os_family=srv.os.value,
                    roles=ctx["pesdc"]["roles"], lab=lab, data=ctx)
    b = _Build(spec, ctx, list(deploy_pubkeys or []), backup_pubkey)
    for step in BASELINE_FACTS:
        step(b)
    for roles, build, _files in ROLE_BUILDERS:
        if roles & set(spec.roles):
            build(b)
    _controls(b)
    return b


def _files(b: _Build, shared: bool = True) -> None:
    """Render the files of a HostSpec built by :func:`_facts`: the baseline's, then the
    roles' (in that order: the HostSpec's files keep it). Without ``shared``: all but
    the shared server files (and the sysctl values read from one of them)."""
    for step in BASELINE_FILES if shared else (_baseline_files,):
        step(b)
    for roles, _build, files in ROLE_BUILDERS:
        if roles & set(b.roles):
            files(b)


def desired_facts(topo: Topology, dc_name: str, server_name: str, lab: bool,
                  facts: CenterFacts | None = None, unshared_files: bool = False
                  ) -> HostSpec:
    """The HostSpec of one server without its files: what the host must show (roles,
    listeners, log servers, time sources, administrators and their duties, users,
    services, packages, controls), derived as :func:`desired_state` derives them (it
    builds this, then renders the files). For a caller that reads the expectations only
    (the audit): rendering the files costs most of a HostSpec.

    With ``unshared_files``, the files other than the shared server files are rendered
    too (they are then in the HostSpec): a caller that renders the shared ones itself
    (render.servers.render_server, the static audit's evidence) gets every template
    failure desired_state would raise, without rendering the shared files twice.

    The HostSpec's ``data`` (the template context) shares its center-wide values and
    the administrators' duties with the center's other servers, as render_server's
    contexts do: it is to be read, never edited (the audit reads the expectations)."""
    b = _facts(topo, dc_name, server_name, lab, None, None, facts, shared=True)
    if unshared_files:
        _files(b, shared=False)
    return b.spec


def desired_state(topo: Topology, dc_name: str, server_name: str, lab: bool,
                  deploy_pubkeys: list[str] | None = None,
                  backup_pubkey: str | None = None,
                  facts: CenterFacts | None = None) -> HostSpec:
    """The HostSpec of one server: the baseline, then its roles' builders (their facts,
    then their files)."""
    b = _facts(topo, dc_name, server_name, lab, deploy_pubkeys, backup_pubkey, facts)
    _files(b)
    return b.spec
