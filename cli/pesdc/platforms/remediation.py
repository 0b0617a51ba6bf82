"""The remediation of a line-based vendor CLI: the one diff that both `pesdc render
--against` and `pesdc net plan` compute (hier_config over the normalised texts).

A ``CliSyntax`` says how one CLI displays and negates its configuration; its
``remediation(running, intended)`` is the list of lines that takes a device from the
running to the intended configuration, each section closed with the platform's exit
command, in the form the driver sends them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from hier_config import HConfig, WorkflowRemediation, get_hconfig
from hier_config import Platform as HierPlatform

COMMENT_PREFIXES = ("!", "#")
TRAILERS = ("return", "end")
# A physical port (VRP, Comware, IOS names): it cannot be deleted, only emptied. A
# sub-interface (`.N`), VLAN interface, trunk or loopback is logical and deletable.
PHYSICAL_PORT = (r"^interface (MEth|GigabitEthernet|XGigabitEthernet|Ten-GigabitEthernet|"
                 r"TenGigabitEthernet|FortyGigE|HundredGigE|FastEthernet|M-GigabitEthernet|"
                 r"(10|25|40|100|400)GE)\d+(/\d+)*$")


def strip_comments(lines: Iterable[str],
                   comments: tuple[str, ...] = COMMENT_PREFIXES) -> list[str]:
    """Drop comment lines, blank lines and a trailing return/end."""
    out = [ln.rstrip() for ln in lines
           if ln.strip() and not ln.lstrip().startswith(comments)]
    while out and out[-1].strip() in TRAILERS:
        out.pop()
    return out


def hier_lines(tree: HConfig, exit_cmd: str, indent: int = 1) -> list[str]:
    """A remediation as CLI lines: each section closed with the platform's exit."""
    out: list[str] = []

    def walk(node: Any, depth: int) -> None:
        for child in node.children:
            out.append(" " * (indent * depth) + child.text)
            if child.children:
                walk(child, depth + 1)
                out.append(" " * (indent * (depth + 1)) + exit_cmd)
    walk(tree, 0)
    return out


_PH = re.compile(r"%%PESDC_SECRET:[A-Za-z0-9_.-]+%%")
# How devices show a secret they were given: `password simple X` comes back as
# `password hash ...`, `secret X` as `secret 9 $9$...`, `cipher X` as `cipher @%@%...`.
_SECRET_FORMS = r"(?:simple|cipher|hash|irreversible-cipher|secret|password)(?:\s+\d+)?"
_SECRET_KEYWORD = re.compile(r"(?:^|\s)(simple|cipher|hash|irreversible-cipher|secret|"
                             r"password)\s*$")


def _secret_line_rx(line: str) -> re.Pattern[str]:
    parts = _PH.split(line.strip())
    rx = ""
    for i, part in enumerate(parts):
        if i == len(parts) - 1:
            rx += re.escape(part)
            break
        m = _SECRET_KEYWORD.search(part)
        if m:
            rx += re.escape(part[:m.start(1)]) + _SECRET_FORMS + r"\s+\S+"
        else:
            rx += re.escape(part) + r"\S+"
    return re.compile(r"^(\s*)" + rx + r"\s*$")


def _under(text: str) -> Iterator[tuple[tuple[str, ...], str]]:
    """(section, line) for every line: the lines it is nested under, by indentation."""
    stack: list[tuple[int, str]] = []
    for line in text.splitlines():
        depth = len(line) - len(line.lstrip())
        while stack and stack[-1][0] >= depth:
            stack.pop()
        yield tuple(parent for _, parent in stack), line
        if line.strip():
            stack.append((depth, line.strip()))


def mask_secret_lines(running: str, intended: str) -> str:
    """Where the intended config has a secret placeholder, a running line of the same
    section that differs only in that token (a device shows hashes, never the secret)
    counts as in place: it is rewritten to the intended line so that the diff leaves it
    alone. By section, since every account's `password ...` line has the same shape."""
    patterns: dict[tuple[str, ...], list[tuple[re.Pattern[str], str]]] = {}
    for section, line in _under(intended):
        if _PH.search(line):
            patterns.setdefault(section, []).append((_secret_line_rx(line), line.strip()))
    if not patterns:
        return running
    out = []
    for section, line in _under(running):
        for rx, repl in patterns.get(section, ()):
            m = rx.match(line)
            if m:
                line = m.group(1) + repl
                break
        out.append(line)
    return "\n".join(out) + "\n"


def drop_default_negations(running: str, intended: str, negation: str) -> str:
    """A top-level `undo X`/`no X` in the intended config is satisfied when the running
    configuration has neither it nor `X` (devices do not display disabled defaults)."""
    have = {ln.strip() for ln in running.splitlines() if ln and not ln.startswith(" ")}
    out = []
    for ln in intended.splitlines():
        if ln.startswith(negation + " ") and ln not in have and \
                ln[len(negation) + 1:] not in have:
            continue
        out.append(ln)
    return "\n".join(out) + "\n"




def ports_emptied(lines: list[str], running: HConfig, negation: str, exit_cmd: str,
                  permanent: tuple[str, ...]) -> list[str]:
    """A top-level `undo interface X` of a section that cannot be deleted (a physical
    port) becomes `interface X` with each of its running lines negated (VRP, Comware
    and IOS reject deleting a port; annet's rulebooks empty it the same way). The lines
    are undone last first: a device displays a prerequisite before what rests on it (the
    VPN binding before the address, the address before VRRP), and undoing the binding
    first would already have removed the address. A line that is itself a negation
    (`undo shutdown`, `no ip address`) states a default and stays; a port with nothing
    else needs nothing."""
    rx = [re.compile(p) for p in permanent]
    out: list[str] = []
    for line in lines:
        section = line[len(negation) + 1:] if line.startswith(negation + " ") else ""
        if not section or not any(r.search(section) for r in rx):
            out.append(line)
            continue
        node = running.get_child(equals=section)
        kids = [c.text for c in node.children if not c.text.startswith(negation + " ")] \
            if node is not None else []
        if kids:
            out += [section, *(f" {negation} {k}" for k in reversed(kids)), " " + exit_cmd]
    return out


def comments_dropped(text: str) -> str:
    """A configuration as text without comments, blank lines or trailer."""
    return "\n".join(strip_comments(text.splitlines())) + "\n"


@dataclass(frozen=True)
class CliSyntax:
    """How one CLI is diffed: its hier_config platform, the command that closes a
    section, its negation keyword, and how a displayed configuration is normalised
    (what the device prints that is not configuration: banners, versions, ...)."""

    hier_platform: HierPlatform
    exit_cmd: str
    negation: str
    normalise: Callable[[str], str] = comments_dropped
    # Sections a diff may empty but never delete (regexes on the section's line).
    permanent: tuple[str, ...] = (PHYSICAL_PORT,)

    def hconfig(self, text: str) -> HConfig:
        return get_hconfig(self.hier_platform, self.normalise(text))

    def remediation(self, running: str, intended: str) -> list[str]:
        """The lines that take ``running`` to ``intended``, secrets as placeholders."""
        want_text = self.normalise(intended)
        run = mask_secret_lines(self.normalise(running), want_text)
        want = drop_default_negations(run, want_text, self.negation)
        run_tree = self.hconfig(run)
        wf = WorkflowRemediation(run_tree, self.hconfig(want))
        lines = strip_comments(hier_lines(wf.remediation_config, self.exit_cmd))
        return ports_emptied(lines, run_tree, self.negation, self.exit_cmd, self.permanent)


def noise_dropped(prefixes: tuple[str, ...], whole: tuple[str, ...] = (),
                  comments: tuple[str, ...] = COMMENT_PREFIXES) -> Callable[[str], str]:
    """A normaliser that drops the display lines starting with one of ``prefixes`` or
    reading (stripped) as one of ``whole``, then comments and the trailer."""
    def normalise(text: str) -> str:
        kept = [ln for ln in text.splitlines()
                if not ln.startswith(prefixes) and ln.strip() not in whole]
        return "\n".join(strip_comments(kept, comments)) + "\n"
    return normalise
