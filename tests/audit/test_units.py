"""The catalog's GB/T 28448-2019 test units (测评单元) agree with the unit list
(pesdc/data/mlps/gbt28448_units.yaml): each item of 8.1.1-8.1.5 names one unit of its
family's series, the unit exists, and the unit's GB/T 22239 clause is the item's."""

from __future__ import annotations

import re

import pytest

from pesdc.audit.assessment import units_list
from pesdc.audit.catalog import Catalog

SERIES = {"8.1.1": "PES1", "8.1.2": "CNS1", "8.1.3": "ABS1", "8.1.4": "CES1",
          "8.1.5": "SMC1"}
UNIT_ID = re.compile(r"^L3-(PES1|CNS1|ABS1|CES1|SMC1)-(\d{2})$")


@pytest.fixture(scope="module")
def units() -> dict[str, dict]:
    listed = units_list()["units"]
    by_id = {u["unit"]: u for u in listed}
    assert len(by_id) == len(listed), "a unit listed twice"
    return by_id


@pytest.mark.parametrize("family", sorted(SERIES))
def test_every_technical_item_names_a_unit_of_its_series(catalog: Catalog, units, family):
    items = catalog.items_of(family)
    assert items
    for item in items:
        m = UNIT_ID.match(item.indicator)
        assert m, (item.id, item.indicator)
        assert m.group(1) == SERIES[family], (item.id, item.indicator)
        assert item.indicator in units, (item.id, item.indicator)
        assert units[item.indicator]["clause"] == item.clause, (
            item.id, item.clause, units[item.indicator])


def test_each_unit_is_tested_by_exactly_one_item(catalog: Catalog, units):
    named = [i.indicator for i in catalog.items.values() if i.indicator]
    assert len(named) == len(set(named)), sorted({u for u in named if named.count(u) > 1})
    assert set(named) == set(units), (set(units) - set(named), set(named) - set(units))
    # the management families (8.1.6-8.1.10) have no technical unit
    assert all(not i.indicator for i in catalog.items.values() if i.family not in SERIES)


def test_unit_counts_per_series_and_the_gap(units):
    data = units_list()
    per_series: dict[str, list[int]] = {}
    for uid in units:
        m = UNIT_ID.match(uid)
        assert m, uid
        per_series.setdefault(m.group(1), []).append(int(m.group(2)))
    counts = {s: len(n) for s, n in per_series.items()}
    assert counts == data["counts"] == {"PES1": 22, "CNS1": 8, "ABS1": 20, "CES1": 34,
                                        "SMC1": 12}
    assert sum(counts.values()) == 96
    # numbered 01..N in order, GB/T 28448's only gap (L3-CES1-16) excepted
    gaps = {f"L3-{s}-{n:02d}" for s, nums in per_series.items()
            for n in range(1, max(nums) + 1) if n not in nums}
    assert gaps == set(data["gaps"]) == {"L3-CES1-16"}
    assert [u for u in units] == sorted(units, key=lambda u: (
        list(SERIES.values()).index(u.split("-")[1]), int(u.split("-")[2])))


def test_every_unit_says_how_sure_its_clause_is_and_names_its_sources(units):
    assert {u["basis"] for u in units.values()} <= {"clause", "topic", "sequence"}
    # the computing environment is the one series a source lists clause by clause
    assert all(u["basis"] == "clause" for uid, u in units.items() if "-CES1-" in uid)
    for src in units_list()["sources"]:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", src["repository"]), src
        assert src["path"] and re.fullmatch(r"[0-9a-f]{40}", src["commit"]), src
        assert src["facts"], src
