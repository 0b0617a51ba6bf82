"""Topology.pick_center: the one way every command picks the center it works on."""

from __future__ import annotations

import pytest

from pesdc.model import validate
from pesdc.model.schema import Tier
from pesdc.model.tree import TIERS, CenterError, parent_tier
from tests.conftest import MINI


def test_centers_in_tier_order() -> None:
    topo = validate([MINI]).topology
    assert [dc.name for dc in topo.in_tier_order()] == ["mohrss", "shandong", "jinan", "laiwu"]
    assert (Tier.ministry, Tier.province, Tier.city) == TIERS
    assert [parent_tier(t) for t in TIERS] == [None, Tier.ministry, Tier.province]


def test_named_center_whatever_its_tier() -> None:
    topo = validate([MINI]).topology
    assert topo.pick_center("shandong", Tier.city).name == "shandong"
    assert topo.pick_center("laiwu").hosted  # the caller says what a hosted one may do


def test_unknown_name_lists_the_centers() -> None:
    topo = validate([MINI]).topology
    with pytest.raises(CenterError, match="no data center named 'atlantis'; the path "
                       "holds: mohrss, shandong, jinan, laiwu"):
        topo.pick_center("atlantis")


def test_without_a_name_the_only_center_of_its_own() -> None:
    topo = validate([MINI]).topology
    assert topo.pick_center(None, Tier.city).name == "jinan"  # laiwu is hosted
    with pytest.raises(CenterError, match=r"several data centers.*--dc NAME: mohrss, "
                       r"shandong, jinan, laiwu"):
        topo.pick_center(None)
    for name in ("jinan", "laiwu"):
        del topo.datacenters[name]
    with pytest.raises(CenterError, match="no city center of its own"):
        topo.pick_center(None, Tier.city)
