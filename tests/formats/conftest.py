"""The JSON documents of the reporting commands, judged by their shipped JSON Schemas
(cli/pesdc/data/schemas, draft 2020-12) with the jsonschema library."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator, FormatChecker

from pesdc.cli.main import main
from pesdc.formats import load_schema

ROOT = Path(__file__).resolve().parents[2]
TOPO = ROOT / "topologies"


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name), format_checker=FormatChecker())


def errors(name: str, doc: Any) -> list[str]:
    """Every way ``doc`` breaks the schema of ``name`` (empty: it conforms)."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in validator(name).iter_errors(doc)]


def conforms(name: str, doc: Any) -> None:
    found = errors(name, doc)
    assert not found, "\n".join(found[:20])


class Run:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    @property
    def doc(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def pesdc() -> Callable[..., Run]:
    """Run a pesdc command in process (stdout and stderr apart)."""
    def run(*args: str) -> Run:
        res = CliRunner().invoke(main, list(args), catch_exceptions=False)
        return Run(res.exit_code, res.stdout, res.stderr)

    return run


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty state directory of this test's own (no lab, no journal)."""
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"
