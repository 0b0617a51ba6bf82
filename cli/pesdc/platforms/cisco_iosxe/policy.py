"""IOS-XE policy readback: the zone-based firewall reads as on classic IOS."""

from __future__ import annotations

from pesdc.platforms.cisco_ios.policy import READER

__all__ = ["READER"]
