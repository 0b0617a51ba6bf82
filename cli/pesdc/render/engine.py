"""The Jinja2 environment every template renders in (StrictUndefined: a missing value
is an error, never an empty string in a device configuration).

Topology text is data: every value a template prints passes a guard (no control or
line-separator character may reach any rendered file, whatever the schema let through),
and each output syntax has its own filter that quotes or refuses a value
(``nft_comment``, ``quote``, ``cli_text``/``cli_word``, ``delimiter``; HTML templates are
autoescaped). A value that cannot be written safely is an ``UnsafeValue``: the caller
turns it into a render error naming the device or server and the field. Nothing is
silently shortened or rewritten.
"""

from __future__ import annotations

import ipaddress
import shlex
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateNotFound,
)

from pesdc.model.text import char_label, first_unsafe
from pesdc.platforms import template_folders
from pesdc.render.context import secret

# Server files, reports and runbooks; a device's templates are in its platform folder.
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _mask(cidr: str) -> str:
    return str(ipaddress.ip_network(cidr, strict=False).netmask)


def _prefixlen(cidr: str) -> int:
    return ipaddress.ip_network(cidr, strict=False).prefixlen


class UnsafeValue(Exception):
    """A value that cannot be written into a rendered file without changing its
    structure (a new line, a closed quote) or being altered to fit."""

    def __init__(self, field: str, value: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.value, self.reason = field, value, reason


# Strings outside printable ASCII that passed the guard: the check of each is a walk
# over its characters' Unicode categories, and the same titles are printed in every
# file of a center (a string's verdict depends on the string alone).
_CHECKED: set[str] = set()


def _guard(value: Any) -> Any:
    """Jinja's finalize: runs on every printed value of every template (2.5 million on
    the national tree). Printable ASCII, the common case, holds nothing ``first_unsafe``
    refuses (its own first test, here without the call)."""
    if isinstance(value, str) and not (value.isascii() and value.isprintable()) \
            and value not in _CHECKED:
        bad = first_unsafe(value)
        if bad is not None:
            raise UnsafeValue("a printed value", value,
                              f"holds {char_label(bad[1])}, which would break the line "
                              "structure of the file")
        _CHECKED.add(str(value))  # a plain str (not Markup): what was checked
    return value


# Vendor CLIs read '?' as a request for help wherever it is typed: pushed over SSH,
# it would cut the line and print help instead of configuring it.
CLI_SPECIAL = "?"


def _cli_text(value: str, field: str, limit: int) -> str:
    """A free-text argument at the end of a vendor CLI line (description and the like)."""
    if any(ch in value for ch in CLI_SPECIAL):
        raise UnsafeValue(field, value, "holds '?', which a vendor CLI reads as a request "
                          "for help; remove it")
    if len(value) > limit:
        raise UnsafeValue(field, value, f"is {len(value)} characters; this platform takes "
                          f"at most {limit}; shorten it")
    return value


def _cli_word(value: str, field: str, limit: int) -> str:
    """A one-word argument (IOS route names): text without spaces."""
    if " " in value:
        raise UnsafeValue(field, value, "holds a space; this platform takes one word "
                          "here; write it without spaces")
    return _cli_text(value, field, limit)


# Banner delimiters a vendor CLI accepts (the first character after the keyword opens
# the text and its next occurrence closes it), most readable first.
BANNER_DELIMITERS = '"%#@$&*+~^'


def _delimiter(value: str, field: str, candidates: str = BANNER_DELIMITERS) -> str:
    """A delimiter character that does not occur in ``value``."""
    for ch in candidates:
        if ch not in value:
            return ch
    raise UnsafeValue(field, value, f"uses every delimiter character ({candidates}); "
                      "the banner could not be closed; drop one of them from the text")


# nftables' scanner reads a quoted string up to the next '"' (no escapes); the kernel
# keeps at most 128 bytes of a rule comment.
NFT_COMMENT_MAX_BYTES = 128


def _nft_comment(value: str, field: str) -> str:
    """``value`` as an nftables quoted string (a rule comment)."""
    if '"' in value:
        raise UnsafeValue(field, value, "holds '\"', which would end the nftables string")
    if len(value.encode("utf-8")) > NFT_COMMENT_MAX_BYTES:
        raise UnsafeValue(field, value, f"is {len(value.encode())} bytes; an nftables "
                          f"comment holds at most {NFT_COMMENT_MAX_BYTES}; shorten the names")
    return f'"{value}"'


def _quote(value: Any) -> str:
    """One shell word, quoted only when it needs to be. Named as Ansible's own filter
    (also shlex.quote), so the roles render the same templates to the same bytes."""
    return shlex.quote(str(value))


def _autoescape(name: str | None) -> bool:
    return name is not None and name.endswith((".html.j2", ".htm.j2", ".xml.j2"))


def _loader() -> BaseLoader:
    """`<platform>/<file>.j2` from the platform folder first, then templates/ (where
    `linux/server/...` and the other shared templates are)."""
    platforms = PrefixLoader({name: FileSystemLoader(folder)
                              for name, folder in template_folders().items()})
    return ChoiceLoader([platforms, FileSystemLoader(str(TEMPLATES))])


# Every attribute a dict has (its methods, object's): a name outside these is no
# attribute of a plain dict, so ``getattr(d, name)`` could only raise.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(Environment):
    """Jinja's environment, ``a.b`` on a plain dict without the AttributeError Jinja
    raises and catches first (templates read the context's dicts ~2.4 million times on
    the national tree). Same lookup order: an attribute of dict (``items``) wins over
    a key of that name, a missing key falls back to Jinja's own (undefined)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@cache
def environment() -> Environment:
    env = _Environment(
        loader=_loader(),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates do not change while pesdc runs: no stat of the file on every
        # get_template (one per rendered file, 100,000 on the national tree).
        auto_reload=False,
        # Device configurations and server files are not HTML; pages are escaped.
        autoescape=_autoescape,
        finalize=_guard,
    )
    env.globals["secret"] = secret
    env.filters["netmask"] = _mask
    env.filters["prefixlen"] = _prefixlen
    env.filters["cli_text"] = _cli_text
    env.filters["cli_word"] = _cli_word
    env.filters["delimiter"] = _delimiter
    env.filters["nft_comment"] = _nft_comment
    env.filters["quote"] = _quote
    return env


def render_template(name: str, ctx: dict[str, Any]) -> str:
    """``environment().get_template(name).render(**ctx)``, without its per-call costs:
    the same context (the template's globals, then ``ctx``) is built in one copy, and
    the globals are read as a plain dict made once per template, where Jinja reads its
    ChainMap key by key on every render (two fifths of a server file's rendering: about
    100,000 files on the national tree)."""
    env = environment()
    loaded = _LOADED.get(name)
    if loaded is None or loaded[0].environment is not env:  # loaded by an older one
        tpl = env.get_template(name)
        loaded = _LOADED[name] = (tpl, dict(tpl.globals))
    tpl, flat = loaded
    context = env.context_class(env, {**flat, **ctx}, tpl.name, tpl.blocks, globals=flat)
    try:
        return env.concat(tpl.root_render_func(context))
    except Exception:
        env.handle_exception()
    raise AssertionError("unreachable: handle_exception raises")  # pragma: no cover


# Template name -> (the template, its globals as a plain dict). Templates are loaded
# once (auto_reload is off) and nothing adds globals after environment() made them.
_LOADED: dict[str, tuple[Any, dict[str, Any]]] = {}


def template_exists(name: str) -> bool:
    loaded = _LOADED.get(name)
    if loaded is not None and loaded[0].environment is environment():
        return True  # rendered already: it exists (templates do not change in a run)
    loader = environment().loader
    assert loader is not None
    try:
        loader.get_source(environment(), name)
    except TemplateNotFound:
        return False
    return True
