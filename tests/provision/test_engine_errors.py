"""How the pyinfra engine names the cause of a host's failure (without a lab)."""

from __future__ import annotations

import logging

from pesdc.provision.engine import HostErrorLog, describe_exception


def _log(handler: HostErrorLog, text: str) -> None:
    handler.emit(logging.LogRecord("pyinfra", logging.ERROR, __file__, 1, text, None, None))


def test_lost_connection_is_named_over_the_command_count() -> None:
    h = HostErrorLog()
    _log(h, "\x1b[0m[\x1b[1mweb-1.weihai\x1b[0m] \x1b[31mCommand socket/SSH error: "
            "SSHException('Server connection dropped: ',)\x1b[0m")
    _log(h, "[web-1.weihai] Error: executed 7 commands")
    _log(h, "[ntp-1.weihai] Error: executed 2 commands")
    assert h.cause("web-1.weihai") == ("the SSH connection to the host was lost (Command "
                                       "socket/SSH error: SSHException('Server connection "
                                       "dropped: ',))")
    assert h.cause("ntp-1.weihai") == ""  # a count of commands is no cause
    assert h.cause("db-1.weihai") == ""


def test_exceptions_without_text_still_say_what_happened() -> None:
    assert describe_exception(EOFError()) == "the SSH connection to the host was lost (EOFError)"
    assert describe_exception(ValueError("bad")) == "ValueError: bad"
    assert describe_exception(KeyError()) == "KeyError"
