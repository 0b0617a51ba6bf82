"""Audit checks on servers (kind: host).

Each function reads one server's evidence: ``file:/path`` contents (rendered files in
--static; the host's own files in --lab/--live) and ``cmd:NAME`` command output (only
from a running host: ``sshd -T``, ``sudo -l -U``, ``passwd -S -a``, ``ss``, ``dpkg``,
``sysctl``, ``chronyc sources``, ``auditctl -l``, the PAM stack). The same function runs
on recorded evidence in the tests.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pesdc.audit.registry import (
    HostEvidence,
    HostFacts,
    bad,
    host_check,
    in_nets,
    manual,
    na,
    ok,
    part,
)
from pesdc.audit.result import Evidence, Outcome

SSHD_CONFIG = "file:/etc/ssh/sshd_config"
PAM_PASSWORD = ("file:/etc/pam.d/common-password", "file:/etc/pam.d/system-auth")
PAM_AUTH = ("file:/etc/pam.d/common-auth", "file:/etc/pam.d/system-auth")
DEFAULT_ACCOUNTS = ("sync", "games", "news", "uucp", "proxy", "www-data", "list", "irc",
                    "gnats", "lp", "mail", "man", "nobody", "adm", "operator", "ftp",
                    "halt", "shutdown")
DEPLOY_ACCOUNTS = ("pesdc",)  # the key-only automation account (PESDC-BL-01)


def kv(text: str, sep: str = r"\s*=\s*|\s+") -> dict[str, list[str]]:
    """key -> values in file order (keys lower-cased); comments dropped."""
    return {k: list(v) for k, v in _kv(text, sep).items()}


@lru_cache(maxsize=512)
def _kv(text: str, sep: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = re.split(sep, line, maxsplit=1)
        key = parts[0].lower()
        out.setdefault(key, []).append(parts[1].strip() if len(parts) > 1 else "")
    return {k: tuple(v) for k, v in out.items()}


def sshd(ev: HostEvidence) -> tuple[dict[str, list[str]], Evidence] | None:
    """Effective sshd settings: ``sshd -T`` when collected, else the config file
    (first value wins, as sshd reads it)."""
    if ev.get("cmd:sshd -T"):
        return kv(ev.data["cmd:sshd -T"], r"\s+"), ev.ev("cmd:sshd -T")
    if ev.get(SSHD_CONFIG):
        return kv(ev.data[SSHD_CONFIG], r"\s+"), ev.ev(SSHD_CONFIG)
    return None


def first(d: dict[str, list[str]], key: str, default: str = "") -> str:
    vals = d.get(key)
    return vals[0] if vals else default


def _int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(str(value).strip().split()[0])
    except (ValueError, IndexError, AttributeError):
        return default


def _pam(ev: HostEvidence, keys: tuple[str, ...]) -> tuple[str, str] | None:
    for k in keys:
        if ev.get(k) is not None:
            return k, ev.data[k]
    return None


def _no_evidence(ev: HostEvidence, what: str) -> Outcome:
    if ev.source == "rendered":
        return manual(ev.host, f"{what}: needs a running host (--lab or --live)")
    return bad(ev.host, f"{what}: not found on the host")


@host_check("AUD-CE-01")
def password_quality(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.files("/etc/security/pwquality.conf")
    if text is None:
        return _no_evidence(ev, "pwquality.conf")
    conf = kv(text)
    minlen = _int(first(conf, "minlen", "0"), 0) or 0
    classes = _int(first(conf, "minclass", "0"), 0) or 0
    credits = sum(1 for k in ("dcredit", "ucredit", "lcredit", "ocredit")
                  if (_int(first(conf, k, "0"), 0) or 0) < 0)
    classes = max(classes, credits)
    need_len, need_cls = int(p.get("password_min_length", 12)), int(p.get(
        "password_min_classes", 3))
    problems = []
    if minlen < need_len:
        problems.append(f"minlen {minlen} < {need_len}")
    if classes < need_cls:
        problems.append(f"{classes} character classes < {need_cls}")
    proof = [ev.ev("file:/etc/security/pwquality.conf")]
    pam = _pam(ev, PAM_PASSWORD)
    if pam is not None:
        proof.append(ev.ev(pam[0]))
        if not re.search(r"^\s*password\s+\S+\s+pam_pwquality\.so", pam[1], re.MULTILINE):
            problems.append("pam_pwquality is not in the PAM password stack")
    if problems:
        return bad(ev.host, "; ".join(problems), *proof)
    return ok(ev.host, f"minlen {minlen}, {classes} classes", *proof)


@host_check("AUD-CE-02")
def password_age(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.get("file:/etc/login.defs")
    if text is None:
        return _no_evidence(ev, "login.defs")
    days = _int(first(kv(text), "pass_max_days", "99999"), 99999) or 99999
    need = int(p.get("password_max_days", 90))
    proof = Evidence("file /etc/login.defs", "\n".join(
        ln for ln in text.splitlines() if ln.startswith("PASS_")), ev.source)
    return (ok(ev.host, f"PASS_MAX_DAYS {days} (at most {need})", proof) if days <= need
            else bad(ev.host, f"PASS_MAX_DAYS {days} > {need}", proof))


@host_check("AUD-CE-03")
def lockout(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.get("file:/etc/security/faillock.conf")
    if text is None:
        return _no_evidence(ev, "faillock.conf")
    conf = kv(text)
    deny = _int(first(conf, "deny", "3"), 3) or 0
    unlock = _int(first(conf, "unlock_time", "600"), 600)
    need, minutes = int(p.get("login_fail_attempts", 5)), int(p.get("lockout_minutes", 15))
    problems = []
    if deny == 0 or deny > need:
        problems.append(f"deny = {deny} (1 to {need})")
    if unlock is not None and unlock != 0 and unlock < minutes * 60:
        problems.append(f"unlock_time {unlock} s < {minutes * 60} s")
    proof = [ev.ev("file:/etc/security/faillock.conf")]
    pam = _pam(ev, PAM_AUTH)
    if pam is not None:
        proof.append(ev.ev(pam[0]))
        if "pam_faillock.so" not in pam[1]:
            problems.append("pam_faillock is not in the PAM auth stack")
    if problems:
        return bad(ev.host, "; ".join(problems), *proof)
    return ok(ev.host, f"locked after {deny} failures for {unlock} s", *proof)


@host_check("AUD-CE-04")
def idle_timeout(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    limit = int(p.get("idle_timeout_minutes", 10)) * 60
    proof = []
    shell_ok = False
    tm_text = ev.get("cmd:tmout") or ev.files("/etc/profile.d/")
    if tm_text is not None:
        vals = [int(x) for x in re.findall(r"\bTMOUT=(\d+)", tm_text)]
        shell_ok = bool(vals) and min(vals) > 0 and max(vals) <= limit
        proof.append(Evidence("TMOUT", "\n".join(ln for ln in tm_text.splitlines()
                                                 if "TMOUT" in ln)[:1000], ev.source))
    s = sshd(ev)
    ssh_ok = False
    if s is not None:
        conf, sproof = s
        interval = _int(first(conf, "clientaliveinterval", "0"), 0) or 0
        count = _int(first(conf, "clientalivecountmax", "3"), 3) or 0
        ssh_ok = interval > 0 and interval * max(count, 1) <= limit
        proof.append(Evidence(sproof.label, f"clientaliveinterval {interval}\n"
                              f"clientalivecountmax {count}", ev.source))
    if tm_text is None and s is None:
        return _no_evidence(ev, "TMOUT and sshd configuration")
    if shell_ok and ssh_ok:
        return ok(ev.host, f"idle sessions end within {limit // 60} min (shell and SSH)",
                  *proof)
    if shell_ok or ssh_ok:
        return part(ev.host, f"only the {'shell' if shell_ok else 'SSH'} idle timeout is set",
                    *proof)
    return bad(ev.host, "no idle timeout", *proof)


WEAK_CIPHER = re.compile(r"(cbc|arcfour|3des|blowfish|cast128)", re.IGNORECASE)
WEAK_MAC = re.compile(r"(md5|hmac-sha1\b|hmac-sha1-96|umac-64@)", re.IGNORECASE)


@host_check("AUD-CE-05")
def ssh_hardened(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    s = sshd(ev)
    if s is None:
        return _no_evidence(ev, "sshd configuration")
    conf, proof = s
    problems = []
    if first(conf, "permitrootlogin", "prohibit-password").lower() != "no":
        problems.append(f"PermitRootLogin {first(conf, 'permitrootlogin', 'default')}")
    if first(conf, "permitemptypasswords", "no").lower() != "no":
        problems.append("PermitEmptyPasswords yes")
    ciphers = first(conf, "ciphers")
    if ciphers and WEAK_CIPHER.search(ciphers):
        problems.append(f"weak ciphers: {', '.join(WEAK_CIPHER.findall(ciphers))}")
    macs = first(conf, "macs")
    if macs and WEAK_MAC.search(macs):
        problems.append(f"weak MACs: {', '.join(WEAK_MAC.findall(macs))}")
    if first(conf, "protocol", "2") not in ("2", ""):
        problems.append("SSH protocol 1")
    if problems:
        return bad(ev.host, "; ".join(problems), proof)
    return ok(ev.host, "root and empty passwords refused; strong ciphers and MACs", proof)


@host_check("AUD-CE-06")
def ssh_from_mgmt(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    s = sshd(ev)
    if s is None:
        return _no_evidence(ev, "sshd configuration")
    conf, proof = s
    allow = [v for vals in conf.get("allowusers", []) for v in vals.split()]
    if not allow:
        return bad(ev.host, "SSH accepts logins from any address (no AllowUsers)", proof)
    outside = [a for a in allow if "@" not in a or not in_nets(
        a.split("@", 1)[1].split("/")[0], f.mgmt_nets)]
    if outside:
        return bad(ev.host, f"AllowUsers admits {', '.join(outside)} outside the management "
                   "zone", proof)
    return ok(ev.host, f"logins only from {', '.join(sorted({a.split('@')[1] for a in allow}))}",
              proof)


@host_check("AUD-CE-07")
def two_factor(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    s = sshd(ev)
    if s is None:
        return _no_evidence(ev, "sshd configuration")
    conf, proof = s
    methods = first(conf, "authenticationmethods", "any")
    if any("," in m for m in methods.split()) and all("," in m for m in methods.split()):
        return ok(ev.host, f"two factors required ({methods})", proof)
    pw = first(conf, "passwordauthentication", "yes").lower() == "yes"
    key = first(conf, "pubkeyauthentication", "yes").lower() == "yes"
    if key and pw:
        return part(ev.host, "a key or a password: one factor per login (two-factor must "
                    "then be enforced at the bastion)", proof)
    if key:
        return part(ev.host, "keys only: one cryptographic factor", proof)
    return bad(ev.host, "passwords only", proof)


def _sudo_aliases(text: str) -> dict[str, str]:
    joined = re.sub(r"\\\n\s*", " ", text)
    out = {}
    for m in re.finditer(r"^Cmnd_Alias\s+(\w+)\s*=\s*(.*)$", joined, re.MULTILINE):
        out[m.group(1)] = m.group(2)
    return out


def sudo_commands(ev: HostEvidence, user: str) -> str | None:
    """What a user may run with sudo: ``sudo -l -U`` output, else the sudoers line with
    its command aliases expanded."""
    live = ev.get(f"cmd:sudo -l -U {user}")
    if live is not None:
        if "not allowed to run sudo" in live or "unknown user" in live:
            return ""
        tail = live.split("may run the following commands", 1)
        return tail[1] if len(tail) > 1 else live
    text = ev.files("/etc/sudoers")
    if text is None:
        return None
    aliases = _sudo_aliases(text)
    joined = re.sub(r"\\\n\s*", " ", text)
    lines = [ln for ln in joined.splitlines() if re.match(rf"^{re.escape(user)}\s", ln)]
    out = []
    for ln in lines:
        for name, cmds in aliases.items():
            ln = re.sub(rf"\b{name}\b", cmds, ln)
        out.append(ln)
    return "\n".join(out)


UNRESTRICTED = re.compile(r"(\(ALL(\s*:\s*ALL)?\)|=)\s*(NOPASSWD:\s*)?ALL\s*$", re.MULTILINE)


@host_check("AUD-CE-10")
def admins_separated(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    proof = []
    problems = []
    need = {"system": ("apt", "systemctl"), "audit": ("aureport", "ausearch"),
            "security": ("useradd", "passwd")}
    forbid = {"system": ("useradd", "aureport"), "audit": ("useradd", "apt-get", "nft"),
              "security": ("apt-get",)}
    seen = False
    for role, user in f.admins.items():
        cmds = sudo_commands(ev, user)
        if cmds is None:
            continue
        seen = True
        proof.append(Evidence(f"sudo rights of {user} ({role})", cmds[:1500] or "(none)",
                              ev.source))
        if not cmds.strip():
            problems.append(f"{user} has no administrator rights")
            continue
        if UNRESTRICTED.search(cmds):
            problems.append(f"{user} has unrestricted sudo")
        if not any(w in cmds for w in need[role]):
            problems.append(f"{user} lacks the {role} administrator's tools")
        bad_words = [w for w in forbid[role] if re.search(rf"(?<!!)/\S*{w}\b", cmds)]
        if bad_words:
            problems.append(f"{user} may also run {', '.join(bad_words)}")
    if not seen:
        return _no_evidence(ev, "sudo rules")
    others = ev.get("cmd:sudo-group")
    if others is not None:
        members = [m for m in others.strip().split(":")[-1].split(",") if m]
        extra = [m for m in members if m not in DEPLOY_ACCOUNTS and m not in f.admins.values()]
        proof.append(ev.ev("cmd:sudo-group"))
        if extra:
            problems.append(f"unrestricted sudo group members: {', '.join(extra)}")
    if problems:
        return bad(ev.host, "; ".join(problems), *proof)
    return ok(ev.host, "system, audit and security administrators separated "
              "(the automation account is key-only)", *proof)


@host_check("AUD-CE-11")
def default_accounts(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.get("cmd:passwd -S -a")
    if text is None:
        return _no_evidence(ev, "account status (passwd -S -a)")
    status = {ln.split()[0]: ln.split()[1] for ln in text.splitlines() if len(ln.split()) > 1}
    unlocked = [u for u in DEFAULT_ACCOUNTS if u in status and status[u] not in ("L", "LK")]
    empty = [u for u, s in status.items() if s == "NP"]
    proof = Evidence("$ passwd -S -a", "\n".join(
        ln for ln in text.splitlines() if ln.split()[:1] and
        (ln.split()[0] in DEFAULT_ACCOUNTS or " NP " in ln)), ev.source)
    problems = []
    if unlocked:
        problems.append(f"default accounts not locked: {', '.join(unlocked)}")
    if empty:
        problems.append(f"accounts without a password: {', '.join(empty)}")
    if problems:
        return bad(ev.host, "; ".join(problems), proof)
    return ok(ev.host, "default accounts locked, no empty passwords", proof)


@host_check("AUD-CE-12")
def umask(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.get("file:/etc/login.defs")
    if text is None:
        return _no_evidence(ev, "login.defs")
    value = first(kv(text), "umask", "022")
    proof = Evidence("file /etc/login.defs", f"UMASK {value}", ev.source)
    if value in ("027", "077", "0027", "0077"):
        return ok(ev.host, f"UMASK {value}", proof)
    return bad(ev.host, f"UMASK {value} (027 or stricter)", proof)


@host_check("AUD-CE-13")
def audit_rules(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.files("/etc/audit/rules.d/")
    live = ev.get("cmd:auditctl -l")
    if text is None and live is None:
        return _no_evidence(ev, "audit rules")
    rules = text or ""
    proof = [Evidence("file /etc/audit/rules.d/*.rules", rules[:3000], ev.source)]
    note = ""
    if live is not None:
        proof.append(ev.ev("cmd:auditctl -l"))
        if "-k " in live or "key=" in live:
            rules += "\n" + live
        else:
            note = " (rules file installed; not loaded in the kernel here)"
    keys = list(p.get("audit_keys", []))
    missing = [k for k in keys if not re.search(rf"(-k |key=){re.escape(k)}\b", rules)]
    if not missing:
        return ok(ev.host, f"audit rules cover {', '.join(keys)}{note}", *proof)
    if len(missing) < len(keys):
        return part(ev.host, f"no audit rules for {', '.join(missing)}{note}", *proof)
    return bad(ev.host, "no audit rules for the required events", *proof)


@host_check("AUD-CE-14")
def log_forwarding(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    parts = [ev.get("file:/etc/rsyslog.conf") or "", ev.files("/etc/rsyslog.d/") or ""]
    text = "\n".join(parts)
    if not text.strip():
        return _no_evidence(ev, "rsyslog configuration")
    proof = Evidence("rsyslog configuration", "\n".join(
        ln for ln in text.splitlines() if re.search(
            r"omfwd|target=|protocol=|queue\.type|imtcp|@@?\d", ln))[:2000], ev.source)
    if "logserver" in f.roles:
        if re.search(r'imtcp', text):
            return ok(ev.host, "the center's log collector (imtcp)", proof)
        return bad(ev.host, "log server does not accept TCP syslog", proof)
    targets = re.findall(r'target="([^"]+)"', text) + re.findall(
        r"^\s*\S+\s+@@?\(?[^)]*\)?([\d.]+)", text, re.MULTILINE)
    to_log = [t for t in targets if t in f.log_servers]
    if not to_log:
        return bad(ev.host, f"logs not forwarded to the log server {f.log_servers}", proof)
    tcp = re.search(r'protocol="tcp"', text) or re.search(r"@@", text)
    queued = re.search(r'queue\.type="(LinkedList|Disk)"', text)
    if tcp and queued:
        return ok(ev.host, f"forwarded to {', '.join(to_log)} over TCP with a disk queue",
                  proof)
    return part(ev.host, f"forwarded to {', '.join(to_log)}, but "
                f"{'not over TCP' if not tcp else 'without a disk queue'} (records may be "
                "lost)", proof)


@host_check("AUD-CE-15")
def audit_protected(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.files("/etc/audit/rules.d/")
    if text is None:
        return _no_evidence(ev, "audit rules")
    checks = {"audit configuration watched": r"-w /etc/audit/? ",
              "audit tools watched": r"-w /(usr/)?sbin/(auditctl|auditd)",
              "audit log watched": r"-w /var/log/audit/? "}
    have = [k for k, pat in checks.items() if re.search(pat, text)]
    missing = [k for k in checks if k not in have]
    proof = Evidence("file /etc/audit/rules.d/*.rules", "\n".join(
        ln for ln in text.splitlines() if "audit" in ln)[:1500], ev.source)
    if not missing:
        return ok(ev.host, "; ".join(have), proof)
    if have:
        return part(ev.host, "missing: " + "; ".join(missing), proof)
    return bad(ev.host, "the audit system is not watched", proof)


@host_check("AUD-CE-16")
def time_source(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.files("/etc/chrony")  # /etc/chrony/chrony.conf or /etc/chrony.conf
    if text is None:
        return _no_evidence(ev, "chrony configuration")
    servers = re.findall(r"^\s*(?:server|pool)\s+(\S+)", text, re.MULTILINE)
    proof = [Evidence("chrony configuration", "\n".join(
        ln for ln in text.splitlines() if re.match(r"\s*(server|pool|allow|local)", ln)),
        ev.source)]
    if "timesource" in f.roles:
        if re.search(r"^\s*allow\s", text, re.MULTILINE):
            return ok(ev.host, "the center's time source (serves the zones)", *proof)
        return bad(ev.host, "time source serves nobody (no allow)", *proof)
    good = [s for s in servers if s in f.time_sources]
    if not good:
        return bad(ev.host, f"time from {servers or 'nowhere'}, not the center's time source "
                   f"{f.time_sources}", *proof)
    live = ev.get("cmd:chronyc -n sources")
    if live is not None:
        proof.append(ev.ev("cmd:chronyc -n sources"))
        if not any(re.search(rf"^\^\*\s+{re.escape(s)}\b", live, re.MULTILINE) for s in good):
            return part(ev.host, f"configured for {', '.join(good)}, but not synchronised "
                        "to it", *proof)
        return ok(ev.host, f"synchronised to {', '.join(good)}", *proof)
    return ok(ev.host, f"time from {', '.join(good)}", *proof)


def listening(ss: str) -> set[str]:
    found = set()
    for line in ss.splitlines():
        parts = line.split()
        if len(parts) < 5 or parts[0] not in ("tcp", "udp"):
            continue
        addr, _, port = parts[4].rpartition(":")
        addr = addr.strip("[]").split("%")[0]
        if addr.startswith("127.") or addr == "::1":
            continue
        found.add(f"{parts[0]}/{port}")
    return found


@host_check("AUD-CE-17")
def ports(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    ss = ev.get("cmd:ss -H -tuln")
    if ss is None:
        return _no_evidence(ev, "listening sockets (ss)")
    have = listening(ss)
    extra = sorted(have - f.listeners)
    proof = ev.ev("cmd:ss -H -tuln")
    if extra:
        return bad(ev.host, f"unexpected listeners: {', '.join(extra)} (expected "
                   f"{', '.join(sorted(f.listeners))})", proof)
    return ok(ev.host, f"listens on {', '.join(sorted(have)) or 'nothing'} only", proof)


@host_check("AUD-CE-18")
def packages(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.get("cmd:dpkg -l")
    if text is None:
        return _no_evidence(ev, "installed packages")
    installed = {ln.split()[0] for ln in text.splitlines()
                 if "install ok installed" in ln and ln.split()}
    bad_pkgs = sorted(installed & set(p.get("forbidden_packages", [])))
    proof = Evidence("$ dpkg-query -W", f"{len(installed)} packages installed; forbidden "
                     f"present: {bad_pkgs or 'none'}", ev.source)
    if bad_pkgs:
        return bad(ev.host, f"installed: {', '.join(bad_pkgs)}", proof)
    return ok(ev.host, "no clear-text or legacy remote service installed", proof)


SYSCTL = {"net.ipv4.conf.all.accept_redirects": ("0",),
          "net.ipv4.conf.all.send_redirects": ("0",),
          "net.ipv4.conf.all.accept_source_route": ("0",),
          "net.ipv4.tcp_syncookies": ("1",),
          "net.ipv4.conf.all.rp_filter": ("1", "2"),
          "net.ipv4.icmp_echo_ignore_broadcasts": ("1",)}


@host_check("AUD-CE-19")
def network_sysctls(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    key = "cmd:sysctl" if ev.get("cmd:sysctl") is not None else "file:/etc/sysctl.d/90-pesdc.conf"
    text = ev.get(key)
    if text is None:
        text = ev.files("/etc/sysctl.d/")
        key = "file:/etc/sysctl.d/"
    if text is None:
        return _no_evidence(ev, "network kernel parameters")
    values = {k: v[-1] for k, v in kv(text).items()}
    wrong = [f"{k} = {values.get(k, 'unset')}" for k, want in SYSCTL.items()
             if values.get(k) not in want]
    proof = Evidence(key[4:] if key.startswith("cmd:") else key[5:], "\n".join(
        f"{k} = {values.get(k, 'unset')}" for k in SYSCTL), ev.source)
    if not wrong:
        return ok(ev.host, "redirects and source routing off, SYN cookies on", proof)
    if len(wrong) < len(SYSCTL):
        return part(ev.host, "not hardened: " + "; ".join(wrong), proof)
    return bad(ev.host, "network parameters at their defaults", proof)


@host_check("AUD-CE-24")
def banner(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    s = sshd(ev)
    issue = ev.get("file:/etc/issue.net")
    if s is None and issue is None:
        return _no_evidence(ev, "sshd configuration and banner")
    proof = [Evidence("file /etc/issue.net", (issue or "(absent)")[:500], ev.source)]
    path = first(s[0], "banner", "none") if s else "none"
    if path != "none" and issue and issue.strip():
        return ok(ev.host, f"SSH shows the banner {path}", *proof)
    return bad(ev.host, "no login banner", *proof)


@host_check("AUD-MC-20")
def log_retention(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    if "logserver" not in f.roles:
        return na(ev.host, "not a log server")
    text = ev.get("file:/etc/logrotate.d/pesdc-remote") or ev.files("/etc/logrotate.d/")
    if text is None:
        return _no_evidence(ev, "log rotation of received logs")
    need = int(p.get("log_retention_days", 180))
    period = 1
    for word, days in (("weekly", 7), ("monthly", 30), ("yearly", 365)):
        if re.search(rf"^\s*{word}\b", text, re.MULTILINE):
            period = days
    rotate = re.findall(r"^\s*rotate\s+(\d+)", text, re.MULTILINE)
    maxage = re.findall(r"^\s*maxage\s+(\d+)", text, re.MULTILINE)
    kept = min(int(rotate[0]) * period if rotate else 0,
               int(maxage[0]) if maxage else 10**6)
    proof = Evidence("logrotate", "\n".join(ln for ln in text.splitlines() if re.match(
        r"\s*(daily|weekly|monthly|yearly|rotate|maxage|/)", ln)), ev.source)
    return (ok(ev.host, f"received logs kept {kept} days (at least {need})", proof)
            if kept >= need else bad(ev.host, f"received logs kept {kept} days < {need}",
                                     proof))
