"""Audit checks on network gear configurations (kinds: rendered, device).

``rendered`` rules read the rendered configuration of every platform (vendor gear is
never run here); ``device`` rules read the configuration of Linux gear as it runs in
the lab (``nft list ruleset``) when evidence was collected, the rendered one otherwise.
"""

from __future__ import annotations

import re
from typing import Any

from pesdc.audit.registry import (
    AuditContext,
    DeviceEvidence,
    bad,
    check,
    device_check,
    na,
    ok,
    part,
)
from pesdc.audit.result import Evidence, Outcome

VENDOR = ("huawei_vrp", "huawei_usg", "h3c_comware", "cisco_ios")
FILTERS = ("firewall", "gatekeeper")


def _has(text: str, pattern: str) -> bool:
    return re.search(pattern, text, re.MULTILINE | re.IGNORECASE) is not None


def _excerpt(text: str, patterns: list[str], limit: int = 40) -> str:
    """The lines matching any pattern (one compiled pass over the text)."""
    alt = "|".join(f"(?:{p.lstrip('^')})" for p in patterns)
    lines = re.findall(rf"^.*(?:{alt}).*$", text, re.MULTILINE | re.IGNORECASE)
    return "\n".join(lines[:limit])


def _vendor_devices(ctx: AuditContext) -> list[DeviceEvidence]:
    return [ev for ev in (ctx.devices.get(d.name) for d in ctx.dc.devices) if ev is not None]


def _per_vendor(ctx: AuditContext, what: str, judge: Any,
                patterns: list[str]) -> list[Outcome]:
    out: list[Outcome] = []
    for ev in _vendor_devices(ctx):
        if ev.platform not in VENDOR:
            out.append(na(ev.name, f"Linux gear: {what} is the host's (sshd, rsyslog, "
                          "chrony), not a rendered device setting"))
            continue
        text = ev.text
        status, message = judge(ev, text)
        proof = Evidence(f"{ev.source} configuration ({ev.platform})",
                         _excerpt(text, patterns) or "(no matching line)", ev.source)
        out.append(Outcome(ev.name, status, message, [proof]))
    return out


SSH_PATTERNS = {
    "huawei_vrp": (r"^undo telnet server enable", r"^undo http server enable",
                   r"^stelnet server enable"),
    "huawei_usg": (r"^undo telnet server enable", r"^undo web-manager enable",
                   r"^stelnet server enable"),
    "h3c_comware": (r"^undo telnet server enable", r"^undo ip http enable",
                    r"^ssh server enable"),
    "cisco_ios": (r"^no ip http server", r"^no ip http server", r"^ip ssh version 2"),
}


@check("AUD-MC-10")
def ssh_only(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    from pesdc.audit.result import Status

    def judge(ev: DeviceEvidence, text: str) -> tuple[Status, str]:
        telnet, http, ssh = SSH_PATTERNS[ev.platform]
        problems = []
        if not _has(text, telnet):
            problems.append("telnet not disabled")
        if not _has(text, http):
            problems.append("HTTP management not disabled")
        if not _has(text, ssh):
            problems.append("SSH v2 not enabled")
        if ev.platform == "cisco_ios" and _has(text, r"^\s*transport input (?!ssh\s*$)"):
            problems.append("a vty accepts more than SSH")
        if ev.platform != "cisco_ios" and _has(text, r"^\s*protocol inbound (all|telnet)"):
            problems.append("a vty accepts telnet")
        return ((Status.failed, "; ".join(problems)) if problems else
                (Status.passed, "SSH v2 only; telnet and HTTP off"))

    return _per_vendor(ctx, "remote management", judge,
                       [r"telnet", r"http", r"ssh", r"transport input", r"protocol inbound",
                        r"web-manager"])


def _addr_line(text: str, platform: str, kind: str) -> list[str]:
    pats = {
        "log": {"cisco_ios": r"^logging host (\S+)",
                "_": r"^info-center loghost (\d+\.\d+\.\d+\.\d+)"},
        "ntp": {"cisco_ios": r"^ntp server (\S+)",
                "_": r"^ntp-service unicast-server (\S+)"},
    }[kind]
    pat = pats.get(platform, pats["_"])
    return re.findall(pat, text, re.MULTILINE)


@check("AUD-MC-11")
def device_syslog(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    from pesdc.audit.result import Status

    def judge(ev: DeviceEvidence, text: str) -> tuple[Status, str]:
        hosts = _addr_line(text, ev.platform, "log")
        good = [h for h in hosts if h in ev.log_servers]
        if good:
            return Status.passed, f"logs to {', '.join(good)}"
        if hosts:
            return Status.failed, f"logs to {', '.join(hosts)}, not the center's log server"
        return Status.failed, "no syslog host"

    return _per_vendor(ctx, "logging", judge, [r"loghost", r"^logging"])


@check("AUD-MC-12")
def device_ntp(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    from pesdc.audit.result import Status

    def judge(ev: DeviceEvidence, text: str) -> tuple[Status, str]:
        hosts = _addr_line(text, ev.platform, "ntp")
        good = [h for h in hosts if h in ev.time_sources]
        if good:
            return Status.passed, f"time from {', '.join(good)}"
        if hosts:
            return Status.failed, f"time from {', '.join(hosts)}, not the center's source"
        return Status.failed, "no NTP server"

    return _per_vendor(ctx, "time", judge, [r"ntp"])


@check("AUD-MC-13")
def device_admins(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    from pesdc.audit.result import Status

    def judge(ev: DeviceEvidence, text: str) -> tuple[Status, str]:
        missing = [n for n in ev.admins.values() if not _has(
            text, rf"^\s*(local-user|manager-user|username)\s+{re.escape(n)}\b")]
        if missing:
            return Status.failed, f"no account for {', '.join(missing)}"
        return Status.passed, "system, audit and security administrators separate"

    return _per_vendor(ctx, "administrator accounts", judge,
                       [r"local-user", r"manager-user", r"^username", r"role"])


LOCK = {"huawei_vrp": r"retry-time (\d+)", "huawei_usg": r"failed-count (\d+)",
        "h3c_comware": r"login-attempt (\d+)", "cisco_ios": r"login block-for \d+ attempts (\d+)"}
IDLE = {"cisco_ios": r"exec-timeout (\d+)", "_": r"idle-timeout (\d+)"}


@check("AUD-MC-14")
def device_lockout(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    from pesdc.audit.result import Status

    attempts = int(p.get("login_fail_attempts", 5))
    idle = int(p.get("idle_timeout_minutes", 10))

    def judge(ev: DeviceEvidence, text: str) -> tuple[Status, str]:
        locks = [int(x) for x in re.findall(LOCK[ev.platform], text)]
        idles = [int(x) for x in re.findall(IDLE.get(ev.platform, IDLE["_"]), text)]
        problems = []
        if not locks or max(locks) > attempts:
            problems.append(f"lockout after {max(locks) if locks else 'unlimited'} failures "
                            f"(at most {attempts})")
        if not idles or max(idles) > idle or min(idles) == 0:
            problems.append(f"idle timeout {idles or 'none'} min (at most {idle})")
        if not problems:
            return Status.passed, f"lockout after {max(locks)}, idle timeout {max(idles)} min"
        ok_parts = 2 - len(problems)
        return (Status.partial if ok_parts else Status.failed), "; ".join(problems)

    return _per_vendor(ctx, "login lockout", judge,
                       [r"retry-time", r"failed-count", r"login-attempt", r"block-for",
                        r"idle-timeout", r"exec-timeout"])


@check("AUD-MC-15")
def device_snmp(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    from pesdc.audit.result import Status

    def judge(ev: DeviceEvidence, text: str) -> tuple[Status, str]:
        if _has(text, r"^\s*snmp-(agent|server) community"):
            return Status.failed, "an SNMP community (v1/v2c) is configured"
        if not _has(text, r"snmp"):
            return Status.passed, "SNMP off"
        if _has(text, r"(v3 .*privacy|v3 priv|privacy-mode)"):
            return Status.passed, "SNMPv3 with authentication and privacy"
        return Status.failed, "SNMP without v3 privacy"

    return _per_vendor(ctx, "SNMP", judge, [r"snmp"])


SECRET = re.compile(
    r"(?<![-\w])(?:password|secret|pre-shared-key|psk)[ \t]+"
    r"(?:(?:cipher|simple|irreversible-cipher|[0-9])[ \t]+)?(\S+)|"
    r"snmp-(?:agent|server) community[ \t]+(?:\S+[ \t]+)?(\S+)",
    re.IGNORECASE)
SECRET_OK = re.compile(r"^(policy|min-length|%%PESDC_SECRET|authentication|yes|no|"
                       r"tries|expire|control|complexity|aging|history|alert|\*|cipher|"
                       r"simple|irreversible-cipher|[a-z_]+=)", re.IGNORECASE)


def secrets_in(text: str) -> list[str]:
    """Lines that carry a literal password or key instead of a secret marker."""
    hits: list[str] = []
    low = text.lower()
    if not any(w in low for w in ("password", "secret", "psk", "pre-shared", "community")):
        return hits
    for line in text.splitlines():
        if line.lstrip().startswith(("#", "!")):
            continue
        for m in SECRET.finditer(line):
            value = m.group(1) or m.group(2) or ""
            if not value or SECRET_OK.match(value) or value.isdigit():
                continue
            hits.append(line.strip().replace(value, "****"))
    return hits


@check("AUD-CE-25")
def no_literal_secrets(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    out = []
    by_target: dict[str, list[str]] = {}
    for rel, text in ctx.rendered_all.items():
        parts = rel.split("/")
        if parts[0] in ("devices", "servers") and len(parts) > 2:
            target = f"{parts[2]}.{parts[1]}"
        else:
            target = parts[0]
        by_target.setdefault(target, [])
        by_target[target] += [f"{rel}: {h}" for h in secrets_in(text)]
    for target, hits in sorted(by_target.items()):
        out.append(bad(target, f"{len(hits)} literal secret(s)",
                       Evidence("rendered files", "\n".join(hits[:20]), "rendered"))
                   if hits else ok(target, "secrets are markers only"))
    return out


# -- device rules: rendered config, or the running config of Linux gear ----------------

def _nft_chain(text: str, chain: str) -> str:
    m = re.search(rf"chain {chain} \{{(.*?)\n\s*\}}", text, re.DOTALL)
    return m.group(1) if m else ""


@device_check("AUD-AB-10")
def default_deny(ev: DeviceEvidence, p: dict[str, Any]) -> Outcome | None:
    if ev.kind not in FILTERS:
        return None
    text = ev.text
    if ev.platform == "linux":
        fwd = _nft_chain(text, "forward")
        proof = [Evidence(f"{ev.source} nftables forward chain", fwd[:3000] or text[:2000],
                          ev.source)]
        if re.search(r"policy drop;", fwd):
            return ok(ev.name, "forward chain policy drop: everything not allowed is dropped",
                      *proof)
        return bad(ev.name, "forward chain does not drop by default", *proof)
    pat = {"huawei_usg": r"rule name pesdc-default-deny\s*\n(\s+description.*\n)?\s+action deny",
           "h3c_comware": r"name pesdc-default-deny\s*\n(\s+description.*\n)?\s+action drop",
           "cisco_ios": r"class class-default\s*\n\s+drop",
           }.get(ev.platform)
    proof = [Evidence(f"{ev.source} configuration", _excerpt(text, [
        r"default-deny", r"action (deny|drop)", r"class-default", r"^\s+drop"]), ev.source)]
    if pat is None:
        return na(ev.name, f"{ev.platform} does not filter between zones")
    if re.search(pat, text):
        return ok(ev.name, "a final deny rule drops everything not allowed", *proof)
    return bad(ev.name, "no final deny rule", *proof)


@device_check("AUD-AB-11")
def stateful(ev: DeviceEvidence, p: dict[str, Any]) -> Outcome | None:
    if ev.kind not in FILTERS:
        return None
    if ev.platform == "linux":
        fwd = _nft_chain(ev.text, "forward")
        proof = Evidence(f"{ev.source} nftables forward chain", fwd[:3000], ev.source)
        est = re.search(r"ct state established,related accept", fwd)
        inv = re.search(r"ct state invalid drop", fwd)
        if est and inv:
            return ok(ev.name, "connection tracking: replies accepted, invalid dropped", proof)
        if est:
            return part(ev.name, "replies accepted by state, invalid packets not dropped", proof)
        return bad(ev.name, "no connection-state rules", proof)
    if ev.platform in ("huawei_usg", "h3c_comware"):
        return ok(ev.name, f"{ev.platform} security policies are stateful (session table)")
    if ev.platform == "cisco_ios":
        if _has(ev.text, r"policy-map type inspect"):
            return ok(ev.name, "zone-based firewall with inspect (stateful)")
        return bad(ev.name, "no inspect policy")
    return na(ev.name, f"{ev.platform} does not filter between zones")


@device_check("AUD-AB-12")
def mgmt_access(ev: DeviceEvidence, p: dict[str, Any]) -> Outcome | None:
    text = ev.text
    if ev.platform == "linux":
        if ev.kind not in FILTERS:
            return None  # FRR routers and bridge switches: reached through the host
        inp = _nft_chain(text, "input")
        proof = Evidence(f"{ev.source} nftables input chain", inp[:3000], ev.source)
        if not re.search(r"policy drop;", inp):
            return bad(ev.name, "input chain accepts by default", proof)
        ssh = [ln.strip() for ln in inp.splitlines() if "dport 22" in ln]
        if ssh and all("saddr @mgmt_nets" in ln or any(n.split("/")[0] in ln
                                                        for n in ev.mgmt_nets)
                       for ln in ssh):
            return ok(ev.name, "SSH accepted only from the management networks", proof)
        return bad(ev.name, "SSH not limited to the management networks", proof)
    acl = {"cisco_ios": r"access-class \S+ in", "h3c_comware": r"ssh server acl \d+",
           "huawei_vrp": r"acl \d+ inbound", "huawei_usg": r"acl \d+ inbound"}.get(ev.platform)
    if acl is None:
        return None
    proof = Evidence(f"{ev.source} configuration", _excerpt(text, [
        r"acl", r"access-class", r"permit (source|\d)", r"ip access-list"]), ev.source)
    nets_ok = any(n.split("/")[0] in text for n in ev.mgmt_nets)
    if _has(text, acl) and nets_ok:
        return ok(ev.name, "management ACL limited to the management networks", proof)
    if _has(text, acl):
        return part(ev.name, "a management ACL, but not naming the management networks", proof)
    return bad(ev.name, "no ACL on the management lines", proof)
