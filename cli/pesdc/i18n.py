"""The one way pesdc speaks Chinese: gettext catalogs, domain ``pesdc``.

English is the source language. Every user-facing string is written in English where it
is used and marked for extraction; a zh text is looked up in
``locale/zh_CN/LC_MESSAGES/pesdc.mo``, compiled from the ``pesdc.po`` translators edit
(``scripts/i18n.sh`` extracts, updates and compiles; ``tests/i18n`` fails on a marked
string that is not translated). The markers:

- ``_`` / ``gettext``, ``ngettext``, ``pgettext`` where a string is translated as it is
  written (``_ = translator(lang).gettext``);
- ``N_(msg)`` and ``NC_(context, msg)`` where a string is written in a table or constant
  and translated later: they only mark it and return the English text;
- the labels of the model's enumerations and the words of ``show`` and ``graph`` are
  extracted from :data:`LABELLED` and :data:`WORDS` themselves (:func:`extract_labels`).

:func:`translator` gives one language's catalog, so a zh and an en report can be
written in the same process: nothing is installed globally.
"""

from __future__ import annotations

import functools
import gettext
import os
from collections.abc import Iterator, Mapping
from enum import Enum
from pathlib import Path
from typing import Any

from pesdc.model.schema import (
    DeviceKind,
    Encryption,
    IsolationType,
    Owner,
    ServerRole,
    SiteKind,
    SystemKind,
    Tier,
    UplinkKind,
    ZoneKind,
)

LANGS = ("en", "zh")
DOMAIN = "pesdc"
LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = {"zh": "zh_CN"}  # the catalog of each language pesdc translates into
WORDS_CONTEXT = "topology"  # msgctxt of WORDS (an enum's label has its class's name)


def N_(message: str) -> str:
    """Marks a string for extraction; translated later, where it is shown."""
    return message


def NC_(context: str, message: str) -> str:
    """Marks a string with its context for extraction (``pgettext`` translates it)."""
    return message


@functools.cache
def translator(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang`` ("zh" or "en"): ``.gettext``, ``.ngettext``,
    ``.pgettext``. English is the source text itself; a missing zh catalog is an error
    (FileNotFoundError), never an English report that calls itself Chinese."""
    locale = LOCALES.get(lang)
    if locale is None:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[locale])


def language_from_env(environ: Mapping[str, str] = os.environ) -> str:
    """"zh" or "en" for the command line's own messages: ``PESDC_LANG``, else the locale
    variables in gettext's order (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``);
    English unless the first one set names Chinese (``zh_CN.UTF-8``, ``zh``)."""
    for var in ("PESDC_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


# The enumerations whose members are shown to people (show, graph, reports).
LABELLED: tuple[type[Enum], ...] = (
    Tier, ZoneKind, IsolationType, DeviceKind, ServerRole, SystemKind, Owner, SiteKind,
    Encryption, UplinkKind)

# English labels where the enum value is not a good one (the default: its value with
# spaces for underscores).
_EN_LABELS: dict[Enum, str] = {
    SystemKind.pes_mis: "PES MIS",
    Encryption.ipsec: "IPsec",
    Encryption.sm_vpn: "SM VPN",
    Encryption.macsec: "MACsec",
    DeviceKind.ids: "IDS",
    DeviceKind.ips: "IPS",
    DeviceKind.vpn_gateway: "VPN gateway",
}

# The headings and words that ``show`` and ``graph`` label by name (``label("zones")``).
WORDS = (
    "data center", "name", "title", "tier", "division code", "parent", "stage",
    "hosted by", "zones", "kind", "segments", "subnet", "gateway", "vlan", "isolation",
    "devices", "platform", "model", "mgmt", "redundancy", "servers", "roles", "zone",
    "address", "os", "location", "databases", "engine", "primary", "standby", "backup",
    "port", "systems", "owner", "ports", "public", "service functions", "function",
    "supporting systems", "status", "complete", "missing", "sites", "count", "links",
    "bandwidth", "latency", "encryption", "shared with social insurance", "uplinks",
    "peer", "device", "machine rooms", "hosted servers", "yes", "border", "no", "none",
    "denied", "flows", "datacenter", "center", "municipal network",
    "hosted note",  # the zh graph's note on a city the province's center hosts
)


def english_label(member: Enum) -> str:
    """The English label of an enum member (the msgid of its translation)."""
    return _EN_LABELS.get(member, str(member.value).replace("_", " "))


def label(value: Enum | str, lang: str) -> str:
    """Display text of an enum member or a word of :data:`WORDS` in ``lang``; a word
    the catalog does not know is shown as it is."""
    t = translator(lang)
    if isinstance(value, Enum):
        return t.pgettext(type(value).__name__, english_label(value))
    return t.pgettext(WORDS_CONTEXT, value)


def both(value: Enum | str) -> str:
    """"中文 english" for labels that carry both languages (diagram edges)."""
    zh = label(value, "zh")
    en = label(value, "en")
    return en if zh == en else f"{zh} {en}"


def title(obj_title: object, lang: str, fallback: str = "") -> str:
    """The zh or en half of a model ``Title`` (or the fallback when there is none)."""
    if obj_title is None:
        return fallback
    return str(getattr(obj_title, lang if lang in LANGS else "en", fallback))


def extract_labels(fileobj: Any, keywords: Any, comment_tags: Any,
                   options: Any) -> Iterator[tuple[Any, ...]]:
    """Babel extractor for this module (``babel.cfg``): its marked strings as Python,
    plus the label of every member of :data:`LABELLED` (context: the enum's name) and
    every word of :data:`WORDS`, which are not literals at the place they are shown."""
    from babel.messages.extract import extract_python

    yield from extract_python(fileobj, keywords, comment_tags, options)
    for enum in LABELLED:
        for member in enum:
            yield 0, "pgettext", (enum.__name__, english_label(member)), []
    for word in WORDS:
        yield 0, "pgettext", (WORDS_CONTEXT, word), []
