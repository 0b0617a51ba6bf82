"""The desired state of one server, computed from the topology (no host contact).

`desired_state()` returns a HostSpec: packages, files (each rendered from a shared
template under templates/linux/, so the Ansible roles render the same bytes from the
same context), users, services, locked accounts and disabled services, each tagged with
its control id. ``HostSpec.data`` is the plain template context (JSON-able) that the
Ansible export writes to host_vars. Secrets never appear here: the deploys add them at
apply time.
"""

from __future__ import annotations

from typing import Any

from pesdc.model.schema import DataCenter, OsFamily, Server
from pesdc.model.tree import Topology
from pesdc.provision.controls import controls_for
from pesdc.provision.spec import FileSpec, HostSpec, ServiceSpec, UserSpec
from pesdc.render.context import CenterFacts, server_context
from pesdc.render.engine import render_template
from pesdc.render.servers import server_files

DEPLOY_USER = "pesdc"
BACKUP_USER = "pesdc-backup"
APP_USER = "pesdc-app"
REPLICATION_USER = "replicator"
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

# Which control each shared server file implements (render/servers.py SERVER_FILES).
FILE_CONTROLS = {
    "sshd_config.j2": ("PESDC-BL-07", ["ssh"], "/usr/sbin/sshd -t"),
    "issue.net.j2": ("PESDC-BL-17", [], ""),
    "pwquality.conf.j2": ("PESDC-BL-03", [], ""),
    "login.defs.j2": ("PESDC-BL-04", [], ""),
    "faillock.conf.j2": ("PESDC-BL-05", [], ""),
    "tmout.sh.j2": ("PESDC-BL-06", [], ""),
    "sudoers-admins.j2": ("PESDC-BL-02", [], "/usr/sbin/visudo -cf {path}"),
    "audit.rules.j2": ("PESDC-BL-08", [], ""),
    "rsyslog-forward.conf.j2": ("PESDC-BL-10", ["rsyslog"], ""),
    "rsyslog-server.conf.j2": ("PESDC-LOG-01", ["rsyslog"], ""),
    "logrotate-remote.j2": ("PESDC-LOG-02", [], ""),
    "chrony.conf.j2": ("PESDC-BL-11", ["chrony"], ""),
    "sysctl.conf.j2": ("PESDC-BL-15", [], ""),
}


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
                                    "what": f"{d.name} {kind} {peer}"})
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
            out.append({"name": d.name, "host": src.name, "address": src.address})
    return {"dir": BACKUP_DIR, "home": BACKUP_DIR, "databases": out,
            "retention_days": 30, "minute": 30, "hour": 1}


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
                 backup_pubkey: str | None = None) -> dict[str, Any]:
    """The shared template context: server_context() plus the role values (``pesdc``)."""
    ctx = server_context(facts, srv)
    dc = facts.dc
    roles = [r.value for r in srv.roles]
    db = _database_ctx(dc, srv) if "database" in roles else None
    ctx["pesdc"] = {
        "lab": lab,
        "roles": roles,
        "deploy_user": DEPLOY_USER,
        "deploy_pubkeys": list(deploy_pubkeys or []),
        "backup_user": BACKUP_USER,
        "backup_pubkey": backup_pubkey,
        "database": db,
        "backup": _backup_ctx(dc, srv) if "backup" in roles else None,
        "apps": _apps_ctx(dc, srv) if {"appserver", "web"} & set(roles) else [],
        "netns_sysctl_prefixes": list(NETNS_SYSCTL_PREFIXES),
    }
    return ctx


def _sysctls(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = (x.strip() for x in line.split("=", 1))
            out[k] = v
    return out


def desired_state(topo: Topology, dc_name: str, server_name: str, lab: bool,
                  deploy_pubkeys: list[str] | None = None,
                  backup_pubkey: str | None = None,
                  facts: CenterFacts | None = None) -> HostSpec:
    dc = topo.datacenters[dc_name]
    srv = _server(dc, server_name)
    if lab and srv.os is not OsFamily.debian:
        # The lab's hosts are Debian (its cached image): a RHEL-family server (openEuler,
        # Kylin) runs there as a Debian stand-in, as vendor gear runs as Linux stand-ins.
        # Its RHEL command paths are covered by the fixture tests of the deploys.
        srv = srv.model_copy(update={"os": OsFamily.debian})
    facts = facts or CenterFacts.of(topo, dc)
    ctx = host_context(facts, srv, lab, deploy_pubkeys, backup_pubkey)
    osf = srv.os.value
    roles = ctx["pesdc"]["roles"]
    spec = HostSpec(host=f"{srv.name}.{dc.name}", address=srv.address, os_family=osf,
                    roles=roles, lab=lab, data=ctx)
    svc = SERVICE_NAMES[osf]

    def add(path: str, template: str, control: str, c: dict[str, Any] | None = None,
            mode: str = "0644", owner: str = "root", group: str = "root",
            notify: list[str] | None = None, validate: str = "") -> None:
        extra = {k: v for k, v in (c or {}).items() if k not in ctx or v is not ctx[k]}
        spec.files.append(FileSpec(
            path=path, content=render_template(template, c or ctx), template=template,
            mode=mode, owner=owner, group=group, control=control,
            notify=list(notify or []), validate=validate.format(path=path), context=extra))

    # -- packages --------------------------------------------------------------------
    pk = PACKAGES[osf]
    seen: list[str] = []
    for role in ["baseline", *roles]:
        for p in pk.get(role, []):
            if p not in seen:
                seen.append(p)
    spec.packages = seen

    # -- the shared server files (render_server's set) -------------------------------
    for f in server_files(ctx):
        control, notify, validate = FILE_CONTROLS[f.template]
        if f.template == "chrony.conf.j2" and "timesource" in roles:
            control = "PESDC-NTP-01"
        add(f.dest[osf], f"linux/server/{f.template}", control, mode=f.mode,
            notify=[svc.get(n, n) for n in notify], validate=validate)
    add("/etc/profile.d/pesdc-umask.sh", "linux/roles/baseline/umask.sh.j2", "PESDC-BL-14")
    add("/etc/sudoers.d/40-pesdc-deploy", "linux/roles/baseline/sudoers-deploy.j2",
        "PESDC-BL-01", mode="0440", validate="/usr/sbin/visudo -cf {path}")
    if osf == "debian":
        add("/usr/share/pam-configs/pesdc-faillock", "linux/roles/baseline/pam-faillock.j2",
            "PESDC-BL-05")
        add("/usr/share/pam-configs/pesdc-faillock-notify",
            "linux/roles/baseline/pam-faillock-notify.j2", "PESDC-BL-05")
        add("/etc/default/chrony", "linux/roles/baseline/chrony-default.j2", "PESDC-BL-11",
            notify=[svc["chrony"]])
        initd = {"name": "rsyslog", "description": "rsyslog (system and remote logging)",
                 "daemon": "/usr/sbin/rsyslogd", "pidfile": "/run/rsyslogd.pid",
                 "args": "-i /run/rsyslogd.pid"}
        add("/etc/rsyslog.conf", "linux/roles/baseline/rsyslog.conf.j2", "PESDC-BL-10",
            notify=["rsyslog"])
        add("/etc/init.d/rsyslog", "linux/roles/baseline/initd.j2", "PESDC-BL-10",
            {**ctx, "initd": initd}, mode="0755")

    # -- users -----------------------------------------------------------------------
    admins = dc.security.admins
    spec.users = [
        UserSpec(admins.system, "system", control="PESDC-BL-02"),
        UserSpec(admins.audit, "audit", groups=["adm"], control="PESDC-BL-02"),
        UserSpec(admins.security, "security", control="PESDC-BL-02"),
        UserSpec(DEPLOY_USER, "deploy", control="PESDC-BL-01",
                 authorized_keys=list(deploy_pubkeys or [])),
    ]

    # -- services --------------------------------------------------------------------
    spec.services = [ServiceSpec(svc["ssh"], control="PESDC-BL-07"),
                     ServiceSpec("rsyslog", control="PESDC-BL-10"),
                     ServiceSpec(svc["cron"], control="PESDC-BL-13"),
                     ServiceSpec(svc["chrony"], control="PESDC-BL-11")]
    if not lab:
        spec.services.append(ServiceSpec("auditd", control="PESDC-BL-09"))
    spec.locked_accounts = list(DEFAULT_ACCOUNTS)
    spec.disabled_services = list(UNNEEDED_SERVICES)
    spec.directories.append({"path": "/var/log/sudo-io", "mode": "0700", "owner": "root",
                             "group": "root", "control": "PESDC-BL-02"})

    # -- sysctls ---------------------------------------------------------------------
    sysctl_text = next((f.content for f in spec.files if f.path.endswith("90-pesdc.conf")), "")
    values = _sysctls(sysctl_text)
    net = {k: v for k, v in values.items() if k.startswith(NETNS_SYSCTL_PREFIXES)}
    glob = {k: v for k, v in values.items() if k not in net}
    spec.data["pesdc"]["sysctl_net"] = net
    spec.data["pesdc"]["sysctl_global"] = glob

    # -- roles -----------------------------------------------------------------------
    if "logserver" in roles:
        spec.directories.append({"path": "/var/log/remote", "mode": "0750", "owner": "root",
                                 "group": "adm" if osf == "debian" else "root",
                                 "control": "PESDC-LOG-01"})
    db = ctx["pesdc"]["database"]
    if db is not None:
        p = db["paths"]
        add(f"{p['conf_d']}/pesdc.conf", "linux/roles/database/postgresql-pesdc.conf.j2",
            "PESDC-DB-01", owner="postgres", group="postgres", notify=["postgresql"])
        add(f"{p['conf_dir']}/pg_hba.conf", "linux/roles/database/pg_hba.conf.j2",
            "PESDC-DB-01", mode="0640", owner="postgres", group="postgres",
            notify=["postgresql"])
        add("/usr/local/sbin/pesdc-pg-dump", "linux/roles/database/pg-dump.sh.j2",
            "PESDC-DB-03", mode="0755")
        add("/etc/sudoers.d/45-pesdc-backup", "linux/roles/database/sudoers-backup.j2",
            "PESDC-DB-03", mode="0440", validate="/usr/sbin/visudo -cf {path}")
        keys = []
        if backup_pubkey:
            frm = ",".join(db["backup_sources"])
            opts = "restrict,command=\"/usr/local/sbin/pesdc-pg-dump\""
            keys.append(f"{opts},from=\"{frm}\" {backup_pubkey}" if frm else
                        f"{opts} {backup_pubkey}")
        spec.users.append(UserSpec(BACKUP_USER, "backup", control="PESDC-DB-03",
                                   home="/var/lib/pesdc-backup", system=True,
                                   shell="/bin/sh", authorized_keys=keys))
        spec.services.append(ServiceSpec("postgresql", control="PESDC-DB-01"))
    bk = ctx["pesdc"]["backup"]
    if bk is not None:
        spec.users.append(UserSpec(BACKUP_USER, "backup", control="PESDC-BAK-01",
                                   home=bk["home"], system=True, shell="/bin/sh"))
        spec.directories.append({"path": bk["dir"], "mode": "0750", "owner": BACKUP_USER,
                                 "group": BACKUP_USER, "control": "PESDC-BAK-01"})
        add("/usr/local/sbin/pesdc-backup-pull", "linux/roles/backup/backup-pull.sh.j2",
            "PESDC-BAK-01", mode="0755")
        add("/etc/cron.d/pesdc-backup", "linux/roles/backup/cron.j2", "PESDC-BAK-01")
    apps = ctx["pesdc"]["apps"]
    if apps:
        if osf == "debian":
            spec.data["pesdc"]["nginx_remove"] = ["/etc/nginx/sites-enabled/default"]
        conf_dir = "/etc/nginx/conf.d"
        for app in apps:
            tls = any(p in TLS_PORTS for p in app["ports"])
            site: dict[str, Any] = {"system": app["system"], "backend_port": app["backend_port"],
                    "title": app["title"],
                    "listen": [{"port": p, "tls": p in TLS_PORTS} for p in app["ports"]],
                    "cert": "/etc/ssl/certs/ssl-cert-snakeoil.pem" if osf == "debian"
                    else "/etc/pki/tls/certs/pesdc.crt",
                    "key": "/etc/ssl/private/ssl-cert-snakeoil.key" if osf == "debian"
                    else "/etc/pki/tls/private/pesdc.key"}
            app["tls"] = tls
            app["site"] = site
            c = {**ctx, "app": app, "site": site}
            control = "PESDC-WEB-01" if "web" in roles else "PESDC-APP-01"
            add(f"{conf_dir}/pesdc-{app['system']}.conf", "linux/roles/appserver/nginx-site.j2",
                control, c, notify=["nginx"], validate="/usr/sbin/nginx -t -q")
            if app["backend_port"]:
                add(f"/opt/pesdc/apps/{app['system']}/app.py",
                    "linux/roles/appserver/app.py.j2", "PESDC-APP-01", c, mode="0755",
                    notify=[f"pesdc-app-{app['system']}"])
                add(f"/etc/init.d/pesdc-app-{app['system']}",
                    "linux/roles/appserver/app-init.j2", "PESDC-APP-01", c, mode="0755",
                    notify=[f"pesdc-app-{app['system']}"])
            else:
                add(f"/var/www/pesdc/{app['system']}/index.html",
                    "linux/roles/web/index.html.j2", "PESDC-WEB-01", c)
        if any(a["backend_port"] for a in apps):
            spec.users.append(UserSpec(APP_USER, "app", control="PESDC-APP-01",
                                       home="/nonexistent", system=True,
                                       shell="/usr/sbin/nologin"))
        spec.services.append(ServiceSpec("nginx", control=next(
            f.control for f in spec.files if f.path.startswith(conf_dir))))
        for app in apps:
            if app["backend_port"]:
                spec.services.append(ServiceSpec(f"pesdc-app-{app['system']}",
                                                 control="PESDC-APP-01"))
    if "bastion" in roles:
        add("/etc/ssh/ssh_config.d/pesdc-bastion.conf", "linux/roles/bastion/ssh_config.j2",
            "PESDC-BAS-01")
        add("/etc/profile.d/pesdc-session-log.sh", "linux/roles/bastion/session-log.sh.j2",
            "PESDC-BAS-01")

    # -- controls: all on, kernel-global ones recorded as not applicable in the lab ---
    for ctl in controls_for(roles):
        spec.controls[ctl.id] = True
        if lab and not ctl.lab_safe:
            spec.not_applicable[ctl.id] = "kernel-global state: namespace lab host"
    return spec

