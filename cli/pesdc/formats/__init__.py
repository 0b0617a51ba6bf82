"""The machine-readable documents of the reporting commands (``--format json``).

One module per format builds a plain dict from the library's result objects; every
document carries ``format`` (its name) and ``format_version`` (1), and has one JSON
Schema (draft 2020-12) shipped in ``pesdc/data/schemas/<format>.schema.json``, described
in docs/json-formats.md. A field is only ever added within a version: a change that
renames, removes or retypes one bumps ``format_version``."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import click

from pesdc.model.diagnostics import printable_json

FORMAT_VERSION = 1
FORMATS = ("show", "stage-check", "lab-status", "journal-show", "journal-verify",
           "net-plan", "plan")



def document(name: str, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` as the document of format ``name``: its name and version beside it."""
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}")
    return {"format": name, "format_version": FORMAT_VERSION, **body}


def json_text(doc: Any) -> str:
    """One document as text: UTF-8 as it is (Chinese titles stay readable), keys sorted
    and indented the same every time, so the same input gives byte-identical output."""
    # Control characters in a string (a name read from a topology) are escaped: a
    # terminal the document is printed to shows them, never obeys them.
    return printable_json(json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2))


def schema_file(name: str) -> Any:
    """The schema of format ``name`` in the installed package (a Traversable)."""
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}")
    return resources.files("pesdc") / "data" / "schemas" / f"{name}.schema.json"


def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of format ``name``."""
    return dict(json.loads(schema_file(name).read_text(encoding="utf-8")))


def echo(name: str, body: dict[str, Any]) -> None:
    """Print the document of format ``name`` on stdout."""
    click.echo(json_text(document(name, body)))


def format_option(text: str = "text", json_flag: bool = False, boolean: bool = False) -> Any:
    """``--format [TEXT|json]``: the command gets ``fmt``, or with ``boolean`` ``as_json``
    (True for json). With ``json_flag`` the older ``--json`` flag stays as another way to
    say ``--format json``."""

    def deco(f: Any) -> Any:
        @functools.wraps(f)
        def wrapper(*args: Any, fmt: str, as_json: bool = False, **kwargs: Any) -> Any:
            fmt = "json" if as_json else fmt
            if boolean:
                return f(*args, as_json=fmt == "json", **kwargs)
            return f(*args, fmt=fmt, **kwargs)

        out = wrapper
        if json_flag:  # listed after --format in the help
            out = click.option("--json", "as_json", is_flag=True,
                               help="The same as --format json.")(out)
        return click.option("--format", "fmt", type=click.Choice([text, "json"]),
                            default=text, show_default=True,
                            help="json: one document of a stable shape, checked against "
                                 "its schema (docs/json-formats.md).")(out)

    return deco
