"""The driver interface, now ``pesdc.platforms.driver`` (every platform folder's
driver builds on it); its names stay importable from here."""

from __future__ import annotations

from pesdc.platforms.driver import (
    Connect,
    ConnectError,
    ConnParams,
    Driver,
    DriverError,
    PushError,
    PushInterrupted,
    Redact,
    default_connect,
)
from pesdc.platforms.remediation import strip_comments

__all__ = ["ConnParams", "Connect", "ConnectError", "Driver", "DriverError", "PushError",
           "PushInterrupted", "Redact", "default_connect", "strip_comments"]
