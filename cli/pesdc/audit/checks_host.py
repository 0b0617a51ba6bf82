"""Audit checks on servers (kind: host).

Each function reads one server's evidence: ``file:/path`` contents (rendered files in
--static; the host's own files in --lab/--live) and ``cmd:NAME`` command output (only
from a running host: ``sshd -T``, ``sudo -l -U``, ``passwd -S -a``, ``ss``, ``dpkg``,
``sysctl``, ``chronyc sources``, ``auditctl -l``, the PAM stack). The same function runs
on recorded evidence in the tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType
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
from pesdc.audit.result import Evidence, Msg, Outcome, zh_list
from pesdc.provision.duties import Duty

SSHD_CONFIG = "file:/etc/ssh/sshd_config"
PAM_PASSWORD = ("file:/etc/pam.d/common-password", "file:/etc/pam.d/system-auth")
PAM_AUTH = ("file:/etc/pam.d/common-auth", "file:/etc/pam.d/system-auth")
DEFAULT_ACCOUNTS = ("sync", "games", "news", "uucp", "proxy", "www-data", "list", "irc",
                    "gnats", "lp", "mail", "man", "nobody", "adm", "operator", "ftp",
                    "halt", "shutdown")
DEPLOY_ACCOUNTS = ("pesdc",)  # the key-only automation account (PESDC-BL-01)
ADMIN_ZH = {"system": "系统管理员", "audit": "审计管理员", "security": "安全管理员"}


def kv(text: str, sep: str = r"\s*=\s*|\s+") -> dict[str, list[str]]:
    """key -> values in file order (keys lower-cased); comments dropped."""
    return {k: list(v) for k, v in _kv_of(text, sep).items()}


Settings = Mapping[str, Sequence[str]]


def settings(text: str, sep: str = r"\s*=\s*|\s+") -> Settings:
    """:func:`kv`'s reading, read-only and not copied: the shared reading of the file
    (the checks only read it; a copy per rule and server cost more than the reading)."""
    return MappingProxyType(_kv_of(text, sep))


@lru_cache(maxsize=512)
def _kv_of(text: str, sep: str) -> dict[str, tuple[str, ...]]:
    # Cached by the file as it is too: several rules read each file of a server.
    return _kv(uncommented(text), sep)


def uncommented(text: str) -> str:
    """``_COMMENT_LINE.sub("", text)``, found faster: the comment lines after a line
    break (a pattern that starts with one, which the engine finds by a plain scan),
    then one on the first line."""
    if "#" not in text:
        return text
    out = _COMMENT_AFTER_BREAK.sub("\n", text)
    first = _COMMENT_FIRST.match(out)
    return out[first.end():] if first else out


# The text of a comment line, up to any line break str.splitlines() knows (its break
# is kept, so the lines stay the lines). _kv skips such a line whatever it says, so
# without it the same settings are read; and the servers of a center, whose files
# differ in their header comment (the host's name) only, share one reading.
_COMMENT_LINE = re.compile("^[ \t]*#[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]*",
                           re.MULTILINE)
_COMMENT_AFTER_BREAK = re.compile("\n[ \t]*#[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]*")
_COMMENT_FIRST = re.compile("[ \t]*#[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]*")


@lru_cache(maxsize=512)
def _kv(text: str, sep: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = _separator(sep).split(line, maxsplit=1)
        key = parts[0].lower()
        out.setdefault(key, []).append(parts[1].strip() if len(parts) > 1 else "")
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=16)
def _separator(sep: str) -> re.Pattern[str]:
    return re.compile(sep)  # once, not looked up in re's cache on every line


def sshd(ev: HostEvidence) -> tuple[Settings, Evidence] | None:
    """Effective sshd settings: ``sshd -T`` when collected, else the config file
    (first value wins, as sshd reads it)."""
    if ev.get("cmd:sshd -T"):
        return settings(ev.data["cmd:sshd -T"], r"\s+"), ev.ev("cmd:sshd -T")
    if ev.get(SSHD_CONFIG):
        return settings(ev.data[SSHD_CONFIG], r"\s+"), ev.ev(SSHD_CONFIG)
    return None


def first(d: Settings, key: str, default: str = "") -> str:
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


def _no_evidence(ev: HostEvidence, what: Msg) -> Outcome:
    if ev.source == "rendered":
        return manual(ev.host, Msg(f"{what.en}: needs a running host (--lab or --live)",
                                   f"{what.zh}：需在运行中的主机上核查（--lab 或 --live）"))
    gap = " " if what.zh[:1].isascii() else ""  # a space between Chinese and Latin text
    return bad(ev.host, Msg(f"{what.en}: not found on the host", f"主机上未找到{gap}{what.zh}"))


@host_check("AUD-CE-01")
def password_quality(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.files("/etc/security/pwquality.conf")
    if text is None:
        return _no_evidence(ev, Msg("pwquality.conf", "口令复杂度配置 pwquality.conf"))
    conf = settings(text)
    minlen = _int(first(conf, "minlen", "0"), 0) or 0
    classes = _int(first(conf, "minclass", "0"), 0) or 0
    credits = sum(1 for k in ("dcredit", "ucredit", "lcredit", "ocredit")
                  if (_int(first(conf, k, "0"), 0) or 0) < 0)
    classes = max(classes, credits)
    need_len, need_cls = int(p.get("password_min_length", 12)), int(p.get(
        "password_min_classes", 3))
    problems = []
    if minlen < need_len:
        problems.append(Msg(f"minlen {minlen} < {need_len}",
                            f"口令最小长度 minlen {minlen} < {need_len}"))
    if classes < need_cls:
        problems.append(Msg(f"{classes} character classes < {need_cls}",
                            f"口令字符类别 {classes} 类 < {need_cls} 类"))
    proof = [ev.ev("file:/etc/security/pwquality.conf")]
    pam = _pam(ev, PAM_PASSWORD)
    if pam is not None:
        proof.append(ev.ev(pam[0]))
        if not re.search(r"^\s*password\s+\S+\s+pam_pwquality\.so", pam[1], re.MULTILINE):
            problems.append(Msg("pam_pwquality is not in the PAM password stack",
                                "PAM password 栈未启用 pam_pwquality"))
    if problems:
        return bad(ev.host, Msg.join(problems), *proof)
    return ok(ev.host, Msg(f"minlen {minlen}, {classes} classes",
                           f"口令复杂度满足要求：minlen {minlen}，{classes} 类字符"), *proof)


@host_check("AUD-CE-02")
def password_age(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.get("file:/etc/login.defs")
    if text is None:
        return _no_evidence(ev, Msg("login.defs", "口令有效期配置 login.defs"))
    days = _int(first(settings(text), "pass_max_days", "99999"), 99999) or 99999
    need = int(p.get("password_max_days", 90))
    proof = Evidence("file /etc/login.defs", "\n".join(
        ln for ln in text.splitlines() if ln.startswith("PASS_")), ev.source)
    return (ok(ev.host, Msg(f"PASS_MAX_DAYS {days} (at most {need})",
                            f"口令有效期 PASS_MAX_DAYS {days}（要求不超过 {need} 天）"), proof)
            if days <= need else
            bad(ev.host, Msg(f"PASS_MAX_DAYS {days} > {need}",
                             f"口令有效期 PASS_MAX_DAYS {days} > {need} 天"), proof))


@host_check("AUD-CE-03")
def lockout(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.get("file:/etc/security/faillock.conf")
    if text is None:
        return _no_evidence(ev, Msg("faillock.conf", "登录失败处理配置 faillock.conf"))
    conf = settings(text)
    deny = _int(first(conf, "deny", "3"), 3) or 0
    unlock = _int(first(conf, "unlock_time", "600"), 600)
    need, minutes = int(p.get("login_fail_attempts", 5)), int(p.get("lockout_minutes", 15))
    problems = []
    if deny == 0 or deny > need:
        problems.append(Msg(f"deny = {deny} (1 to {need})",
                            f"登录失败次数上限 deny = {deny}（应为 1 至 {need}）"))
    if unlock is not None and unlock != 0 and unlock < minutes * 60:
        problems.append(Msg(f"unlock_time {unlock} s < {minutes * 60} s",
                            f"锁定时长 unlock_time {unlock} s < {minutes * 60} s"))
    proof = [ev.ev("file:/etc/security/faillock.conf")]
    pam = _pam(ev, PAM_AUTH)
    if pam is not None:
        proof.append(ev.ev(pam[0]))
        if "pam_faillock.so" not in pam[1]:
            problems.append(Msg("pam_faillock is not in the PAM auth stack",
                                "PAM auth 栈未启用 pam_faillock"))
    if problems:
        return bad(ev.host, Msg.join(problems), *proof)
    return ok(ev.host, Msg(f"locked after {deny} failures for {unlock} s",
                           f"连续 {deny} 次登录失败后锁定 {unlock} s"), *proof)


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
        return _no_evidence(ev, Msg("TMOUT and sshd configuration", "TMOUT 及 sshd 配置"))
    if shell_ok and ssh_ok:
        return ok(ev.host, Msg(f"idle sessions end within {limit // 60} min (shell and SSH)",
                               f"shell 与 SSH 空闲会话均在 {limit // 60} 分钟内超时断开"),
                  *proof)
    if shell_ok or ssh_ok:
        which = "shell" if shell_ok else "SSH"
        return part(ev.host, Msg(f"only the {which} idle timeout is set",
                                 f"仅设置了 {which} 的会话超时"), *proof)
    return bad(ev.host, Msg("no idle timeout", "未设置会话超时"), *proof)


SSHD_WHAT = Msg("sshd configuration", "sshd 配置")
WEAK_CIPHER = re.compile(r"(cbc|arcfour|3des|blowfish|cast128)", re.IGNORECASE)
WEAK_MAC = re.compile(r"(md5|hmac-sha1\b|hmac-sha1-96|umac-64@)", re.IGNORECASE)


@host_check("AUD-CE-05")
def ssh_hardened(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    s = sshd(ev)
    if s is None:
        return _no_evidence(ev, SSHD_WHAT)
    conf, proof = s
    problems = []
    if first(conf, "permitrootlogin", "prohibit-password").lower() != "no":
        root = f"PermitRootLogin {first(conf, 'permitrootlogin', 'default')}"
        problems.append(Msg(root, f"未禁止 root 远程登录（{root}）"))
    if first(conf, "permitemptypasswords", "no").lower() != "no":
        problems.append(Msg("PermitEmptyPasswords yes",
                            "允许空口令登录（PermitEmptyPasswords yes）"))
    ciphers = first(conf, "ciphers")
    if ciphers and WEAK_CIPHER.search(ciphers):
        weak = ", ".join(WEAK_CIPHER.findall(ciphers))
        problems.append(Msg(f"weak ciphers: {weak}", f"启用了弱加密算法：{weak}"))
    macs = first(conf, "macs")
    if macs and WEAK_MAC.search(macs):
        weak = ", ".join(WEAK_MAC.findall(macs))
        problems.append(Msg(f"weak MACs: {weak}", f"启用了弱 MAC 算法：{weak}"))
    if first(conf, "protocol", "2") not in ("2", ""):
        problems.append(Msg("SSH protocol 1", "使用 SSH 协议版本 1"))
    if problems:
        return bad(ev.host, Msg.join(problems), proof)
    return ok(ev.host, Msg("root and empty passwords refused; strong ciphers and MACs",
                           "禁止 root 及空口令登录；仅使用强加密算法和 MAC 算法"), proof)


@host_check("AUD-CE-06")
def ssh_from_mgmt(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    s = sshd(ev)
    if s is None:
        return _no_evidence(ev, SSHD_WHAT)
    conf, proof = s
    allow = [v for vals in conf.get("allowusers", []) for v in vals.split()]
    if not allow:
        return bad(ev.host, Msg("SSH accepts logins from any address (no AllowUsers)",
                                "SSH 接受来自任意地址的登录（未配置 AllowUsers）"), proof)
    outside = [a for a in allow if "@" not in a or not in_nets(
        a.split("@", 1)[1].split("/")[0], f.mgmt_nets)]
    if outside:
        who = ", ".join(outside)
        return bad(ev.host, Msg(f"AllowUsers admits {who} outside the management zone",
                                f"AllowUsers 允许安全管理区以外的 {who} 登录"), proof)
    nets = ", ".join(sorted({a.split("@")[1] for a in allow}))
    return ok(ev.host, Msg(f"logins only from {nets}", f"仅允许从 {nets} 远程登录"), proof)


@host_check("AUD-CE-07")
def two_factor(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    s = sshd(ev)
    if s is None:
        return _no_evidence(ev, SSHD_WHAT)
    conf, proof = s
    methods = first(conf, "authenticationmethods", "any")
    if any("," in m for m in methods.split()) and all("," in m for m in methods.split()):
        return ok(ev.host, Msg(f"two factors required ({methods})",
                               f"登录须经两种鉴别因素（{methods}）"), proof)
    pw = first(conf, "passwordauthentication", "yes").lower() == "yes"
    key = first(conf, "pubkeyauthentication", "yes").lower() == "yes"
    if key and pw:
        return part(ev.host, Msg("a key or a password: one factor per login (two-factor must "
                                 "then be enforced at the bastion)",
                                 "密钥或口令任选其一：每次登录仅一种鉴别因素（须由堡垒机实施"
                                 "双因素认证）"), proof)
    if key:
        return part(ev.host, Msg("keys only: one cryptographic factor",
                                 "仅密钥登录：只有一种基于密码技术的鉴别因素"), proof)
    return bad(ev.host, Msg("passwords only", "仅口令登录，只有一种鉴别因素"), proof)


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
    return _sudoers_commands(text, user)


def _sudoers_commands(text: str, user: str) -> str:
    """A user's sudoers lines with the command aliases expanded."""
    aliases, joined = _sudoers_read(text)
    lines = [ln for ln in joined
             if ln.startswith(user) and re.match(rf"^{re.escape(user)}\s", ln)]
    return _expanded(tuple(lines), aliases)


@lru_cache(maxsize=32)
def _sudoers_read(text: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The aliases of a sudoers text and its lines, continuations joined: read once for
    the three administrators (each asks in turn)."""
    return (tuple(_sudo_aliases(text).items()),
            tuple(re.sub(r"\\\n\s*", " ", text).splitlines()))


@lru_cache(maxsize=256)
def _expanded(lines: tuple[str, ...], aliases: tuple[tuple[str, str], ...]) -> str:
    # Cached: each server's sudoers file is its own (its name is in the header), but the
    # lines and aliases read from it are the same on every server of a center.
    out = []
    for ln in lines:
        for name, cmds in aliases:
            if name not in ln:
                continue  # neither pattern below can match
            # A negated alias negates each of its commands, as `sudo -l` lists them.
            denied = ", ".join(f"!{c.strip()}" for c in cmds.split(","))
            ln = re.sub(rf"!\s*\b{name}\b", _literally(denied), ln)
            ln = re.sub(rf"\b{name}\b", _literally(cmds), ln)
        out.append(ln)
    return "\n".join(out)


def _literally(text: str) -> Callable[[re.Match[str]], str]:
    """A re.sub replacement that inserts text as it is (backslashes included)."""
    return lambda _match: text


def _holds(cmds: str, program: str) -> bool:
    """Whether sudo rights grant a program (a negated entry does not)."""
    return _program(program).search(cmds) is not None


@lru_cache(maxsize=256)
def _program(program: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![!\w/]){re.escape(program)}(?![\w/.-])")


def _duty_problems(user: str, admin: str, duty: Duty, cmds: str) -> list[Msg]:
    """How one administrator's sudo rights break the separation of duties: none, all,
    none of its own duty's programs, or programs of the other administrators' duties
    (data/admin_duties.yaml)."""
    return list(_duty_problems_of(user, admin, duty, cmds))


@lru_cache(maxsize=256)
def _duty_problems_of(user: str, admin: str, duty: Duty, cmds: str) -> tuple[Msg, ...]:
    # Cached: a pure function of its arguments, the same for every server that carries
    # the same sudoers files (Msg is frozen, so sharing the tuple is safe).
    return tuple(_judge_duty(user, admin, duty, cmds))


def _judge_duty(user: str, admin: str, duty: Duty, cmds: str) -> list[Msg]:
    if not cmds.strip():
        return [Msg(f"{user} has no administrator rights", f"{user}（{admin}）无管理权限")]
    problems = []
    if UNRESTRICTED.search(cmds):
        problems.append(Msg(f"{user} has unrestricted sudo",
                            f"{user}（{admin}）拥有不受限的 sudo 权限"))
    if not any(_holds(cmds, p) for p in duty.must):
        problems.append(Msg(f"{user} lacks the {duty.role} administrator's tools",
                            f"{user} 缺少{admin}所需的管理命令"))
    foreign = [p.rsplit("/", 1)[-1] for p in duty.must_not if _holds(cmds, p)]
    if foreign:
        words = ", ".join(foreign)
        problems.append(Msg(f"{user} may also run {words}",
                            f"{user}（{admin}）还可执行 {words}，超出其职责"))
    return problems


UNRESTRICTED = re.compile(r"(\(ALL(\s*:\s*ALL)?\)|=)\s*(NOPASSWD:\s*)?ALL\s*$", re.MULTILINE)


@host_check("AUD-CE-10")
def admins_separated(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    proof = []
    problems = []
    seen = False
    for role, user in f.admins.items():
        cmds = sudo_commands(ev, user)
        if cmds is None:
            continue
        seen = True
        proof.append(Evidence(f"sudo rights of {user} ({role})", cmds[:1500] or "(none)",
                              ev.source, "" if cmds else "（无）"))
        problems += _duty_problems(user, ADMIN_ZH[role], f.duties[role], cmds)
    if not seen:
        return _no_evidence(ev, Msg("sudo rules", "sudo 授权规则"))
    others = ev.get("cmd:sudo-group")
    if others is not None:
        members = [m for m in others.strip().split(":")[-1].split(",") if m]
        extra = [m for m in members if m not in DEPLOY_ACCOUNTS and m not in f.admins.values()]
        proof.append(ev.ev("cmd:sudo-group"))
        if extra:
            who = ", ".join(extra)
            problems.append(Msg(f"unrestricted sudo group members: {who}",
                                f"sudo 组中有不受限的成员：{who}"))
    if problems:
        return bad(ev.host, Msg.join(problems), *proof)
    return ok(ev.host, Msg("system, audit and security administrators separated "
                           "(the automation account is key-only)",
                           "系统管理员、审计管理员、安全管理员权限分离（自动化账户仅限密钥登录）"),
              *proof)


@host_check("AUD-CE-11")
def default_accounts(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.get("cmd:passwd -S -a")
    if text is None:
        return _no_evidence(ev, Msg("account status (passwd -S -a)",
                                    "账户状态（passwd -S -a）"))
    status = {ln.split()[0]: ln.split()[1] for ln in text.splitlines() if len(ln.split()) > 1}
    unlocked = [u for u in DEFAULT_ACCOUNTS if u in status and status[u] not in ("L", "LK")]
    empty = [u for u, s in status.items() if s == "NP"]
    proof = Evidence("$ passwd -S -a", "\n".join(
        ln for ln in text.splitlines() if ln.split()[:1] and
        (ln.split()[0] in DEFAULT_ACCOUNTS or " NP " in ln)), ev.source)
    problems = []
    if unlocked:
        who = ", ".join(unlocked)
        problems.append(Msg(f"default accounts not locked: {who}", f"默认账户未锁定：{who}"))
    if empty:
        who = ", ".join(empty)
        problems.append(Msg(f"accounts without a password: {who}", f"存在空口令账户：{who}"))
    if problems:
        return bad(ev.host, Msg.join(problems), proof)
    return ok(ev.host, Msg("default accounts locked, no empty passwords",
                           "默认账户均已锁定，无空口令账户"), proof)


@host_check("AUD-CE-12")
def umask(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.get("file:/etc/login.defs")
    if text is None:
        return _no_evidence(ev, Msg("login.defs", "默认权限配置 login.defs"))
    value = first(settings(text), "umask", "022")
    proof = Evidence("file /etc/login.defs", f"UMASK {value}", ev.source)
    if value in ("027", "077", "0027", "0077"):
        return ok(ev.host, Msg(f"UMASK {value}", f"默认权限掩码 UMASK {value}"), proof)
    return bad(ev.host, Msg(f"UMASK {value} (027 or stricter)",
                            f"默认权限掩码 UMASK {value}（应为 027 或更严格）"), proof)


AUDIT_RULES = Msg("audit rules", "审计规则")


@host_check("AUD-CE-13")
def audit_rules(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    """On a running host the rules the kernel has loaded are the evidence (`auditctl -l`);
    the rules file only says what would load at boot. Statically, the rendered file."""
    text = ev.files("/etc/audit/rules.d/")
    live = ev.get("cmd:auditctl -l")
    if text is None and live is None:
        return _no_evidence(ev, AUDIT_RULES)
    keys = list(p.get("audit_keys", []))
    proof = [Evidence("file /etc/audit/rules.d/*.rules", (text or "")[:3000], ev.source)]
    if live is None:  # rendered: the file is all there is, and it is what is judged
        return _audit_keys(ev, keys, text or "", proof, Msg("", ""))
    proof.append(ev.ev("cmd:auditctl -l"))
    if "-k " in live or "key=" in live:
        return _audit_keys(ev, keys, live, proof, Msg(" (loaded in the kernel)",
                                                      "（已加载到内核）"))
    if re.search(r"auditctl: (command )?not found|No such file", live):
        return bad(ev.host, Msg("auditd is not installed (auditctl not found)",
                                "未安装 auditd（找不到 auditctl）"), *proof)
    in_file = [k for k in keys if _has_key(text or "", k)]
    if ev.source == "lab":
        # Lab hosts are namespaces of one machine: its kernel's audit rules are not
        # theirs, so "loaded" cannot be observed here. A gap in the file is a finding;
        # a complete file is never a pass on its own.
        if len(in_file) < len(keys):
            return _audit_keys(ev, keys, text or "", proof, Msg(" (rules file)", "（规则文件）"))
        return manual(ev.host, Msg(
            "audit rules: the rules file covers " + ", ".join(keys) + ", but the lab's "
            "hosts share the machine's kernel, so whether the rules are loaded cannot be "
            "observed here; check on a real host (--live)",
            f"审计规则：规则文件覆盖 {zh_list(keys)}，但实验环境的主机共用宿主机内核，"
            "无法在此核实规则是否已加载；需在真实主机上核查（--live）"), *proof)
    return bad(ev.host, Msg(
        "audit rules are not loaded in the kernel (auditctl -l lists none)"
        + (f"; the rules file covers {', '.join(in_file)}" if in_file else ""),
        "内核未加载审计规则（auditctl -l 无规则）"
        + (f"；规则文件覆盖 {zh_list(in_file)}" if in_file else "")), *proof)


def _has_key(rules: str, key: str) -> bool:
    """Whether ``_key_rule(key)`` matches somewhere in ``rules``: tried only where
    ``-k KEY`` or ``key=KEY`` starts (str.find), not at every character."""
    if key not in rules:
        return False
    rx = _key_rule(key)
    for lead in ("-k ", "key="):
        needle = lead + key
        i = rules.find(needle)
        while i >= 0:
            if rx.match(rules, i):
                return True
            i = rules.find(needle, i + 1)
    return False


@lru_cache(maxsize=64)
def _key_rule(key: str) -> re.Pattern[str]:
    return re.compile(rf"(-k |key=){re.escape(key)}\b")


def _audit_keys(ev: HostEvidence, keys: list[str], rules: str, proof: list[Evidence],
                note: Msg) -> Outcome:
    missing = [k for k in keys if not _has_key(rules, k)]
    if not missing:
        return ok(ev.host, Msg(f"audit rules cover {', '.join(keys)}",
                               f"审计规则覆盖 {', '.join(keys)}") + note, *proof)
    if len(missing) < len(keys):
        return part(ev.host, Msg(f"no audit rules for {', '.join(missing)}",
                                 f"缺少 {', '.join(missing)} 的审计规则") + note, *proof)
    return bad(ev.host, Msg("no audit rules for the required events",
                            "未对要求审计的事件配置审计规则") + note, *proof)


@host_check("AUD-CE-14")
def log_forwarding(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    parts = [ev.get("file:/etc/rsyslog.conf") or "", ev.files("/etc/rsyslog.d/") or ""]
    text = "\n".join(parts)
    if not text.strip():
        return _no_evidence(ev, Msg("rsyslog configuration", "rsyslog 配置"))
    proof = Evidence("rsyslog configuration", "\n".join(
        ln for ln in text.splitlines() if re.search(
            r"omfwd|target=|protocol=|queue\.type|imtcp|@@?\d", ln))[:2000], ev.source)
    if "logserver" in f.roles:
        if re.search(r'imtcp', text):
            return ok(ev.host, Msg("the center's log collector (imtcp)",
                                   "本中心的日志服务器，经 imtcp 接收日志"), proof)
        return bad(ev.host, Msg("log server does not accept TCP syslog",
                                "日志服务器未接收 TCP syslog"), proof)
    targets = re.findall(r'target="([^"]+)"', text) + re.findall(
        r"^\s*\S+\s+@@?\(?[^)]*\)?([\d.]+)", text, re.MULTILINE)
    to_log = [t for t in targets if t in f.log_servers]
    if not to_log:
        return bad(ev.host, Msg(f"logs not forwarded to the log server {f.log_servers}",
                                f"日志未转发至日志服务器 {f.log_servers}"), proof)
    tcp = re.search(r'protocol="tcp"', text) or re.search(r"@@", text)
    queued = re.search(r'queue\.type="(LinkedList|Disk)"', text)
    dest = ", ".join(to_log)
    if tcp and queued:
        return ok(ev.host, Msg(f"forwarded to {dest} over TCP with a disk queue",
                               f"日志经 TCP 转发至 {dest}，并启用磁盘队列"), proof)
    lack = Msg("not over TCP", "未使用 TCP") if not tcp else \
        Msg("without a disk queue", "未启用磁盘队列")
    return part(ev.host, Msg(f"forwarded to {dest}, but {lack.en} (records may be lost)",
                             f"日志已转发至 {dest}，但{lack.zh}（日志记录可能丢失）"), proof)


@host_check("AUD-CE-15")
def audit_protected(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.files("/etc/audit/rules.d/")
    if text is None:
        return _no_evidence(ev, AUDIT_RULES)
    # what is watched: (English, Chinese when watched, Chinese when not), the rule pattern
    checks = [("audit configuration watched", "审计配置已受监视", "审计配置未受监视",
               r"-w /etc/audit/? "),
              ("audit tools watched", "审计工具已受监视", "审计工具未受监视",
               r"-w /(usr/)?sbin/(auditctl|auditd)"),
              ("audit log watched", "审计日志已受监视", "审计日志未受监视",
               r"-w /var/log/audit/? ")]
    have = [c for c in checks if re.search(c[3], text)]
    missing = [c for c in checks if c not in have]
    proof = Evidence("file /etc/audit/rules.d/*.rules", "\n".join(
        ln for ln in text.splitlines() if "audit" in ln)[:1500], ev.source)
    if not missing:
        return ok(ev.host, Msg.join(Msg(c[0], c[1]) for c in have), proof)
    if have:
        return part(ev.host, Msg("missing: ", "") + Msg.join(Msg(c[0], c[2]) for c in missing),
                    proof)
    return bad(ev.host, Msg("the audit system is not watched",
                            "审计配置、审计工具和审计日志均未受监视"), proof)


@host_check("AUD-CE-16")
def time_source(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.files("/etc/chrony")  # /etc/chrony/chrony.conf or /etc/chrony.conf
    if text is None:
        return _no_evidence(ev, Msg("chrony configuration", "chrony 配置"))
    servers = re.findall(r"^\s*(?:server|pool)\s+(\S+)", text, re.MULTILINE)
    proof = [Evidence("chrony configuration", "\n".join(
        ln for ln in text.splitlines() if re.match(r"\s*(server|pool|allow|local)", ln)),
        ev.source)]
    if "timesource" in f.roles:
        if re.search(r"^\s*allow\s", text, re.MULTILINE):
            return ok(ev.host, Msg("the center's time source (serves the zones)",
                                   "本中心的时间源，为各区域提供时间服务"), *proof)
        return bad(ev.host, Msg("time source serves nobody (no allow)",
                                "时间源未向任何区域提供服务（无 allow）"), *proof)
    good = [s for s in servers if s in f.time_sources]
    if not good:
        ts = f.time_sources
        zh = (f"时间同步自 {servers}，而非本中心的时间源 {ts}" if servers and ts else
              f"时间同步自 {servers}；本中心未部署时间源" if servers else
              f"未配置时间服务器，应同步本中心的时间源 {ts}" if ts else
              "未配置时间服务器，本中心也未部署时间源")
        return bad(ev.host, Msg(f"time from {servers or 'nowhere'}, not the center's time "
                                f"source {ts}", zh), *proof)
    live = ev.get("cmd:chronyc -n sources")
    src = ", ".join(good)
    if live is not None:
        proof.append(ev.ev("cmd:chronyc -n sources"))
        if not any(re.search(rf"^\^\*\s+{re.escape(s)}\b", live, re.MULTILINE) for s in good):
            return part(ev.host, Msg(f"configured for {src}, but not synchronised to it",
                                     f"已配置时间源 {src}，但未与其同步"), *proof)
        return ok(ev.host, Msg(f"synchronised to {src}", f"已与时间源 {src} 同步"), *proof)
    return ok(ev.host, Msg(f"time from {src}", f"时间同步自本中心时间源 {src}"), *proof)


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
        return _no_evidence(ev, Msg("listening sockets (ss)", "监听端口（ss）"))
    have = listening(ss)
    extra = sorted(have - f.listeners)
    proof = ev.ev("cmd:ss -H -tuln")
    if extra:
        want = ", ".join(sorted(f.listeners))
        return bad(ev.host, Msg(f"unexpected listeners: {', '.join(extra)} (expected {want})",
                                f"存在非预期的监听端口：{', '.join(extra)}（预期仅 {want}）"),
                   proof)
    ports = ", ".join(sorted(have))
    return ok(ev.host, Msg(f"listens on {ports or 'nothing'} only",
                           f"仅监听 {ports}" if ports else "未监听任何端口"), proof)


@host_check("AUD-CE-18")
def packages(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    text = ev.get("cmd:dpkg -l")
    if text is None:
        return _no_evidence(ev, Msg("installed packages", "已安装软件包"))
    installed = {ln.split()[0] for ln in text.splitlines()
                 if "install ok installed" in ln and ln.split()}
    bad_pkgs = sorted(installed & set(p.get("forbidden_packages", [])))
    proof = Evidence("$ dpkg-query -W", f"{len(installed)} packages installed; forbidden "
                     f"present: {bad_pkgs or 'none'}", ev.source,
                     f"已安装 {len(installed)} 个软件包；其中禁止安装的：{bad_pkgs or '无'}")
    if bad_pkgs:
        names = ", ".join(bad_pkgs)
        return bad(ev.host, Msg(f"installed: {names}", f"安装了禁止安装的软件包：{names}"),
                   proof)
    return ok(ev.host, Msg("no clear-text or legacy remote service installed",
                           "未安装明文传输或过时的远程服务"), proof)


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
        return _no_evidence(ev, Msg("network kernel parameters", "网络内核参数"))
    values = {k: v[-1] for k, v in settings(text).items()}
    wrong = [f"{k} = {values.get(k, 'unset')}" for k, want in SYSCTL.items()
             if values.get(k) not in want]
    proof = Evidence(key[4:] if key.startswith("cmd:") else key[5:], "\n".join(
        f"{k} = {values.get(k, 'unset')}" for k in SYSCTL), ev.source)
    if not wrong:
        return ok(ev.host, Msg("redirects and source routing off, SYN cookies on",
                               "已关闭 ICMP 重定向和源路由，已启用 SYN cookies"), proof)
    if len(wrong) < len(SYSCTL):
        return part(ev.host, Msg("not hardened: " + "; ".join(wrong),
                                 "以下参数未加固：" + "；".join(wrong)), proof)
    return bad(ev.host, Msg("network parameters at their defaults",
                            "网络内核参数均为默认值，未加固"), proof)


@host_check("AUD-CE-24")
def banner(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    s = sshd(ev)
    issue = ev.get("file:/etc/issue.net")
    if s is None and issue is None:
        return _no_evidence(ev, Msg("sshd configuration and banner",
                                    "sshd 配置及登录提示信息（banner）"))
    proof = [Evidence("file /etc/issue.net", (issue or "(absent)")[:500], ev.source,
                      "" if issue else "（文件不存在）")]
    path = first(s[0], "banner", "none") if s else "none"
    if path != "none" and issue and issue.strip():
        return ok(ev.host, Msg(f"SSH shows the banner {path}",
                               f"SSH 登录时显示提示信息 {path}"), *proof)
    return bad(ev.host, Msg("no login banner", "未设置登录提示信息（banner）"), *proof)


@host_check("AUD-MC-20")
def log_retention(ev: HostEvidence, f: HostFacts, p: dict[str, Any]) -> Outcome:
    if "logserver" not in f.roles:
        return na(ev.host, Msg("not a log server", "非日志服务器"))
    text = ev.get("file:/etc/logrotate.d/pesdc-remote") or ev.files("/etc/logrotate.d/")
    if text is None:
        return _no_evidence(ev, Msg("log rotation of received logs", "所接收日志的轮转配置"))
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
    return (ok(ev.host, Msg(f"received logs kept {kept} days (at least {need})",
                            f"所接收的日志保存 {kept} 天（要求不少于 {need} 天）"), proof)
            if kept >= need else
            bad(ev.host, Msg(f"received logs kept {kept} days < {need}",
                             f"所接收的日志仅保存 {kept} 天 < {need} 天"), proof))
