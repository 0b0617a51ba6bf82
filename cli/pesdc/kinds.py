"""The kind registry, as render, push, the inventories and audit look it up: per
device platform and role, how to talk to a device and how to render it (as
containerlab's kinds do).

Every kind is defined in its platform's folder (``pesdc/platforms/<name>/``) and
derived here; ``KINDS`` and ``kind_of`` are views of those folders. Outside the
folders, what still decides by platform is the lab, which stands Linux gear in for
every device (lab/plan.py, audit/evidence.py read the stand-ins as Linux), and the
push engine's choice of the VRPv8 driver for a CloudEngine model and of the
nftables save path (netpush/engine.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from pesdc.platforms import derived, kind_of, kinds
from pesdc.platforms.spec import Feature, Kind

KINDS: Mapping[str, Kind] = derived(kinds)

__all__ = ["KINDS", "Feature", "Kind", "kind_of"]
