"""How the audit reads a NetEngine (VRP8) configuration: VRP5's telnet and NTP forms
(`undo telnet server enable`, `ntp-service unicast-server`, as the NE40E guide writes
them); no NetEngine source disables the HTTP server, so the audit reports HTTP as a
gap (http_off never matches) rather than assume a default."""

from __future__ import annotations

from pesdc.platforms.huawei_vrp.dialect import VrpDialect


class NeDialect(VrpDialect):
    http_off = ""
