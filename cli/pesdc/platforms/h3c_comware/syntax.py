"""How Comware displays its configuration, and the diff of it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hier_config import HConfig, get_hconfig
from hier_config import Platform as HierPlatform
from hier_config.models import IdempotentCommandsRule, MatchRule, NegationDefaultWithRule
from hier_config.platforms.driver_base import HConfigDriverRules
from hier_config.platforms.hp_comware5.driver import HConfigDriverHPComware5

from pesdc.platforms.remediation import CliSyntax, strip_comments

# Commands that hold one value in their view: a new value replaces the old one (no
# `undo` of the old line first), and the `undo` form takes no argument, as Comware
# writes it (`undo description`, `undo password`): `undo description old text` is not
# a Comware command.
_ONE_VALUE = (("interface ", "description "), ("local-user ", "password "),
              ("vlan ", "name "), ("role name ", "description "), ("acl ", "description "))


class _ComwareRules(HConfigDriverHPComware5):
    @staticmethod
    def _instantiate_rules() -> HConfigDriverRules:
        def path(view: str, cmd: str) -> tuple[MatchRule, MatchRule]:
            return MatchRule(startswith=view), MatchRule(startswith=cmd)
        return HConfigDriverRules(
            # `sysname NEW` replaces the old name: never `undo sysname OLD` first (the
            # undo takes no argument; annet's h3c.rul sends the new name alone too).
            idempotent_commands=[IdempotentCommandsRule(
                match_rules=(MatchRule(startswith="sysname "),))]
            + [IdempotentCommandsRule(match_rules=path(v, c)) for v, c in _ONE_VALUE],
            negate_with=[NegationDefaultWithRule(match_rules=path(v, c),
                                                 use=f"undo {c.strip()}")
                         for v, c in _ONE_VALUE])


_DRIVER = _ComwareRules()


def comware_normalise(text: str) -> str:
    """A Comware `display current-configuration` as hier_config can read it.

    Comware prints global commands with one leading space after a `#` line and
    sections (vlan, interface, ospf, ...) at column 0; hier_config's HP_COMWARE5
    driver has no rule for that and rejects the repeated `#`. Drop the `#` lines and
    dedent the global blocks; rendered configurations are already in this form.
    """
    out: list[str] = []
    global_block = False
    after_hash = True
    for line in text.splitlines():
        if line.strip() == "#":
            after_hash = True
            global_block = False
            continue
        if after_hash:
            global_block = line.startswith(" ") and not line.startswith("  ")
            after_hash = False
        out.append(line[1:] if global_block and line.startswith(" ") else line)
    return "\n".join(out) + "\n"


def _normalise(text: str) -> str:
    lines = [ln for ln in comware_normalise(text).splitlines()
             if not ln.startswith("version ")]  # the software release, not config
    return "\n".join(strip_comments(lines)) + "\n"


_PLACEHOLDER = re.compile(r"%%PESDC_SECRET:[A-Za-z0-9_.-]+%%")


def keys_as_given(running: str, intended: str) -> str:
    """Comware displays keys given in plaintext (`simple K`) as ciphertext (`cipher C`):
    an SNMPv3 user line reads `... cipher authentication-mode sha C1 privacy-mode aes128
    C2`. A running line that differs from an intended one only so (the keyword and the
    secret tokens) counts as that intended line; otherwise every diff would re-create
    the user and no post-check could pass."""
    wanted: list[tuple[re.Pattern[str], str]] = []
    for line in intended.splitlines():
        if " simple " not in line or not _PLACEHOLDER.search(line):
            continue
        shape = "".join(r"\S+" if _PLACEHOLDER.fullmatch(part) else
                        re.escape(part).replace("simple", "(?:simple|cipher)")
                        for part in re.split(f"({_PLACEHOLDER.pattern})", line.strip()))
        wanted.append((re.compile(r"^(\s*)" + shape + r"\s*$"), line.strip()))
    out = []
    for line in running.splitlines():
        for rx, given in wanted:
            if m := rx.match(line):
                line = m.group(1) + given
                break
        out.append(line)
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class ComwareSyntax(CliSyntax):
    """Comware's diff: hier_config's HP Comware driver with the one-value rules above,
    keys displayed as ciphertext read as the plaintext they were given in."""

    def hconfig(self, text: str) -> HConfig:
        return get_hconfig(_DRIVER, self.normalise(text))

    def remediation(self, running: str, intended: str) -> list[str]:
        shown = keys_as_given(self.normalise(running), self.normalise(intended))
        return super().remediation(shown, intended)


COMWARE = ComwareSyntax(HierPlatform.HP_COMWARE5, "quit", "undo", _normalise)
