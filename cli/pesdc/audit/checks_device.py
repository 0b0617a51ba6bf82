"""Audit checks on network gear configurations (kinds: rendered, device).

The norms and the verdicts are here; where a platform writes each setting is its
dialect's (``pesdc/platforms/<name>/dialect.py``), asked through ``dialect_of``. A
platform without one is an error on each of its devices, never read in another's syntax.

``rendered`` rules read the rendered configuration of every platform (vendor gear is
never run here); ``device`` rules read the configuration of Linux gear as it runs in
the lab (``nft list ruleset``) when evidence was collected, the rendered one otherwise.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pesdc.audit.checks_host import uncommented
from pesdc.audit.registry import (
    AuditContext,
    DeviceEvidence,
    bad,
    check,
    device_check,
    error,
    na,
    ok,
    on_fallback,
    part,
)
from pesdc.audit.result import Evidence, Msg, Outcome
from pesdc.platforms import PlatformError, dialect_of, kind_of
from pesdc.platforms.dialect import FILTERS, Dialect, Finding, excerpt


def _dialect(ev: DeviceEvidence) -> Dialect | Outcome:
    """The device's platform dialect, or an error outcome naming the platform: a
    configuration is never read in another platform's syntax."""
    try:
        return dialect_of(ev.platform)
    except PlatformError as exc:
        return error(ev.name, Msg(f"not judged: {exc}", f"无法判定：{exc}"))


def _per_vendor(ctx: AuditContext, what: Msg, judge: Any,
                patterns: list[str]) -> list[Outcome]:
    """``judge(ev, dialect, text) -> (Status, Msg)`` on each device that manages itself."""
    out: list[Outcome] = []
    for ev in (ctx.devices.get(d.name) for d in ctx.dc.devices):
        if ev is None:
            continue
        dialect = _dialect(ev)
        if isinstance(dialect, Outcome):
            out.append(dialect)
            continue
        if not dialect.manages_itself:
            gap = " " if what.zh[:1].isascii() else ""  # between Chinese and Latin text
            out.append(na(ev.name, Msg(
                f"Linux gear: {what.en} is the host's (sshd, rsyslog, chrony), not a rendered "
                "device setting",
                f"Linux 设备的{gap}{what.zh}由主机自身配置（sshd、rsyslog、chrony）实现，"
                "不属于渲染的设备配置，本项不适用")))
            continue
        text = ev.text
        status, message = judge(ev, dialect, text)
        # The lines quoted are cut when the quote is read (audit --all reads none).
        proof = Evidence.later(f"{ev.source} configuration ({ev.platform})",
                               _quote(text, tuple(patterns)), ev.source)
        out.append(Outcome(ev.name, status, message, [proof]))
    return out


def _quote(text: str, patterns: tuple[str, ...]) -> Any:
    """The quote of :func:`_per_vendor`: the lines matching, or a note that none do."""
    def make() -> tuple[str, str]:
        lines = _excerpt(text, patterns)
        return (lines, "") if lines else ("(no matching line)", "（配置中无相关行）")
    return make


def _excerpt(text: str, patterns: tuple[str, ...], limit: int = 40) -> str:
    """``dialect.excerpt`` (the lines matching any pattern), found faster: when every
    pattern is a plain word (letters, digits, spaces, hyphens, a leading ``^`` that
    excerpt drops), a line matches exactly when it holds one of the words in any case,
    which ``str.find`` sees much faster than excerpt's case-blind ``^.*(?:...).*$``
    scan of every line. Any other pattern, or a text :func:`lines_with` cannot read,
    falls back to ``excerpt``."""
    words = _words(patterns)
    lines = None if words is None else lines_with(text, words)
    if lines is None:
        return excerpt(text, list(patterns), limit)
    return "\n".join(lines[:limit])


@lru_cache(maxsize=64)
def _words(patterns: tuple[str, ...]) -> tuple[str, ...] | None:
    if not all(_PLAIN.fullmatch(p) for p in patterns):
        return None
    return tuple(p.lstrip("^").lower() for p in patterns)


_PLAIN = re.compile(r"\^?[A-Za-z0-9_ -]+")
# The characters re.IGNORECASE matches to an ASCII letter that str.lower() does not
# turn into it (İ, ı, ſ; found by trying every code point): in a text holding one, a
# word found in the lower-cased text is not the same as a case-blind match.
_FOLDS = ("\u0130", "\u0131", "\u017f")


def lines_with(text: str, words: tuple[str, ...], low: str | None = None) -> list[str] | None:
    """The lines of ``text`` (split at "\\n") that hold one of the lower-case ASCII
    ``words`` in any case, in order; None when the text holds a character for which
    that is not what ``re.IGNORECASE`` would match (the caller then reads it so).
    ``low``: ``text.lower()``, when the caller has it already."""
    if not text.isascii() and any(c in text for c in _FOLDS):
        return None
    # position for position: only İ lower-cases to two characters
    low = text.lower() if low is None else low
    starts: set[int] = set()
    for w in words:
        i = low.find(w)
        while i >= 0:
            starts.add(low.rfind("\n", 0, i) + 1)
            end = low.find("\n", i)
            if end < 0:
                break
            i = low.find(w, end + 1)  # the rest of this line is taken already
    out = []
    for start in sorted(starts):
        end = text.find("\n", start)
        out.append(text[start:] if end < 0 else text[start:end])
    return out


# What lets remote management in other than SSH v2 (Dialect.remote_access_gaps).
ACCESS_GAPS = {
    "telnet": Msg("telnet not disabled", "未关闭 telnet"),
    "http": Msg("HTTP management not disabled", "未关闭 HTTP 管理"),
    "ssh": Msg("SSH v2 not enabled", "未启用 SSH v2"),
    "more than SSH": Msg("a vty accepts more than SSH", "有 vty 接受 SSH 以外的协议"),
    "telnet on a vty": Msg("a vty accepts telnet", "有 vty 接受 telnet 登录"),
}


@check("AUD-MC-10")
def ssh_only(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    from pesdc.audit.result import Status

    def judge(ev: DeviceEvidence, dialect: Dialect, text: str) -> tuple[Status, Msg]:
        problems = [ACCESS_GAPS[g] for g in dialect.remote_access_gaps(text)]
        return ((Status.failed, Msg.join(problems)) if problems else
                (Status.passed, Msg("SSH v2 only; telnet and HTTP off",
                                    "仅允许 SSH v2 远程管理；telnet 与 HTTP 已关闭")))

    return _per_vendor(ctx, Msg("remote management", "远程管理方式"), judge,
                       [r"telnet", r"http", r"ssh", r"transport input", r"protocol inbound",
                        r"web-manager"])


@check("AUD-MC-11")
def device_syslog(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    from pesdc.audit.result import Status

    def judge(ev: DeviceEvidence, dialect: Dialect, text: str) -> tuple[Status, Msg]:
        hosts = dialect.log_hosts(text)
        good = [h for h in hosts if h in ev.log_servers]
        if good:
            dest = ", ".join(good)
            return Status.passed, Msg(f"logs to {dest}", f"日志发送至日志服务器 {dest}")
        if hosts:
            dest = ", ".join(hosts)
            return Status.failed, Msg(f"logs to {dest}, not the center's log server",
                                      f"日志发送至 {dest}，而非本中心的日志服务器")
        return Status.failed, Msg("no syslog host", "未配置 syslog 日志服务器")

    return _per_vendor(ctx, Msg("logging", "日志外发"), judge, [r"loghost", r"^logging"])


@check("AUD-MC-12")
def device_ntp(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    from pesdc.audit.result import Status

    def judge(ev: DeviceEvidence, dialect: Dialect, text: str) -> tuple[Status, Msg]:
        hosts = dialect.time_sources(text)
        good = [h for h in hosts if h in ev.time_sources]
        if good:
            src = ", ".join(good)
            return Status.passed, Msg(f"time from {src}", f"时间同步自本中心时间源 {src}")
        if hosts:
            src = ", ".join(hosts)
            return Status.failed, Msg(f"time from {src}, not the center's source",
                                      f"时间同步自 {src}，而非本中心的时间源")
        return Status.failed, Msg("no NTP server", "未配置 NTP 服务器")

    return _per_vendor(ctx, Msg("time", "时间同步"), judge, [r"ntp"])


@check("AUD-MC-13")
def device_admins(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    from pesdc.audit.result import Status

    def judge(ev: DeviceEvidence, dialect: Dialect, text: str) -> tuple[Status, Msg]:
        missing = [n for n in ev.admins.values() if not dialect.has_account(text, n)]
        if missing:
            who = ", ".join(missing)
            return Status.failed, Msg(f"no account for {who}", f"未为 {who} 建立设备账户")
        return Status.passed, Msg("system, audit and security administrators separate",
                                  "系统管理员、审计管理员、安全管理员分设账户")

    return _per_vendor(ctx, Msg("administrator accounts", "管理员账户"), judge,
                       [r"local-user", r"manager-user", r"^username", r"role"])


@check("AUD-MC-14")
def device_lockout(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    from pesdc.audit.result import Status

    attempts = int(p.get("login_fail_attempts", 5))
    idle = int(p.get("idle_timeout_minutes", 10))

    def judge(ev: DeviceEvidence, dialect: Dialect, text: str) -> tuple[Status, Msg]:
        locks = dialect.lockout_attempts(text)
        idles = dialect.idle_timeouts(text)
        problems = []
        if not locks or max(locks) > attempts:
            problems.append(Msg(
                f"lockout after {max(locks) if locks else 'unlimited'} failures "
                f"(at most {attempts})",
                (f"登录失败 {max(locks)} 次后才锁定" if locks else "未配置登录失败锁定")
                + f"（要求不超过 {attempts} 次）"))
        if not idles or max(idles) > idle or min(idles) == 0:
            problems.append(Msg(f"idle timeout {idles or 'none'} min (at most {idle})",
                                (f"会话超时 {idles} 分钟" if idles else "未设置会话超时")
                                + f"（要求不超过 {idle} 分钟且不为 0）"))
        if not problems:
            return Status.passed, Msg(
                f"lockout after {max(locks)}, idle timeout {max(idles)} min",
                f"登录失败 {max(locks)} 次后锁定，会话超时 {max(idles)} 分钟")
        ok_parts = 2 - len(problems)
        return (Status.partial if ok_parts else Status.failed), Msg.join(problems)

    return _per_vendor(ctx, Msg("login lockout", "登录失败处理与会话超时"), judge,
                       [r"retry-time", r"failed-count", r"login-attempt", r"block-for",
                        r"idle-timeout", r"exec-timeout"])


@check("AUD-MC-15")
def device_snmp(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    from pesdc.audit.result import Status

    def judge(ev: DeviceEvidence, dialect: Dialect, text: str) -> tuple[Status, Msg]:
        state = dialect.snmp(text)
        if state == "community":
            return Status.failed, Msg("an SNMP community (v1/v2c) is configured",
                                      "配置了 SNMP 团体名（v1/v2c，明文鉴别）")
        if state == "off":
            return Status.passed, Msg("SNMP off", "SNMP 未启用")
        if state == "v3 privacy":
            return Status.passed, Msg("SNMPv3 with authentication and privacy",
                                      "使用 SNMPv3，启用认证和加密")
        return Status.failed, Msg("SNMP without v3 privacy", "SNMP 未使用 v3 加密（privacy）")

    return _per_vendor(ctx, Msg("SNMP", "SNMP 管理"), judge, [r"snmp"])


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
    low = text.lower()
    if not any(w in low for w in ("password", "secret", "psk", "pre-shared", "community")):
        return []
    # A comment line (# or ! first) never holds a hit, so the text without its '#'
    # comment lines (their line breaks kept) has the same hits: the servers of a center,
    # whose files differ in their header comment only, share one reading.
    return list(_secrets_of(uncommented(text)))


@lru_cache(maxsize=1024)
def _secrets_of(text: str) -> tuple[str, ...]:
    hits: list[str] = []
    low = text.lower()
    if not any(w in low for w in ("password", "secret", "psk", "pre-shared", "community")):
        return ()
    for line in _secret_lines(text, low):
        if line.lstrip().startswith(("#", "!")):
            continue
        for m in SECRET.finditer(line):
            value = m.group(1) or m.group(2) or ""
            if not value or SECRET_OK.match(value) or value.isdigit():
                continue
            hits.append(line.strip().replace(value, "****"))
    return tuple(hits)


# Line breaks other than "\n" that str.splitlines() also splits at.
_OTHER_BREAKS = re.compile("[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_ASCII_BREAKS = "\r\v\f\x1c\x1d\x1e"  # the others are not ASCII


def _other_breaks(text: str) -> bool:
    """Whether ``text`` holds one of _OTHER_BREAKS (an ASCII text: one of the ASCII
    ones, each found by a plain scan rather than the pattern's)."""
    if text.isascii():
        return any(c in text for c in _ASCII_BREAKS)
    return _OTHER_BREAKS.search(text) is not None


# Every match of SECRET holds one of these (any case).
_SECRET_WORDS = ("password", "secret", "pre-shared-key", "psk", "community")


def _secret_lines(text: str, low: str) -> list[str]:
    """The lines of ``text`` (as ``splitlines``) SECRET may match in: those that hold
    one of its words (SECRET never matches across a line). A text with other line
    breaks than "\\n", or one :func:`lines_with` cannot read, is read line by line."""
    lines = None if _other_breaks(text) else lines_with(text, _SECRET_WORDS, low)
    return text.splitlines() if lines is None else lines


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
        out.append(bad(target, Msg(f"{len(hits)} literal secret(s)",
                                   f"{len(hits)} 处明文口令或密钥"),
                       Evidence("rendered files", "\n".join(hits[:20]), "rendered"))
                   if hits else ok(target, Msg("secrets are markers only",
                                               "口令与密钥均为占位标记，无明文")))
    return out


# -- device rules: rendered config, or the running config of Linux gear ----------------

def _no_filter(platform: str) -> Msg:
    return Msg(f"{platform} does not filter between zones", f"{platform} 不在区域间过滤流量")


def _permits_everything(ev: DeviceEvidence, dialect: Dialect) -> str:
    """A permit, read back from the configuration, that lets any traffic through: with
    it, the default deny never applies ("" when there is none)."""
    from pesdc.render.readback import ANY, peek_with

    if dialect.policy is None:
        return ""
    read = peek_with(dialect.policy, ev.files)  # only read: the shared reading
    return next((str(x) for x in read.permits
                 if x.src == (ANY,) and x.dst == (ANY,) and x.protocol == "any"), "")


def _everything(permit: str) -> Msg:
    return Msg(f"a rule permits everything ({permit}): the default deny never applies",
               f"有规则放行一切流量（{permit}），默认拒绝形同虚设")


# What a dialect read (Finding.reason), in words.
FINDINGS = {
    # AUD-AB-10
    "forward chain policy drop": Msg(
        "forward chain policy drop: everything not allowed is dropped",
        "forward 链策略为 drop：未允许的流量一律丢弃（默认拒绝）"),
    "forward chain accepts by default": Msg("forward chain does not drop by default",
                                            "forward 链未设置默认丢弃（未默认拒绝）"),
    "final deny rule": Msg("a final deny rule drops everything not allowed",
                           "末条拒绝规则丢弃一切未允许的流量（默认拒绝）"),
    "no final deny rule": Msg("no final deny rule", "缺少末条默认拒绝规则"),
    # AUD-AB-11
    "connection tracking": Msg("connection tracking: replies accepted, invalid dropped",
                               "启用连接跟踪：放行回应报文，丢弃无效报文"),
    "replies by state, invalid kept": Msg(
        "replies accepted by state, invalid packets not dropped",
        "按连接状态放行回应报文，但未丢弃无效报文"),
    "no connection state": Msg("no connection-state rules", "无基于连接状态的规则"),
    "session table": Msg("security-policy in place; the firewall matches packets against "
                         "its session table first (stateful)",
                         "已配置 security-policy，报文先匹配会话表（状态检测）"),
    "no security-policy section": Msg(
        "no security-policy section: nothing filters by session",
        "未配置 security-policy 安全策略：无基于会话的过滤"),
    "session state check off": Msg("the TCP session state check is switched off",
                                   "TCP 会话状态检查已被关闭"),
    "inspect": Msg("zone-based firewall with inspect (stateful)",
                   "基于区域的防火墙启用 inspect（状态检测）"),
    "no inspect": Msg("no inspect policy", "未配置 inspect 状态检测策略"),
    # AUD-AB-12
    "input chain accepts by default": Msg("input chain accepts by default", "input 链默认放行"),
    "ssh from the management networks": Msg(
        "SSH accepted only from the management networks", "仅接受来自安全管理区网段的 SSH 连接"),
    "ssh not limited": Msg("SSH not limited to the management networks",
                           "SSH 未限定为仅来自安全管理区网段"),
    "management ACL": Msg("management ACL limited to the management networks",
                          "管理访问控制列表限定为安全管理区网段"),
    "management ACL without the networks": Msg(
        "a management ACL, but not naming the management networks",
        "配置了管理访问控制列表，但未限定安全管理区网段"),
    "no management ACL": Msg("no ACL on the management lines", "管理线路未配置访问控制列表"),
}


def _proof(ev: DeviceEvidence, finding: Finding) -> list[Evidence]:
    p = finding.proof  # its lines are cut when the quote is read
    return [Evidence.later(f"{ev.source} {p.label}", lambda: (p.text, ""), ev.source)] \
        if p else []


def _outcome(ev: DeviceEvidence, finding: Finding) -> Outcome:
    judge = {"passed": ok, "partial": part, "failed": bad}[finding.verdict]
    return judge(ev.name, FINDINGS[finding.reason], *_proof(ev, finding))


@device_check("AUD-AB-10")
def default_deny(ev: DeviceEvidence, p: dict[str, Any]) -> Outcome | None:
    if ev.kind not in FILTERS:
        return None
    dialect = _dialect(ev)
    if isinstance(dialect, Outcome):
        return dialect
    finding = dialect.default_deny(ev.text)
    if finding is None:
        return na(ev.name, _no_filter(ev.platform))
    if catch_all := _permits_everything(ev, dialect):
        return bad(ev.name, _everything(catch_all), *_proof(ev, finding))
    return _outcome(ev, finding)


@device_check("AUD-AB-11")
def stateful(ev: DeviceEvidence, p: dict[str, Any]) -> Outcome | None:
    if ev.kind not in FILTERS:
        return None
    dialect = _dialect(ev)
    if isinstance(dialect, Outcome):
        return dialect
    finding = dialect.stateful(ev.text)
    return na(ev.name, _no_filter(ev.platform)) if finding is None else _outcome(ev, finding)


@device_check("AUD-AB-12")
def mgmt_access(ev: DeviceEvidence, p: dict[str, Any]) -> Outcome | None:
    dialect = _dialect(ev)
    if isinstance(dialect, Outcome):
        return dialect
    finding = dialect.mgmt_access(ev.text, ev.kind, ev.mgmt_nets)
    return None if finding is None else _outcome(ev, finding)


# -- the rendered policy read back: what the configuration permits, rule for rule ------

def _expected_policy(ctx: AuditContext) -> Any:
    """Per device, the context its template gets: the rules and relays it carries (the
    one static_evidence rendered it from, else derived here as render derives it)."""
    from pesdc.render.context import device_context

    facts = ctx.center_facts

    def context_of(dev: Any) -> Any:
        given = ctx.device_contexts.get(dev.name)
        return given if given is not None else device_context(facts, dev, kind_of(dev))
    return context_of


def _policy_quote(diffs: list[Any], read: Any) -> Any:
    """AUD-AB-13's quote, cut when read: the differences, else the permits read back
    (the shared reading, never edited, so the same when the quote is read later)."""
    def make() -> tuple[str, str]:
        return ("\n".join(d.en for d in diffs[:30]) or
                "\n".join(str(x) for x in (read.permits if read else [])[:60]), "")
    return make


@check("AUD-AB-13")
def permits_are_the_policy(ctx: AuditContext, p: dict[str, Any]) -> list[Outcome]:
    """The permits parsed from each firewall's and gatekeeper's configuration (rendered,
    or running on Linux gear) equal the normalised zone policy, rule for rule."""
    from pesdc.render.readback import READERS, peek_back, policy_differences

    context_of = _expected_policy(ctx)
    out: list[Outcome] = []
    for dev in ctx.dc.devices:
        ev = ctx.devices.get(dev.name)
        if ev is None:
            continue
        if ev.error:
            out.append(error(ev.name, Msg(f"no evidence, not judged: {ev.error}",
                                          f"未能取得证据，无法判定：{ev.error}")))
            continue
        if ev.refused:  # render refused the device: say why, never judge empty text
            out.append(bad(ev.name, Msg(
                "render refused this device: " + "; ".join(ev.refused[:3]),
                "渲染拒绝生成该设备的配置：" + "；".join(ev.refused[:3])),
                Evidence("render problems", "\n".join(ev.refused), ev.source)))
            continue
        kind = kind_of(dev).name
        if kind not in READERS:
            if ev.kind in FILTERS:
                out.append(na(ev.name, _no_filter(ev.platform)))
            continue
        diffs = policy_differences(kind, ev.kind, ev.files, context_of(dev))
        if diffs is None:
            continue  # a switch or router that renders no zone policy
        read = peek_back(kind, ev.files)  # only read: the shared reading
        n = len(read.permits) if read else 0
        proof = Evidence.later(f"{ev.source} policy read back from {READERS[kind].file}",
                               _policy_quote(diffs, read), ev.source)
        if diffs:
            shown = diffs[:5]
            more = len(diffs) - len(shown)
            tail = Msg(f"; {more} more", f"；另有 {more} 处") if more else Msg("", "")
            res = bad(ev.name, Msg(
                f"{len(diffs)} difference(s) from the policy: ", f"与规范化策略有 {len(diffs)} "
                "处不一致：") + Msg.join(Msg(d.en, d.zh) for d in shown) + tail, proof)
        else:
            res = ok(ev.name, Msg(
                f"the {n} permit(s) in the configuration are the policy's, rule for rule",
                f"配置中的 {n} 条放行规则与规范化策略逐条一致"), proof)
        out.append(on_fallback(ev, res) or res)
    return out
