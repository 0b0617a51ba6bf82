"""A fake netmiko connection that replays a recorded device session (as NAPALM's
mocked data): `command -> output`, plus the device's running configuration as a state
that changes only when exactly the recorded configuration lines are sent.

Anything not in the recording raises, so a driver that sends an unexpected command or
line fails the test. Every exchange is kept in ``transcript`` (what the "device" saw)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SESSIONS = Path(__file__).resolve().parent / "sessions"


def load_session(platform: str) -> dict[str, Any]:
    return dict(yaml.safe_load((SESSIONS / platform / "session.yaml").read_text("utf-8")))


def recorded_drivers() -> dict[str, str]:
    """Driver key (pesdc.netpush.drivers.DRIVERS) -> the session recorded for it."""
    return {load_session(p.parent.name)["driver"]: p.parent.name
            for p in sorted(SESSIONS.glob("*/session.yaml"))}


class UnexpectedInput(AssertionError):
    pass


class FakeConnection:
    def __init__(self, session: dict[str, Any], shared: dict[str, Any] | None = None,
                 **params: Any):
        self.s = session
        self.params = params
        self.shared = shared if shared is not None else {"state": session["start"]}
        self.pending: list[str] = []
        self.in_config = False
        self.trial = False
        self.saved = 0
        self.sent_lines: list[str] = []  # every configuration line, in order
        self.transcript: list[tuple[str, str]] = []
        self.alive = True
        if params.get("device_type") != session["device_type"]:
            raise UnexpectedInput(f"device_type {params.get('device_type')} != "
                                  f"{session['device_type']}")

    @property
    def state(self) -> str:
        return str(self.shared["state"])

    @state.setter
    def state(self, value: str) -> None:
        self.shared["state"] = value

    # -- helpers -------------------------------------------------------------------
    def _out(self, cmd: str, out: str) -> str:
        self.transcript.append((cmd, out))
        return out

    def _apply_pending(self) -> None:
        if not self.pending:
            return
        for tr in self.s["transitions"]:
            if tr["from"] == self.state and [x.strip() for x in tr["lines"]] == \
                    [x.strip() for x in self.pending]:
                self.state = tr["to"]
                self.pending = []
                return
        raise UnexpectedInput(f"unrecorded configuration in state {self.state}: "
                              f"{self.pending}")

    # -- the ConnectHandler methods the drivers use ----------------------------------
    def send_command(self, cmd: str, **kw: Any) -> str:
        if cmd == self.s["show_running"]:
            return self._out(cmd, self.s["running"][self.state])
        if self.s.get("commit_trial") and cmd.startswith("commit trial"):
            self._apply_pending()
            self.trial = True
            return self._out(cmd, self.s["commands"]["commit trial"])
        if cmd == "commit" and self.s.get("commit_trial"):
            self._apply_pending()
            self.trial = False
            return self._out(cmd, self.s["commands"]["commit"])
        if cmd == "abort trial" and self.trial:
            self.state = self.s["trial_from"]
            self.trial = False
            return self._out(cmd, self.s["commands"]["abort trial"])
        if cmd in self.s.get("commands", {}):
            if cmd in ("write memory",):
                self.saved += 1
            return self._out(cmd, self.s["commands"][cmd])
        raise UnexpectedInput(f"unrecorded command {cmd!r}")

    def send_config_set(self, lines: list[str], **kw: Any) -> str:
        self.in_config = True
        self.pending += list(lines)
        self.sent_lines += list(lines)
        prompt = self.s["config_prompt"]
        # A device echoes each line after its prompt (secrets included: the driver
        # must redact what it returns and logs).
        return self._out("<config>", "".join(f"{prompt}{ln}\n" for ln in lines))

    def config_mode(self, *a: Any, **kw: Any) -> str:
        self.in_config = True
        return ""

    def check_config_mode(self, *a: Any, **kw: Any) -> bool:
        return self.in_config

    def exit_config_mode(self, *a: Any, **kw: Any) -> str:
        if not self.s.get("commit_trial"):
            self._apply_pending()
        self.in_config = False
        return ""

    def check_enable_mode(self, *a: Any, **kw: Any) -> bool:
        return True

    def enable(self, *a: Any, **kw: Any) -> str:
        return ""

    def save_config(self, cmd: str = "", confirm: bool = False,
                    confirm_response: str = "") -> str:
        expect = self.s["save"]
        if cmd != expect["cmd"] or confirm != expect.get("confirm", False) or \
                confirm_response != expect.get("confirm_response", ""):
            raise UnexpectedInput(f"save as {cmd!r} confirm={confirm} "
                                  f"response={confirm_response!r}, recorded {expect}")
        self.saved += 1
        return self._out(cmd, expect["output"])

    def is_alive(self) -> bool:
        return self.alive

    def disconnect(self) -> None:
        self.alive = False


class FakeDevice:
    """Connect factory: every connection sees the same device state (as a reconnect
    to a real device would)."""

    def __init__(self, session: dict[str, Any]):
        self.session = session
        self.shared: dict[str, Any] = {"state": session["start"]}
        self.conns: list[FakeConnection] = []

    @property
    def state(self) -> str:
        return str(self.shared["state"])

    def __call__(self, **params: Any) -> FakeConnection:
        c = FakeConnection(self.session, self.shared, **params)
        self.conns.append(c)
        return c

    @property
    def sent_lines(self) -> list[str]:
        return [ln for c in self.conns for ln in c.sent_lines]

    def transcript_text(self) -> str:
        return "\n".join(f"{cmd}\n{out}" for c in self.conns for cmd, out in c.transcript)
