"""``pesdc stage check --format json``: per city, the stage it declares and meets, and
every unmet requirement of the next one (the same as the tables)."""

from __future__ import annotations

from typing import Any

from pesdc.stages.check import CityStage


def build(results: list[CityStage]) -> dict[str, Any]:
    """The body of the ``stage-check`` document (CityStage.as_dict per city)."""
    return {"cities": [r.as_dict() for r in results]}
