"""How the audit reads a Comware 7 configuration (switches and MSR routers; SecPath adds
its zone policy: h3c_secpath/dialect.py)."""

from __future__ import annotations

from pesdc.platforms.dialect import Dialect


class ComwareDialect(Dialect):
    telnet_off = r"^undo telnet server enable"
    http_off = r"^undo ip http enable"
    ssh_v2 = r"^ssh server enable"
    log_host = r"^info-center loghost (\d+\.\d+\.\d+\.\d+)"
    ntp_server = r"^ntp-service unicast-server (\S+)"
    login_attempts = r"login-attempt (\d+)"
    mgmt_acl = r"ssh server acl \d+"
