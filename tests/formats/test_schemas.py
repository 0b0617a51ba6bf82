"""The schemas themselves: one per format, shipped in the package, valid JSON Schema
draft 2020-12, each carrying format_version 1; and the helpers every format prints with."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from pesdc.formats import (
    FORMAT_VERSION,
    FORMATS,
    document,
    format_option,
    json_text,
    load_schema,
    schema_file,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "cli/pesdc/data/schemas"


@pytest.mark.parametrize("name", FORMATS)
def test_each_format_has_a_valid_draft_2020_12_schema(name: str) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)  # the metaschema judges it
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["format_version"] == FORMAT_VERSION == 1
    assert schema["properties"]["format"] == {"const": name}
    assert schema["properties"]["format_version"] == {"const": 1}
    assert {"format", "format_version"} <= set(schema["required"])
    assert schema["additionalProperties"] is False  # a field not documented is refused


def test_the_package_ships_exactly_these_schemas() -> None:
    shipped = {p.name for p in SCHEMAS.glob("*.schema.json")}
    assert shipped - {"national-report.schema.json"} == {f"{n}.schema.json" for n in FORMATS}
    assert all(schema_file(n).is_file() for n in FORMATS)


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        document("nope", {})
    with pytest.raises(ValueError, match="unknown format"):
        load_schema("../national-report")


def test_json_text_is_stable_readable_and_terminal_safe() -> None:
    doc = {"b": 1, "a": {"z": "济南市", "y": "\x1b]0;x\x07 \x9b31m \x85\u2028\u202e"}}
    text = json_text(doc)
    assert text == json_text(json.loads(text))  # same document, same bytes
    assert text.index('"a"') < text.index('"b"')  # keys sorted
    assert "济南市" in text  # not \\u escaped
    assert not set("\x1b\x07\x9b\x85\u2028\u202e") & set(text), text
    assert json.loads(text) == doc  # the escapes mean the same to a parser


@click.command()
@format_option(text="table", json_flag=True)
def _probe(fmt: str) -> None:
    click.echo(fmt)


@pytest.mark.parametrize(("argv", "fmt"), [([], "table"), (["--format", "table"], "table"),
                                           (["--format", "json"], "json"),
                                           (["--json"], "json")])
def test_format_option_and_its_json_alias(argv: list[str], fmt: str) -> None:
    res = CliRunner().invoke(_probe, argv)
    assert res.exit_code == 0 and res.stdout == f"{fmt}\n"


def test_format_option_refuses_another_format() -> None:
    res = CliRunner().invoke(_probe, ["--format", "xml"])
    assert res.exit_code == 2 and "'xml' is not one of 'table', 'json'" in res.stderr


@pytest.mark.parametrize("name", FORMATS)
def test_the_docs_have_a_section_naming_the_schema_and_every_field(name: str) -> None:
    text = (SCHEMAS.parents[3] / "docs/json-formats.md").read_text(encoding="utf-8")
    head = f"\n## {name}\n"
    assert head in text, f"docs/json-formats.md: no section {name}"
    section = text.split(head, 1)[1].split("\n## ", 1)[0]
    assert f"`{name}.schema.json`" in section
    props = load_schema(name)["properties"]
    for field in set(props) - {"format", "format_version"}:
        assert re.search(rf"`{field}(\[\])?[`.]", section), \
            f"{name}: field {field} is not documented"
        items = props[field].get("items", {}).get("properties", {})
        for sub in items:  # the fields of an array's objects: `FIELD[].SUB` or `SUB`
            assert f"`{field}[].{sub}`" in section or f"`{sub}`" in section, \
                f"{name}: field {field}[].{sub} is not documented"
