"""pesdc show --format json on the example tree: the shipped schema accepts it, it says
what the model holds, and the same tree prints the same bytes."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from pesdc.model import validate
from tests.formats.conftest import ROOT, TOPO, Run, conforms, errors


@pytest.fixture(scope="module")
def shown() -> dict:
    from click.testing import CliRunner

    from pesdc.cli.main import main

    res = CliRunner().invoke(main, ["show", str(TOPO), "--format", "json"])
    assert res.exit_code == 0, res.stderr
    import json

    return dict(json.loads(res.stdout))


def test_show_of_the_example_tree_conforms(shown: dict) -> None:
    conforms("show", shown)
    assert shown["format"] == "show" and shown["format_version"] == 1


def test_show_names_every_center_in_tier_order_with_its_model(shown: dict) -> None:
    topo = validate([TOPO]).topology
    assert [c["name"] for c in shown["centers"]] == [dc.name for dc in topo.in_view()]
    by_name = {c["name"]: c for c in shown["centers"]}
    for dc in topo.in_view():
        got = by_name[dc.name]
        assert got["title"] == {"zh": dc.title.zh, "en": dc.title.en}
        if dc.hosted:
            assert got["servers"] == [] and got["hosted_by"] == dc.hosted_by
            continue
        assert [s["name"] for s in got["servers"]] == [s.name for s in dc.servers]
        assert [z["name"] for z in got["zones"]] == [z.name for z in dc.zones]
        n = len(dc.zones)
        assert len(got["isolation"]) == n * (n - 1) // 2  # each pair once
        assert len(got["functions"]) == 7  # the seven functions of Table 1


def test_show_keeps_agency_rooms_and_chinese_as_text() -> None:
    from click.testing import CliRunner

    from pesdc.cli.main import main

    res = CliRunner().invoke(main, ["show", str(TOPO), "--dc", "heze", "--format", "json"])
    assert res.exit_code == 0, res.stderr
    assert "菏泽" in res.stdout  # UTF-8 as it is, not \\u escapes
    import json

    doc = json.loads(res.stdout)
    conforms("show", doc)
    (heze,) = doc["centers"]
    rooms = {r["name"]: r for r in heze["machine_rooms"]}
    assert "hz-employment-room" in rooms and "mis-old-1" in rooms["hz-employment-room"]["hosts"]


def test_show_json_is_byte_identical_run_to_run(pesdc: Callable[..., Run]) -> None:
    a = pesdc("show", str(TOPO), "--format", "json")
    b = pesdc("show", str(TOPO), "--format", "json")
    assert a.code == b.code == 0
    assert a.out == b.out


def test_an_invalid_tree_gives_the_validate_report_not_a_show_document(
        pesdc: Callable[..., Run]) -> None:
    res = pesdc("show", str(ROOT / "tests/fixtures/invalid/SCH003-missing-field"),
                "--format", "json")
    assert res.code == 1
    assert "format" not in res.doc and res.doc["diagnostics"]  # validate's own JSON


def test_the_schema_rejects_a_center_without_servers_or_a_stage_as_text(shown: dict) -> None:
    broken = copy.deepcopy(shown)
    del broken["centers"][0]["servers"]
    assert any("'servers' is a required property" in e for e in errors("show", broken))
    broken = copy.deepcopy(shown)
    broken["centers"][-1]["stage"] = "2"
    assert errors("show", broken)
    broken = copy.deepcopy(shown)
    broken["format_version"] = 2
    assert errors("show", broken)
