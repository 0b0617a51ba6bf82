"""The Jinja2 environment every template renders in (StrictUndefined: a missing value
is an error, never an empty string in a device configuration)."""

from __future__ import annotations

import ipaddress
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pesdc.render.context import secret

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _mask(cidr: str) -> str:
    return str(ipaddress.ip_network(cidr, strict=False).netmask)


def _prefixlen(cidr: str) -> int:
    return ipaddress.ip_network(cidr, strict=False).prefixlen


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # device configurations, not HTML
    )
    env.globals["secret"] = secret
    env.filters["netmask"] = _mask
    env.filters["prefixlen"] = _prefixlen
    return env


def render_template(name: str, ctx: dict[str, Any]) -> str:
    return environment().get_template(name).render(**ctx)


def template_exists(name: str) -> bool:
    return (TEMPLATES / name).is_file()
