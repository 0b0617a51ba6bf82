"""How the audit reads a VRP configuration, per family: VRP5 campus switches and AR
routers (VrpDialect; the USG dialect builds on it), VRP8 CloudEngine and NetEngine
(huawei_ce/dialect.py, huawei_ne/dialect.py set their own forms)."""

from __future__ import annotations

from pesdc.platforms.dialect import Dialect


class VrpDialect(Dialect):
    telnet_off = r"^undo telnet server enable"
    http_off = r"^undo http server enable"
    ssh_v2 = r"^stelnet server enable"
    log_host = r"^info-center loghost (\d+\.\d+\.\d+\.\d+)"
    ntp_server = r"^ntp-service unicast-server (\S+)"
    login_attempts = r"retry-time (\d+)"
    mgmt_acl = r"acl \d+ inbound"
    # No final_deny: a VRP switch does not filter between zones.
