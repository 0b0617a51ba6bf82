"""Evidence for host and device rules.

- static: the rendered configuration (server files, device configurations);
- lab: the lab's hosts and Linux gear, over the lab's SSH config, from inside the lab's
  controller namespace (the caller re-executes there: network safety rule);
- live: a live center's hosts and Linux gear through its bastion (``--live PROFILE``:
  the connection profile's ssh_config, accounts and pinned host keys).

One SSH round trip per host: a POSIX shell script prints every file and command output
between markers; ``parse_sections`` splits it back into ``file:PATH`` / ``cmd:NAME``.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pesdc.audit.registry import AuditContext, DeviceEvidence, HostEvidence
from pesdc.i18n import N_
from pesdc.localized import LocalizedText as T
from pesdc.model.schema import Platform
from pesdc.progress import Progress, host_label, or_none
from pesdc.redact import redact

if TYPE_CHECKING:
    from pesdc.lab.plan import LabPlan

MARK = "=====PESDC "
COLLECT_HOST = T(N_("evidence collected"))
COLLECT_GEAR = T(N_("running configuration read"))
FILES = ("/etc/ssh/sshd_config /etc/security/pwquality.conf "
         "/etc/security/pwquality.conf.d/*.conf /etc/pam.d/common-password "
         "/etc/pam.d/common-auth /etc/pam.d/system-auth /etc/security/faillock.conf "
         "/etc/login.defs /etc/profile.d/*.sh /etc/sudoers /etc/sudoers.d/* "
         "/etc/audit/rules.d/*.rules /etc/rsyslog.conf /etc/rsyslog.d/*.conf "
         "/etc/chrony/chrony.conf /etc/chrony.conf /etc/sysctl.d/*.conf /etc/issue.net "
         "/etc/logrotate.d/pesdc-remote")
SYSCTLS = ("net.ipv4.conf.all.accept_redirects net.ipv4.conf.all.send_redirects "
           "net.ipv4.conf.all.accept_source_route net.ipv4.tcp_syncookies "
           "net.ipv4.conf.all.rp_filter net.ipv4.icmp_echo_ignore_broadcasts")


def collector_script(admins: Iterable[str]) -> str:
    users = " ".join(shlex.quote(u) for u in admins)
    return f"""export LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin
s() {{ printf '\\n{MARK}%s=====\\n' "$1"; }}
for f in {FILES}; do [ -f "$f" ] && {{ s "file:$f"; cat "$f"; }}; done
s "cmd:sshd -T"; sshd -T 2>&1
s "cmd:passwd -S -a"; passwd -S -a 2>&1
for u in {users}; do s "cmd:sudo -l -U $u"; sudo -n -l -U "$u" 2>&1; done
s "cmd:sudo-group"; getent group sudo wheel 2>&1
s "cmd:auditctl -l"; auditctl -l 2>&1
s "cmd:chronyc -n sources"; chronyc -n sources 2>&1
s "cmd:ss -H -tuln"; ss -H -tuln 2>&1
s "cmd:dpkg -l"; dpkg-query -W -f='${{Package}} ${{Status}}\\n' 2>/dev/null || \\
  rpm -qa --qf '%{{NAME}} install ok installed\\n' 2>/dev/null
s "cmd:sysctl"; sysctl {SYSCTLS} 2>&1
s "cmd:tmout"; grep -h TMOUT /etc/profile /etc/profile.d/*.sh /etc/bash.bashrc 2>/dev/null
s end
"""


def parse_sections(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    key = None
    buf: list[str] = []
    for line in text.splitlines():
        m = re.match(rf"^{MARK}(.*)=====$", line)
        if m:
            if key is not None:
                out[key] = "\n".join(buf).strip("\n")
            key, buf = m.group(1), []
        elif key is not None:
            buf.append(line)
    if key is not None and key != "end":
        out[key] = "\n".join(buf).strip("\n")
    out.pop("end", None)
    return out


def static_evidence(ctx: AuditContext) -> None:
    """Render the center's servers and devices: the evidence of --static."""
    from pesdc.model.diagnostics import Diagnostic
    from pesdc.render import render_device_files
    from pesdc.render.servers import render_server

    facts = ctx.center_facts  # the one the host specs are built from too
    d = ctx.dc.name
    for srv in ctx.dc.servers:
        try:
            files = render_server(facts, srv)
        except Exception as exc:  # a center the renderer cannot handle: one finding
            ctx.hosts[srv.name] = HostEvidence(f"{srv.name}.{d}", "rendered",
                                               error=f"render failed: {exc}")
            continue
        ctx.hosts[srv.name] = HostEvidence(f"{srv.name}.{d}", "rendered",
                                           {f"file:/{k}": v for k, v in files.items()})
        for k, v in files.items():
            ctx.rendered_all[f"servers/{d}/{srv.name}/{k}"] = v
    for dev in ctx.dc.devices:
        problems: list[Diagnostic] = []
        crashed = ""
        try:
            files = render_device_files(facts, dev.name, problems, ctx.device_contexts)
        except Exception as exc:  # no configuration: its rules are errors, not verdicts
            files, crashed = {}, f"render failed: {type(exc).__name__}: {exc}"
        ctx.rendered_devices[dev.name] = files
        for k, v in files.items():
            ctx.rendered_all[f"devices/{d}/{dev.name}/{k}"] = v
        ctx.devices[dev.name] = device_evidence(ctx, dev.name, files, "rendered")
        ctx.devices[dev.name].refused = [f"{x.rule}: {x.message}" for x in problems]
        ctx.devices[dev.name].error = crashed


def device_evidence(ctx: AuditContext, name: str, files: dict[str, str],
                    source: str) -> DeviceEvidence:
    from pesdc.model.schema import ServerRole
    from pesdc.platforms import kind_of

    dev = next(d for d in ctx.dc.devices if d.name == name)
    a = ctx.dc.security.admins
    return DeviceEvidence(
        f"{name}.{ctx.dc.name}", dev.kind.value, kind_of(dev).platform, files, source,
        ctx.mgmt_nets, [s.address for s in ctx.servers_with(ServerRole.logserver)],
        [s.address for s in ctx.servers_with(ServerRole.timesource)],
        {"system": a.system, "audit": a.audit, "security": a.security})


def _ssh(argv: list[str], script: str, timeout: float) -> tuple[int, str]:
    try:
        res = subprocess.run(argv, input=script, capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, f"timed out after {timeout:g} s"
    except OSError as exc:
        return 127, str(exc)
    return res.returncode, res.stdout + (res.stderr if res.returncode else "")


def collect_host(targets: list[list[str]], script: str, source: str, host: str,
                 timeout: float = 60) -> HostEvidence:
    """Try each ssh argv in turn (deploy account with sudo, then root)."""
    last = ""
    for argv in targets:
        rc, out = _ssh(argv, script, timeout)
        if MARK in out:
            return HostEvidence(host, source, parse_sections(out))
        last = out.strip()[-300:] or f"exit {rc}"
    # What ssh printed is quoted in the report as it is: redacted here, where it is taken
    # (the collected sections are judged as read; their quotes are masked as Evidence).
    return HostEvidence(host, source, error=f"could not collect: {redact(last)}")


GEAR_READ = {"firewall": ("nft list ruleset", "nftables.conf"),
             "router": ("show running-config", "frr.conf")}  # by the stand-in's role


def lab_evidence(ctx: AuditContext, lab: str, limit: list[str] | None = None,
                 workers: int = 8, plan: LabPlan | None = None,
                 progress: Progress | None = None) -> list[str]:
    """Collect from the lab's hosts and Linux gear (call from inside the controller
    namespace), the gear as the lab's plan runs it (``plan``, or the lab's plan of the
    center). Returns the hosts collected."""
    from pesdc.lab.enter import access
    from pesdc.lab.plan import build_plan
    from pesdc.provision.desired import DEPLOY_USER

    plan = plan or build_plan(ctx.topo, ctx.dc.name, lab)
    return _collect(ctx, access(lab).ssh_config, (DEPLOY_USER, "root"), "lab",
                    _gear_of(ctx, plan), limit, workers, {}, or_none(progress))


def live_evidence(ctx: AuditContext, target: Any, limit: list[str] | None = None,
                  workers: int = 8, progress: Progress | None = None) -> list[str]:
    """Collect from a live center's hosts and Linux gear through its bastion (``target``,
    a live :class:`pesdc.targets.target.Target`): its ssh_config, its server accounts in
    order (the deploy account with sudo: provisioned hosts refuse root), every key read
    through the bastion and compared with the pinned file first. A host whose key is
    unknown or changed is not logged in to: its evidence is an error with the message; a
    device's is the rendered files, marked (as for gear that cannot be read)."""
    plan = None
    if target.lab:  # a rehearsal: the lab's stand-ins run the lab plan's gear
        from pesdc.lab.plan import build_plan

        plan = build_plan(ctx.topo, ctx.dc.name, target.lab)
    gear = _gear_of(ctx, plan)
    servers = [s.name for s in ctx.dc.servers if not limit or s.name in limit]
    eps = [target.endpoints[n] for n in [*servers, *gear] if n in target.endpoints]
    bad = target.check_keys(eps)
    blocked = {target.endpoints[n].host: why for n, why in bad.items()}
    # A rehearsal's hosts are lab hosts (namespaces sharing one kernel, provisioned as
    # such): their evidence is judged as a lab host's (kernel audit rules cannot be
    # seen loaded there), though it came through the bastion.
    return _collect(ctx, target.ssh_config, tuple(target.server_users()),
                    "lab" if target.lab else "live", gear, limit, workers, blocked,
                    or_none(progress))


def _gear_of(ctx: AuditContext, plan: LabPlan | None) -> dict[str, tuple[str, str]]:
    """Linux device -> (its host NAME.CENTER, its role: firewall / router / other), as
    the lab's plan runs it, or (a live center) by its kind."""
    out = {}
    for dv in ctx.dc.devices:
        if dv.platform is not Platform.linux:
            continue
        if plan is not None and dv.name in plan.nodes:
            node = plan.nodes[dv.name]
            out[dv.name] = (node.host, node.role)
        else:
            out[dv.name] = (f"{dv.name}.{ctx.dc.name}", dv.kind.value)
    return out


def _collect(ctx: AuditContext, ssh_config: Path, users: tuple[str, ...], source: str,
             gear: dict[str, tuple[str, str]], limit: list[str] | None, workers: int,
             blocked: dict[str, str], say: Progress) -> list[str]:
    """Every server's evidence (one round trip: the collector script on stdin, the first
    account that answers) and every Linux device's running configuration, each told to
    ``say`` as it starts and ends."""
    cfg = str(ssh_config)
    d = ctx.dc.name
    a = ctx.dc.security.admins
    script = collector_script([a.system, a.audit, a.security])
    servers = [s for s in ctx.dc.servers if not limit or s.name in limit]

    def host(name: str) -> tuple[str, HostEvidence]:
        t = f"{name}.{d}"
        if t in blocked:
            ev = HostEvidence(t, source, error=f"not collected: {blocked[t]}")
            say.step(host_label(t), COLLECT_HOST, f"error: {ev.error}")
            return name, ev
        say.begin(host_label(t), COLLECT_HOST)
        ev = collect_host(
            [["ssh", "-F", cfg, f"{u}@{t}", "sh -s" if u == "root" else "sudo -n sh -s"]
             for u in users], script, source, t)
        say.step(host_label(t), COLLECT_HOST, f"error: {ev.error}" if ev.error else "ok")
        return name, ev

    def told_gear(name: str) -> tuple[str, dict[str, str], str]:
        label = host_label(gear[name][0])
        say.begin(label, COLLECT_GEAR)
        out = read_gear(name)
        say.step(label, COLLECT_GEAR, f"error: {out[2]}" if out[2] else
                 "ok" if out[1] else "skipped: nothing running that pesdc reads")
        return out

    def read_gear(name: str) -> tuple[str, dict[str, str], str]:
        """The running configuration of a Linux device, or why it could not be read."""
        t, role = gear[name]
        read = GEAR_READ.get(role)
        if read is None:
            return name, {}, ""  # a Linux switch: nothing running pesdc reads
        if t in blocked:
            return name, {}, f"{t} not connected to: {blocked[t]}"
        rc, out = _ssh(["ssh", "-F", cfg, t, read[0]], "", 30)
        if rc != 0 or not out.strip():
            why = f"`{read[0]}` on {t}: " + (redact(out.strip()[-200:]) or f"exit {rc}")
            return name, {}, why
        return name, {read[1]: out}, ""

    # --limit narrows the servers; the Linux gear (firewalls, routers) is always read.
    say.start(len(servers) + len(gear), T(N_("audit {center}: evidence of {servers} servers "
                                             "and {gear} Linux devices"), center=d,
                                          servers=len(servers), gear=len(gear)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for name, ev in pool.map(host, [s.name for s in servers]):
            ctx.hosts[name] = ev
        for name, files, why in pool.map(told_gear, list(gear)):
            if files:
                ctx.devices[name] = device_evidence(ctx, name, files, source)
            elif why and name in ctx.devices:
                # Judged on the rendered files, and every verdict says so.
                ctx.devices[name].fallback = why
    if limit:  # only the named hosts are judged on evidence
        for s in ctx.dc.servers:
            if s.name not in limit:
                ctx.hosts.pop(s.name, None)
    return [f"{s.name}.{d}" for s in servers]
