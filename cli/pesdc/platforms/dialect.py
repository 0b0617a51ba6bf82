"""How the audit reads one platform's configuration: its dialect.

The audit's device checks (audit/checks_device.py) hold the norms and word the
verdicts; a dialect only says where this platform writes each fact and reads it from
the text: whether telnet and HTTP are off, which log and time servers it names, the
accounts, the lockout and idle timeout, SNMP, the default deny, stateful filtering and
the management ACL. ``Dialect`` reads a line-based vendor CLI from patterns a
platform sets; a platform whose configuration is of another shape (nftables) overrides
the readings.

A reading that is a judgement (default deny, stateful, management ACL) comes back as a
``Finding``: the verdict, a ``reason`` the audit words (its messages are keyed by it),
and the lines it rests on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pesdc.render.readback import Reader

Verdict = Literal["passed", "partial", "failed"]
FILTERS = ("firewall", "gatekeeper")  # device kinds that filter between zones


class Proof:
    """The lines a finding rests on: ``label`` says what they are ("configuration",
    "nftables forward chain", ...), ``text`` is them. ``text`` may be given as a
    function of no arguments that cuts them from the configuration the finding read:
    it runs when the text is first asked for (``audit --all`` never asks), once."""

    __slots__ = ("_make", "_text", "label")

    def __init__(self, label: str, text: str | Callable[[], str]) -> None:
        self.label = label
        self._make: Callable[[], str] | None = None
        if callable(text):
            self._text, self._make = "", text
        else:
            self._text = text

    @property
    def text(self) -> str:
        if self._make is not None:
            self._text, self._make = self._make(), None
        return self._text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Proof):
            return NotImplemented
        return (self.label, self.text) == (other.label, other.text)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Proof(label={self.label!r}, text={self.text!r})"


@dataclass(frozen=True)
class Finding:
    verdict: Verdict
    reason: str  # a key of the audit's messages: what was read
    proof: Proof | None = None


def has(text: str, pattern: str) -> bool:
    """Whether the text has a line matching; an empty pattern (a setting the dialect
    does not know how to read) never matches, so its check fails rather than passes."""
    if not pattern:
        return False
    split = _indented_lead(pattern) if text.isascii() else None
    if split is None:
        return re.search(pattern, text, re.MULTILINE | re.IGNORECASE) is not None
    lead, rest = split
    return _has_indented(text, lead, rest)


_INDENTED = re.compile(r"\^\\s\*([A-Za-z0-9_ -]+)")


@lru_cache(maxsize=64)
def _indented_lead(pattern: str) -> tuple[str, re.Pattern[str]] | None:
    """For a pattern ``^\\s*LEAD...`` (LEAD plain text no quantifier follows, every
    ``|`` inside parentheses, no flags or look-arounds of its own): LEAD lower-cased
    and the pattern after ``^\\s*``, compiled as :func:`has` compiles the whole."""
    m = _INDENTED.match(pattern)
    if m is None or "(?" in pattern or pattern[m.end():m.end() + 1] in ("*", "+", "?", "{"):
        return None
    depth, escaped = 0, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return None
        elif ch == "[":
            return None  # a character set could hold parentheses: not worth reading
    rest = pattern[len("^\\s*"):]
    return m.group(1).lower(), re.compile(rest, re.MULTILINE | re.IGNORECASE)


def _has_indented(text: str, lead: str, rest: re.Pattern[str]) -> bool:
    """``re.search("^\\s*" + rest, text, M | I)`` for an ASCII text: a match holds LEAD
    where ``rest`` matches, with only white space between its line's start and it
    (``\\s*`` may take more lines, but then that line's start matches too), so only the
    places LEAD is found (case-blind: ASCII lower-cases letter for letter) are tried."""
    low = text.lower()
    i = low.find(lead)
    while i >= 0:
        start = text.rfind("\n", 0, i) + 1
        if (start == i or text[start:i].isspace()) and rest.match(text, i):
            return True
        i = low.find(lead, i + 1)
    return False


def found(pattern: str, text: str) -> list[str]:
    """Every first group of the pattern in the text (none for an empty pattern)."""
    if not pattern:
        return []
    lead = _line_lead(pattern)
    if lead is None:
        return re.findall(pattern, text, re.MULTILINE)
    return _found_at_lines(re.compile(pattern, re.MULTILINE), lead, text)


_PLAIN_LEAD = re.compile(r"\^([A-Za-z0-9_ -]+)")


@lru_cache(maxsize=64)
def _line_lead(pattern: str) -> str | None:
    """The text every match of a ``^``-anchored pattern starts with, when it starts with
    plain text (letters, digits, spaces, hyphens, underscores) after the ``^`` that no
    quantifier follows, and has no alternative (``|``) and no flags of its own; None
    otherwise (the pattern is then searched for everywhere)."""
    m = _PLAIN_LEAD.match(pattern)
    if m is None or "(?" in pattern or "|" in pattern:
        return None
    if pattern[m.end():m.end() + 1] in ("*", "+", "?", "{"):
        return None
    return m.group(1)


def _found_at_lines(rx: re.Pattern[str], lead: str, text: str) -> list[str]:
    """``rx.findall(text)`` for a MULTILINE pattern that starts with ``^`` and then
    ``lead``: a match can only begin at a line start where ``lead`` follows, so only
    those are tried (left to right, each after the end of the previous match), where
    findall tries every position of the text."""
    out: list[Any] = []
    end = 0
    starts = [0] if text.startswith(lead) else []
    needle = "\n" + lead
    i = text.find(needle)
    while i >= 0:
        starts.append(i + 1)
        i = text.find(needle, i + 1)
    for pos in starts:
        if pos < end:
            continue
        m = rx.match(text, pos)
        if m is None:
            continue
        groups = m.groups("")  # as findall gives a group that did not take part
        out.append(m.group(0) if not groups else groups[0] if len(groups) == 1 else groups)
        end = m.end() if m.end() > m.start() else m.end() + 1
    return out


def excerpt(text: str, patterns: list[str], limit: int = 40) -> str:
    """The lines matching any pattern (one compiled pass over the text)."""
    alt = "|".join(f"(?:{p.lstrip('^')})" for p in patterns)
    lines = re.findall(rf"^.*(?:{alt}).*$", text, re.MULTILINE | re.IGNORECASE)
    return "\n".join(lines[:limit])


class Dialect:
    """A line-based vendor CLI. A platform subclasses it and sets its patterns; a
    pattern left None means the platform has no such setting (the check does not
    apply, never a match in another platform's syntax)."""

    # Management (AUD-MC-10..15) is set in the device's own configuration; False on
    # gear whose management is its host's (sshd, rsyslog, chrony), judged there.
    manages_itself: bool = True
    telnet_off: str = ""
    http_off: str = ""
    ssh_v2: str = ""
    # A vty line that lets in more than SSH, and what it lets in (a message key).
    vty_open: tuple[str, str] = (r"^\s*protocol inbound (all|telnet)", "telnet on a vty")
    log_host: str = ""  # one group: the address
    ntp_server: str = ""  # one group: the address
    account: str = r"^\s*(local-user|manager-user|username)\s+{name}\b"
    login_attempts: str = ""  # one group: failures before lockout
    idle_timeout: str = r"idle-timeout (\d+)"  # one group: minutes
    snmp_community: str = r"^\s*snmp-(agent|server) community"
    snmp_privacy: str = r"(v3 .*privacy|v3 priv|privacy-mode)"
    # The final rule that denies what no permit allowed (None: no zone filtering).
    final_deny: str | None = None
    # A line that puts an ACL on the management lines (None: no such ACL).
    mgmt_acl: str | None = None
    # The policy reader of its filtering devices' configuration.
    policy: Reader | None = None

    # -- management -------------------------------------------------------------------
    def remote_access_gaps(self, text: str) -> list[str]:
        """What lets remote management in other than SSH v2: telnet, http, ssh (not
        enabled), or the vty_open key."""
        gaps = [name for name, rx in (("telnet", self.telnet_off), ("http", self.http_off),
                                      ("ssh", self.ssh_v2)) if not has(text, rx)]
        if has(text, self.vty_open[0]):
            gaps.append(self.vty_open[1])
        return gaps

    def log_hosts(self, text: str) -> list[str]:
        return found(self.log_host, text)

    def time_sources(self, text: str) -> list[str]:
        return found(self.ntp_server, text)

    def has_account(self, text: str, name: str) -> bool:
        return has(text, self.account.format(name=re.escape(name)))

    def lockout_attempts(self, text: str) -> list[int]:
        return [int(x) for x in found(self.login_attempts, text)]

    def idle_timeouts(self, text: str) -> list[int]:
        return [int(x) for x in found(self.idle_timeout, text)]

    def snmp(self, text: str) -> Literal["community", "off", "v3 privacy", "no privacy"]:
        if has(text, self.snmp_community):
            return "community"
        if not has(text, r"snmp"):
            return "off"
        return "v3 privacy" if has(text, self.snmp_privacy) else "no privacy"

    # -- filtering ----------------------------------------------------------------------
    def default_deny(self, text: str) -> Finding | None:
        """Whether what no permit allows is denied (None: it does not filter). A permit
        of everything is the audit's to find, from the policy read back."""
        if self.final_deny is None:
            return None
        proof = Proof("configuration", lambda: excerpt(text, [
            r"default-deny", r"action (deny|drop)", r"class-default", r"^\s+drop"]))
        if re.search(self.final_deny, text):
            return Finding("passed", "final deny rule", proof)
        return Finding("failed", "no final deny rule", proof)

    def stateful(self, text: str) -> Finding | None:
        """Whether filtering follows connections (None: it does not filter)."""
        return None

    def mgmt_access(self, text: str, device_kind: str,
                    mgmt_nets: list[str]) -> Finding | None:
        """Whether management reaches the device only from the management networks
        (None: not the device's to decide)."""
        if self.mgmt_acl is None:
            return None
        proof = Proof("configuration", lambda: excerpt(text, [
            r"acl", r"access-class", r"permit (source|\d)", r"ip access-list"]))
        nets_ok = any(n.split("/")[0] in text for n in mgmt_nets)
        if has(text, self.mgmt_acl) and nets_ok:
            return Finding("passed", "management ACL", proof)
        if has(text, self.mgmt_acl):
            return Finding("partial", "management ACL without the networks", proof)
        return Finding("failed", "no management ACL", proof)


# The top-level section that holds a USG or Comware firewall's security policy: both
# match a packet's session first, so with the section in place filtering is stateful,
# unless the session state check has been switched off.
STATE_CHECK_OFF = r"^undo firewall session link-state"


def session_policy(text: str, section_rx: str) -> Finding:
    """Stateful by session table: the security-policy section, no state check off."""
    section = re.search(section_rx, text, re.M)
    off = re.search(STATE_CHECK_OFF, text, re.M)

    def lines() -> str:
        return "\n".join(ln for ln in text.splitlines() if re.match(section_rx, ln)
                         or re.match(STATE_CHECK_OFF, ln)) or "(no security-policy section)"

    proof = Proof("configuration: policy section and session state lines", lines)
    if section is None:
        return Finding("failed", "no security-policy section", proof)
    if off is not None:
        return Finding("failed", "session state check off", proof)
    return Finding("passed", "session table", proof)
