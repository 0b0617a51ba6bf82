"""inventories/ is generated from topologies/: stale inventories fail the suite."""

from __future__ import annotations

from .conftest import PESDC, ROOT, run


def test_committed_inventories_match_the_example_topologies():
    res = run([*PESDC, "render", str(ROOT / "topologies"), "--only", "inventory", "-o",
               str(ROOT / "inventories" / "example"), "--diff"])
    assert res.returncode == 0, (
        "inventories/ is stale: run scripts/refresh-inventories.sh\n" + res.stdout[-2000:])
