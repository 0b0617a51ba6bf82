"""Server configuration files, rendered once and installed by both engines.

The pyinfra deploys and the Ansible roles both install exactly these files (the roles
read the same templates from templates/linux/server/), so the two engines cannot drift.
Each entry names the GB/T 22239-2019 clause it serves, the pesdc control that installs
it, the services a change reloads and the check the host runs on it: the HostSpec
(provision/desired.py) takes its shared files from this one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pesdc.model.schema import Server
from pesdc.provision.duties import sudoers_context
from pesdc.render.context import CenterFacts, server_context
from pesdc.render.engine import render_template


@dataclass(frozen=True)
class ServerFile:
    template: str  # under templates/linux/server/
    dest: dict[str, str]  # os family -> absolute path on the host
    control: str  # the clause it implements, for the audit and the roles' tags
    implements: str  # the pesdc control (provision/controls.py) that installs it
    roles: frozenset[str] | None = None  # only on servers with one of these roles
    not_roles: frozenset[str] = frozenset()
    mode: str = "0644"
    notify: tuple[str, ...] = ()  # services reloaded on change (generic names: ssh, chrony)
    validate: str = ""  # the host's check of the new file ({path}: the file)

    def applies(self, roles: list[str]) -> bool:
        if self.not_roles & set(roles):
            return False
        return self.roles is None or bool(self.roles & set(roles))


def _both(path: str) -> dict[str, str]:
    return {"debian": path, "rhel": path}


SERVER_FILES: tuple[ServerFile, ...] = (
    ServerFile("sshd_config.j2", _both("/etc/ssh/sshd_config"), "8.1.4.1", "PESDC-BL-07",
               mode="0600", notify=("ssh",), validate="/usr/sbin/sshd -t"),
    ServerFile("issue.net.j2", _both("/etc/issue.net"), "8.1.4.1", "PESDC-BL-17"),
    ServerFile("pwquality.conf.j2", _both("/etc/security/pwquality.conf"), "8.1.4.1",
               "PESDC-BL-03"),
    ServerFile("login.defs.j2", _both("/etc/login.defs"), "8.1.4.1", "PESDC-BL-04"),
    ServerFile("faillock.conf.j2", _both("/etc/security/faillock.conf"), "8.1.4.1",
               "PESDC-BL-05"),
    ServerFile("tmout.sh.j2", _both("/etc/profile.d/pesdc-tmout.sh"), "8.1.4.1",
               "PESDC-BL-06"),
    ServerFile("sudoers-admins.j2", _both("/etc/sudoers.d/50-pesdc-admins"), "8.1.4.2",
               "PESDC-BL-02", mode="0440", validate="/usr/sbin/visudo -cf {path}"),
    ServerFile("audit.rules.j2", _both("/etc/audit/rules.d/50-pesdc.rules"), "8.1.4.3",
               "PESDC-BL-08", mode="0640"),
    ServerFile("rsyslog-forward.conf.j2", _both("/etc/rsyslog.d/50-pesdc-forward.conf"),
               "8.1.4.3", "PESDC-BL-10", not_roles=frozenset({"logserver"}),
               notify=("rsyslog",)),
    ServerFile("rsyslog-server.conf.j2", _both("/etc/rsyslog.d/10-pesdc-server.conf"),
               "8.1.4.3", "PESDC-LOG-01", roles=frozenset({"logserver"}),
               notify=("rsyslog",)),
    ServerFile("logrotate-remote.j2", _both("/etc/logrotate.d/pesdc-remote"), "8.1.4.3",
               "PESDC-LOG-02", roles=frozenset({"logserver"})),
    ServerFile("chrony.conf.j2", {"debian": "/etc/chrony/chrony.conf",
                                  "rhel": "/etc/chrony.conf"}, "8.1.4.3", "PESDC-BL-11",
               notify=("chrony",)),
    ServerFile("sysctl.conf.j2", _both("/etc/sysctl.d/90-pesdc.conf"), "8.1.4.4",
               "PESDC-BL-15"),
)


def server_files(ctx: dict[str, Any]) -> list[ServerFile]:
    return [f for f in SERVER_FILES if f.applies(ctx["server"]["roles"])]


def server_files_context(facts: CenterFacts, srv: Server) -> dict[str, Any]:
    """What the shared server files are rendered from: the server's context and the
    administrators' duties for its OS family (the sudoers file is written from them)."""
    ctx = server_context(facts, srv)
    ctx["admin_duties"] = sudoers_context(srv.os.value)
    return ctx


@cache
def _shared_duties(os_family: str) -> dict[str, Any]:
    """sudoers_context, made once per OS family for the renderer (which only reads it:
    it is plain data from the packaged duties file)."""
    return sudoers_context(os_family)


def shared_files_context(facts: CenterFacts, srv: Server) -> dict[str, Any]:
    """server_files_context's values, its center-wide values and the duties the same
    objects for every server of the center (for callers that only read them)."""
    ctx = server_context(facts, srv, shared=True)
    ctx["admin_duties"] = _shared_duties(srv.os.value)
    return ctx


def render_server(facts: CenterFacts, srv: Server) -> dict[str, str]:
    """Relative path (the absolute path on the host, without the leading /) -> text.
    The context is server_files_context's, its center-wide values shared by the
    center's servers (templates only read them)."""
    ctx = shared_files_context(facts, srv)
    out = {}
    for f in server_files(ctx):
        out[f.dest[srv.os.value].lstrip("/")] = render_template(
            f"linux/server/{f.template}", ctx)
    return out
