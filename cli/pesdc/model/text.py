"""What a string in a topology may hold: data, never structure.

Rendered files are line-oriented (device CLIs, nftables, sshd_config, shell), so one
line break in a description would be one more command on a border firewall. Every
string of the schema is therefore one printable line: no control characters (C0, C1,
DEL), no line or paragraph separators, no format characters (bidi overrides hide text
from a reviewer), no surrogates, private-use or unassigned code points. Identifiers
are stricter still: one pattern every platform accepts as a name.

The check is applied twice: each field's own type (``Text``/``Name``/...) gives its
bound, and the schema base class applies the one-line rule to every string field of
every model, so a field added later is covered without anyone remembering to.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError


def N_(message: str) -> str:
    """pesdc.i18n's marker (not imported: the schema built from this module is imported
    by pesdc.i18n)."""
    return message


# Unicode general categories that never belong in a one-line value.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
# The longest string any field may hold (a field's own type may say less).
MAX_TEXT = 1024

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
NAME_RULE = N_("letters, digits, '.', '_' and '-', starting with a letter or digit, "
             "at most 63 characters")
# Vendor interface names carry slashes (GigabitEthernet0/0/1, Eth-Trunk1.100); a colon
# is left out because a peer is written "device:interface".
IFNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9/._-]*$"
IFNAME_RULE = N_("letters, digits, '/', '.', '_' and '-', starting with a letter or digit, "
               "at most 63 characters")
PEER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*(:[A-Za-z0-9][A-Za-z0-9/._-]*)?$"
PEER_RULE = N_("'device' or 'device:interface' (names as for devices and interfaces)")
# Something in another center of the tree: "center/name" (a server, a system, an uplink).
REMOTE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$"
REMOTE_RULE = N_("'center/name' (a center of the tree, then a name in it)")
# Pattern -> what to tell the user when a value does not match it.
PATTERN_RULES = {NAME_PATTERN: NAME_RULE, IFNAME_PATTERN: IFNAME_RULE,
                 PEER_PATTERN: PEER_RULE, REMOTE_PATTERN: REMOTE_RULE}


# Control characters have no Unicode name; these are the ones people meet.
_CONTROL_NAMES = {0x00: "NUL", 0x09: "TAB", 0x0A: "LINE FEED", 0x0B: "VERTICAL TAB",
                  0x0C: "FORM FEED", 0x0D: "CARRIAGE RETURN", 0x1B: "ESCAPE",
                  0x7F: "DELETE", 0x85: "NEXT LINE"}


def char_label(ch: str) -> str:
    """U+000A LINE FEED: how to name a character without printing it."""
    name = _CONTROL_NAMES.get(ord(ch)) or unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} {name or unicodedata.category(ch)}"


def first_unsafe(value: str) -> tuple[int, str] | None:
    """Position and character of the first code point that is not one-line text."""
    if value.isascii() and value.isprintable():
        return None  # printable ASCII (the common case) holds none of them: C speed
    for pos, ch in enumerate(value):
        if unicodedata.category(ch) in UNSAFE_CATEGORIES:
            return pos, ch
    return None


class Invalid(ValueError):
    """A validator's refusal as a catalog template and its values: its text is the
    English one; the loader's SCH002 shows it in the run's language (pydantic keeps the
    exception in the error's ctx)."""

    def __init__(self, template: str, **args: Any) -> None:
        super().__init__(template.format(**args))
        self.template = template
        self.args_ = args


# The messages of a ``free_text`` error, pydantic templates filled with the error's ctx:
# the loader's SCH005 names the one that matches, so a zh run shows it translated.
UNSAFE_CHAR = N_("text holds {char} at character {pos}: a value is one printable line "
                 "(no line breaks, tabs or other control characters)")
TOO_LONG = N_("text is {length} characters long; at most {limit} are allowed")
SPACED = N_("text starts or ends with a space, which device CLIs drop")
FREE_TEXT_MESSAGES = (UNSAFE_CHAR, TOO_LONG, SPACED)


def check_one_line(value: str, limit: int = MAX_TEXT) -> str:
    """``value`` unchanged, or a ``free_text`` error saying what is wrong and where."""
    bad = first_unsafe(value)
    if bad is not None:
        pos, ch = bad
        raise PydanticCustomError(
            "free_text", UNSAFE_CHAR, {"char": char_label(ch), "pos": pos + 1})
    if len(value) > limit:
        raise PydanticCustomError(
            "free_text", TOO_LONG,
            {"length": len(value), "limit": limit})
    if value != value.strip():
        raise PydanticCustomError(
            "free_text", SPACED, {})
    return value


def strings_in(value: Any) -> list[str]:
    """The strings held directly in a field value (lists, tuples, dict keys/values)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple | set | frozenset):
        return [s for v in value for s in strings_in(v)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings_in(k), *strings_in(v))]
    return []  # numbers, enums, nested models (they check their own fields)


def _bounded(limit: int) -> AfterValidator:
    return AfterValidator(lambda v: check_one_line(v, limit))


def text(limit: int) -> Any:
    """A free-text type: one printable line of at most ``limit`` characters."""
    return Annotated[str, Field(min_length=1, max_length=limit), _bounded(limit)]


# Free text, by what it is used for. Bounds are the shortest any platform takes for
# the same thing where pesdc renders it (interface descriptions: IOS 240; titles and
# the model appear in comments only).
Title = text(128)
ShortText = text(64)  # a model, an OS release, a version, a service name
Description = text(240)
Banner = text(480)

Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=63)]
IfName = Annotated[str, Field(pattern=IFNAME_PATTERN, max_length=63)]
PeerRef = Annotated[str, Field(pattern=PEER_PATTERN, max_length=127)]
RemoteRef = Annotated[str, Field(pattern=REMOTE_PATTERN, max_length=127)]
