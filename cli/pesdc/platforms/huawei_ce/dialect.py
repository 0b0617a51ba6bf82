"""How the audit reads a CloudEngine (VRP8) configuration: its own forms of telnet off
(`telnet server disable`) and NTP (`ntp unicast-server`). No CE6800 V300R023C00 page
disables the HTTP server, so nothing in the configuration says HTTP is off: the audit
reports it as a gap (http_off never matches) rather than assume a default."""

from __future__ import annotations

from pesdc.platforms.huawei_vrp.dialect import VrpDialect


class CeDialect(VrpDialect):
    telnet_off = r"^telnet server disable"
    http_off = ""
    ntp_server = r"^ntp unicast-server (\S+)"
