"""Consolidation stages: check which stage a city meets, plan and rehearse its move to
the next one, and diff two topology versions."""
