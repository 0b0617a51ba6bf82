"""pesdc stage check --format json: the example tree and the stage fixtures conform to
the schema; the table form (--format table) stays the default."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from tests.formats.conftest import ROOT, TOPO, Run, conforms, errors

STAGES = ROOT / "tests/fixtures/stages"


@pytest.mark.parametrize("tree", [TOPO, STAGES / "stage1", STAGES / "stage2"],
                         ids=["topologies", "stage1", "stage2"])
def test_stage_check_conforms(pesdc: Callable[..., Run], tree) -> None:  # type: ignore[no-untyped-def]
    res = pesdc("stage", "check", str(tree), "--format", "json")
    assert res.code == 0, res.err
    conforms("stage-check", res.doc)
    assert res.doc["cities"], "every tree here has a city"


def test_unmet_requirements_carry_their_place(pesdc: Callable[..., Run]) -> None:
    doc = pesdc("stage", "check", str(TOPO), "--format", "json").doc
    heze = next(c for c in doc["cities"] if c["city"] == "heze")
    (req,) = [q for q in heze["requirements"] if "mis-old-1" in q["message"]]
    assert req["file"].endswith("heze.yaml") and req["line"] > 0 and req["column"] > 0
    assert req["rule"] == "PES005" and req["blocking"] is True


def test_stage_check_json_is_byte_identical_and_table_is_the_default(
        pesdc: Callable[..., Run]) -> None:
    a = pesdc("stage", "check", str(TOPO), "--format", "json")
    b = pesdc("stage", "check", str(TOPO), "--format", "json")
    assert a.out == b.out
    table = pesdc("stage", "check", str(TOPO))
    assert table.code == 0 and not table.out.lstrip().startswith("{")
    # Not on a terminal: each unmet requirement one compiler-style line.
    assert "heze.yaml:448:18: error PES005: stage 2: server mis-old-1" in table.out


def test_the_schema_rejects_a_requirement_without_line_or_meets_as_text(
        pesdc: Callable[..., Run]) -> None:
    doc = pesdc("stage", "check", str(TOPO), "--format", "json").doc
    city = next(c for c in doc["cities"] if c["requirements"])
    broken = copy.deepcopy(doc)
    del next(c for c in broken["cities"] if c["city"] == city["city"])["requirements"][0]["line"]
    assert any("'line' is a required property" in e for e in errors("stage-check", broken))
    broken = copy.deepcopy(doc)
    broken["cities"][0]["meets"] = "1"
    assert errors("stage-check", broken)
    broken = copy.deepcopy(doc)
    broken["cities"][0]["unmet_per_stage"]["4"] = 1
    assert errors("stage-check", broken)
