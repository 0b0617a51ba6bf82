"""The roll-up written out: JSON (both languages, as the audit's) and an HTML page in
zh or en (the audit report's way: a Jinja template, text through the gettext catalog)."""

from __future__ import annotations

import json
import time
from typing import Any

from jinja2 import Environment, FileSystemLoader

from pesdc.i18n import translator
from pesdc.render.engine import TEMPLATES


def json_text(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def html_page(data: dict[str, Any], lang: str = "zh") -> str:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES / "report")), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translator(lang), newstyle=False)  # type: ignore[attr-defined]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return env.get_template("national.html.j2").render(d=data, lang=lang, when=when)
