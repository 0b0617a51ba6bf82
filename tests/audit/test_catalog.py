"""The control catalog is data: families, items, rules, profiles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pesdc.audit.catalog import KINDS, CatalogError, load_catalog, parse_catalog
from pesdc.audit.registry import CHECKS, all_checks
from pesdc.provision.controls import BY_ID


def test_families_and_items(catalog):
    assert list(catalog.families) == [f"8.1.{i}" for i in range(1, 11)]
    assert catalog.families["8.1.4"].zh == "安全计算环境"
    assert len(catalog.items) >= 110
    for item in catalog.items.values():
        assert item.level == 3 and item.zh and item.en and item.rules
        assert item.clause.startswith(item.family)
    # management families are checked by a person
    for fam in ("8.1.6", "8.1.7", "8.1.8", "8.1.9", "8.1.10"):
        kinds = {catalog.rules[r].kind for i in catalog.items_of(fam) for r in i.rules}
        assert kinds == {"manual"}
    assert catalog.items["8.1.4.1a"].indicator == "L3-CES1-01"


def test_every_automated_rule_has_a_check_and_a_fix(catalog):
    all_checks()
    for r in catalog.rules.values():
        assert r.kind in KINDS
        if r.kind != "manual":
            assert r.id in CHECKS, r.id
            assert r.fix_en and r.fix_zh and r.en and r.zh, r.id
        for cid in re.findall(r"PESDC-[A-Z]+-\d+", r.fix_en):
            assert cid in BY_ID, (r.id, cid)
    counts = catalog.counts()
    assert counts["topology"] >= 20 and counts["host"] >= 15 and counts["manual"] >= 60


def test_profile_overrides(tmp_path: Path):
    p = tmp_path / "strict.yaml"
    p.write_text("name: strict\nparams: {password_min_length: 16}\n"
                 "rules: {AUD-AB-04: {severity: low}, AUD-CN-02: {enabled: false}}\n")
    cat = load_catalog(p)
    assert cat.profile == "strict"
    assert cat.rules["AUD-CE-01"].params["password_min_length"] == 16
    assert cat.rules["AUD-AB-04"].severity == "low"
    assert not cat.rules["AUD-CN-02"].enabled
    assert load_catalog().rules["AUD-CE-01"].params["password_min_length"] == 12


@pytest.mark.parametrize("text, message", [
    ("params: {no_such: 1}\n", "no rule takes parameter"),
    ("rules: {AUD-XX-99: {}}\n", "unknown rule"),
    ("params: {password_min_length: long}\n", "expected a number"),
    ("- a list\n", "not a mapping"),
    ("params: [\n", "not valid YAML"),
])
def test_bad_profiles(tmp_path: Path, text: str, message: str):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(CatalogError, match=message):
        load_catalog(p)


def test_bad_catalog():
    with pytest.raises(CatalogError, match="unknown rule"):
        parse_catalog({"families": [{"id": "8.1.2", "key": "n"}],
                       "items": [{"id": "x", "family": "8.1.2", "zh": "a", "en": "b",
                                  "rules": ["NOPE"]}]})


def test_a_comma_in_an_unquoted_title_is_refused_not_cut():
    # In a flow mapping the comma ends the title: "quakes" is the title, "wind" a key.
    text = "{id: x, family: 8.1.1, zh: a, en: Withstands quakes, wind and rain}"
    with pytest.raises(CatalogError, match="item x: unknown keys 'wind and rain'"):
        parse_catalog({"families": [{"id": "8.1.1", "key": "p"}],
                       "items": [yaml.safe_load(text)]})


def test_titles_keep_their_commas(catalog):
    assert catalog.items["8.1.1.1a"].en == ("Machine room in a building that withstands "
                                            "quakes, wind and rain")
    assert catalog.items["8.1.4.2b"].en == "Default accounts renamed, removed or re-passworded"
