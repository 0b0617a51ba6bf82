"""How the audit reads an IOS-XE configuration: as classic IOS (the same `show
running-config` syntax for everything the audit checks)."""

from __future__ import annotations

from pesdc.platforms.cisco_ios.dialect import IosDialect


class IosXeDialect(IosDialect):
    pass
