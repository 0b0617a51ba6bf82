"""A synthetic network device for the push drivers: netmiko's own connection class for
the session's device type talks to a simulated terminal instead of an SSH channel.

Nothing here was recorded from a device. Each session file
(tests/netpush/sessions/<name>/session.yaml) is hand-written: its display outputs, the
configuration lines the device accepts and the running configuration they lead to
(``transitions``). How the terminal behaves (prompts per view, paging, ``[Y/N]``
confirmations, the family's answers to an unknown or incomplete command, its commit
commands) is the family's profile in sessions/terminals.yaml, each item with the vendor
document it follows; a session may override any of it (``terminal:``).

What runs is the real client side: netmiko's session preparation (prompt discovery,
the paging command of its device type), ``send_command``, ``send_config_set`` (echo and
prompt per line, the error pattern), ``save_config`` with its confirmation, and the
pesdc driver on top. The device side is strict: a display that is not disabled pages
with the family's ``More`` prompt, a line the session does not list as accepted gets
the family's error answer with its ``^`` marker, an exchange the session cannot answer
raises UnexpectedInput (the test fails, naming it). Every exchange is kept in
``transcript`` (what the "device" saw and answered).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from netmiko.channel import Channel
from netmiko.ssh_dispatcher import CLASS_MAPPER

from pesdc.netpush.drivers import ConnParams, Driver
from pesdc.netpush.engine import Target

SESSIONS = Path(__file__).resolve().parent / "sessions"
TERMINALS = SESSIONS / "terminals.yaml"
# The profile a session without its own `terminal: {profile: ...}` gets.
PROFILE_OF_TYPE = {"huawei": "vrp5", "huawei_vrpv8": "vrp8", "hp_comware": "comware7",
                   "cisco_ios": "ios", "cisco_xe": "ios"}
PLAN_STATES = ("drifted", "synced")


def load_session(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((SESSIONS / name / "session.yaml").read_text("utf-8")))


def synthetic_drivers() -> dict[str, str]:
    """Driver key (pesdc.netpush.drivers.DRIVERS) -> the synthetic session written for
    it (the folder's name)."""
    return {load_session(p.parent.name)["driver"]: p.parent.name
            for p in sorted(SESSIONS.glob("*/session.yaml"))}


@cache
def _profiles() -> dict[str, dict[str, Any]]:
    return dict(yaml.safe_load(TERMINALS.read_text("utf-8")))


def profile(name: str) -> dict[str, Any]:
    """A terminal profile with what it inherits (``inherits``) merged under it."""
    raw = _profiles()[name]
    base = profile(raw["inherits"]) if raw.get("inherits") else {}
    return {**base, **{k: v for k, v in raw.items() if k != "inherits"}}


def terminal_of(session: dict[str, Any]) -> dict[str, Any]:
    own = dict(session.get("terminal") or {})
    name = own.pop("profile", None) or PROFILE_OF_TYPE[session["device_type"]]
    return {**profile(name), **own, "profile": name}


class UnexpectedInput(AssertionError):
    pass


QUESTION = re.compile(r"\[Y/N\]:?|\(y/n\)(?:\[n\])?:?", re.IGNORECASE)


def save_spec(session: dict[str, Any]) -> dict[str, Any]:
    """The session's save: `cmd`, `ask` (the question, if the device asks one) and
    `output` (what follows the answer). A session in the first format gives the whole
    exchange in `output` with `confirm: true`: the question is cut out of it."""
    save = dict(session.get("save") or {})
    if "ask" in save or not save.get("confirm"):
        save["output"] = _without_echo(save.get("output", ""), save.get("cmd", ""))
        return save
    text = _without_echo(save.get("output", ""), save.get("cmd", ""))
    m = QUESTION.search(text)
    if m:
        answer = save.get("confirm_response", "")
        rest = text[m.end():]
        save["ask"] = text[:m.end()]
        save["output"] = rest[len(answer):] if rest.startswith(answer) else rest
        save["output"] = save["output"].lstrip("\n")
    return save


def _without_echo(text: str, cmd: str) -> str:
    first, _, rest = text.partition("\n")
    return rest if first.strip() == cmd.strip() else text


def _words(line: str) -> list[str]:
    return line.split()


class Device:
    """The device state every session to it shares (a reconnect sees the same
    configuration): the named running state, what its timers would revert to, files."""

    def __init__(self, session: dict[str, Any]):
        self.s = session
        self.t = terminal_of(session)
        self.state: str = session["start"]
        self.armed_from: str | None = None  # commit delay / revert timer / trial running
        self.trial = False
        self.files: dict[str, str] = {}  # file name -> the state saved in it
        self.pending: list[str] = []  # lines applied since the last named state
        self.saved = 0
        self.rejected: list[str] = []  # configuration lines answered with an error
        self.rejected_at: list[int] = []  # how many lines had been taken before each
        self.accepted = self._accepted()
        self.views = self._view_lines()

    # -- what the session says the device takes ---------------------------------------
    def _accepted(self) -> set[str]:
        lines = {ln.strip() for tr in self.s["transitions"] for ln in tr["lines"]}
        lines |= {ln.strip() for ln in self.s.get("accepted", [])}
        return lines | set(self.t.get("navigation", []))

    def _view_lines(self) -> set[str]:
        """Lines that open a view: followed by a deeper-indented line in a transition
        or in a running configuration of the session."""
        out: set[str] = set()
        texts = [tr["lines"] for tr in self.s["transitions"]]
        texts += [t.splitlines() for t in self.s["running"].values()]
        for lines in texts:
            for a, b in itertools.pairwise(lines):
                depth = len(a) - len(a.lstrip())
                if b.strip() and len(b) - len(b.lstrip()) > depth:
                    out.add(a.strip())
        return out

    def running(self) -> str:
        try:
            return str(self.s["running"][self.state])
        except KeyError:
            raise UnexpectedInput(f"the session has no running configuration for state "
                                  f"{self.state!r}") from None

    def step(self, state: str, lines: list[str]) -> str | None:
        """The state a transition from ``state`` with exactly these lines leads to."""
        want = [x.strip() for x in lines]
        for tr in self.s["transitions"]:
            if tr["from"] == state and [x.strip() for x in tr["lines"]] == want:
                return str(tr["to"])
        return None

    def walk(self, state: str, lines: list[str]) -> str | None:
        """Where a chain of transitions that together are these lines leads."""
        if not lines:
            return state
        for tr in self.s["transitions"]:
            n = len(tr["lines"])
            if tr["from"] == state and n <= len(lines) and self.step(state, lines[:n]):
                end = self.walk(str(tr["to"]), lines[n:])
                if end is not None:
                    return end
        return None


class Terminal:
    """One login session: the prompt, the view stack, the line being typed, the
    display being paged, the question waiting for an answer."""

    def __init__(self, device: Device, transcript: list[tuple[str, str]],
                 sent_lines: list[str]):
        self.d = device
        self.t = device.t
        self.name = self._hostname()
        self.views: list[str] = []  # [] user/exec view; ["system"] config; + sub-views
        self.candidate: list[str] = []  # VRP8: this session's uncommitted lines
        self.paging = True
        self.typed = ""
        self.out = ""
        self.more: list[str] = []  # the rest of a paged display
        self.question: tuple[str, Any] | None = None  # what an answer will do
        self.transcript = transcript
        self.sent_lines = sent_lines
        self.alive = True
        self._settle()
        self.out += self.t.get("banner", "") + self.prompt()

    @property
    def pending(self) -> list[str]:
        """Lines taken since the last state the session names: a candidate's are this
        login's own (VRP8 drops them with the session); lines that apply as typed are
        the device's, whoever typed them."""
        return self.candidate if self.t.get("candidate") else self.d.pending

    @pending.setter
    def pending(self, lines: list[str]) -> None:
        if self.t.get("candidate"):
            self.candidate = lines
        else:
            self.d.pending = lines

    def _only_moved(self) -> bool:
        """The pending lines only entered or left existing views: they changed
        nothing the display shows."""
        return all(x.strip() in self.d.views or x.strip() in self.t["up"]
                   for x in self.pending)

    def _settle(self) -> None:
        """Out of configuration mode (or a new login): view moves are forgotten."""
        if self.pending and self._only_moved():
            self.pending = []

    def _hostname(self) -> str:
        m = re.search(self.t["hostname"], self.d.running(), re.M)
        if not m:
            raise UnexpectedInput(f"no host name ({self.t['hostname']}) in the running "
                                  "configuration")
        return m.group(1)

    # -- the screen -------------------------------------------------------------------
    def prompt(self) -> str:
        if not self.views:
            return self.t["prompts"]["user"].format(name=self.name)
        mark = ""
        if self.t.get("candidate"):
            mark = "*" if self.pending else "~"
        if len(self.views) == 1:
            return self.t["prompts"]["system"].format(name=self.name, mark=mark)
        return self.t["prompts"]["view"].format(name=self.name, mark=mark,
                                                view=self.views[-1])

    def say(self, cmd: str, text: str) -> None:
        self.transcript.append((cmd, text))
        lines = text.splitlines()
        page = int(self.t["paging"]["lines"])
        if self.paging and len(lines) > page:
            self.out += "\n".join(lines[:page]) + "\n" + self.t["paging"]["more"]
            self.more = lines[page:]
            return
        self.out += text + ("\n" if text and not text.endswith("\n") else "")
        self.out += self.prompt()

    def write(self, data: str) -> None:
        for ch in data:
            if not self.alive:
                return
            if ch == "\x00":  # netmiko's keepalive
                continue
            if self.more:
                self._page(ch)
                continue
            if ch == "\r":
                continue
            if ch == "\n":
                line, self.typed = self.typed, ""
                hidden = self.question is not None and self.question[0] == "line" and \
                    not self.question[1][1].get("echo", True)
                self.out += ("" if hidden else line) + "\n"  # a key typed is not shown
                self.enter(line)
            else:
                self.typed += ch

    def _page(self, ch: str) -> None:
        """At the More prompt: a space shows a page, Enter a line, anything else stops
        the display (and is not taken as input), as VRP, Comware and IOS do."""
        page = int(self.t["paging"]["lines"])
        erase = "\b" * len(self.t["paging"]["more"])
        if ch == " ":
            shown, self.more = self.more[:page], self.more[page:]
        elif ch in "\r\n":
            shown, self.more = self.more[:1], self.more[1:]
        else:
            shown, self.more = [], []
        self.out += erase + "".join(f"{ln}\n" for ln in shown)
        self.out += self.t["paging"]["more"] if self.more else self.prompt()

    # -- a line entered -----------------------------------------------------------------
    def enter(self, line: str) -> None:
        cmd = line.strip()
        if self.question is not None:
            self._answer(cmd)
            return
        if not cmd:
            self.out += self.prompt()
            return
        if self._special(cmd):
            return
        if self.views:
            self._config_line(line)
        else:
            self._exec(cmd)

    def _special(self, cmd: str) -> bool:
        """Commands every mode knows: paging, displays, the commit model's commands."""
        t = self.t
        if cmd in t["paging"]["disable"]:
            self.paging = False
            self.say(cmd, t["paging"].get("said", ""))
            return True
        if cmd in t.get("exec_ok", []) and not self.views:
            self.say(cmd, "")
            return True
        if cmd == self.d.s["show_running"]:
            if self.pending and not t.get("candidate") and not self._only_moved():
                raise UnexpectedInput(f"display in state {self.d.state} with lines the "
                                      f"session leads nowhere: {self.pending}")
            self.say(cmd, self.d.running())
            return True
        for op in t.get("commit_ops", []):
            m = re.fullmatch(op["command"], cmd)
            if m and (bool(self.views) == op.get("config", True) or op.get("any_view")):
                self._commit_op(cmd, op, m)
                return True
        if cmd in self.d.s.get("commands", {}):
            self.say(cmd, self.d.s["commands"][cmd])
            return True
        save = save_spec(self.d.s)
        if self.views and t.get("save_in_any_view") and cmd == save.get("cmd"):
            self._save(cmd, save)
            return True
        return False

    def _exec(self, cmd: str) -> None:
        t = self.t
        if cmd in t["enter_config"]:
            self.views = ["system"]
            self.say(cmd, t.get("enter_config_said", ""))
            return
        save = save_spec(self.d.s)
        if cmd == save.get("cmd"):
            self._save(cmd, save)
            return
        if cmd in t.get("logout", []):
            self.alive = False
            self.transcript.append((cmd, ""))
            return
        self._reject(cmd, self._known_exec())

    def _known_exec(self) -> set[str]:
        s = self.d.s
        return {s["show_running"], *s.get("commands", {}), *self.t["enter_config"],
                *self.t["paging"]["disable"], save_spec(s).get("cmd", "")}

    def _config_line(self, line: str) -> None:
        cmd = line.strip()
        t = self.t
        if cmd in t["to_user"]:
            self._leave(cmd)
            return
        if cmd in t["up"] and len(self.views) == 1:  # system view: back to user view
            self.views = []
            self._settle()
            self.say(cmd, "")
            return
        if cmd not in self.d.accepted and cmd not in t["up"]:
            self._reject(cmd, self.d.accepted)
            return
        self.sent_lines.append(line)
        self.pending.append(line)
        if not t.get("candidate"):
            to = self.d.step(self.d.state, self.pending)
            if to is not None:
                self.d.state, self.pending = to, []
        if cmd in t["up"]:
            self.views.pop()
        elif cmd in self.d.views:
            self.views.append(self._view_name(cmd))
        asks = self._questions(cmd)
        if asks:
            first, rest = asks["asks"][0], asks["asks"][1:]
            self._ask(line, first, ("line", (rest, asks)))
            return
        self.say(line, "")

    def _questions(self, cmd: str) -> dict[str, Any] | None:
        """What the device asks after this line (a key at `Enter Password:`, a
        `[Y/N]` confirmation): the profile's or the session's `questions`."""
        for q in [*self.d.s.get("questions", []), *self.t.get("questions", [])]:
            if re.fullmatch(q["command"], cmd):
                return dict(q)
        return None

    def _line_answer(self, reply: str, rest: list[str], q: dict[str, Any]) -> None:
        """An answer to a configuration line's question: part of what was sent (the
        session's transitions list it after its line); the next question, if any."""
        self.sent_lines.append(reply)
        self.pending.append(reply)
        if not self.t.get("candidate"):
            to = self.d.step(self.d.state, self.pending)
            if to is not None:
                self.d.state, self.pending = to, []
        if rest:
            self._ask(reply, rest[0], ("line", (rest[1:], q)))
            return
        self.say(reply, q.get("then", ""))

    def _view_name(self, cmd: str) -> str:
        for pattern, name in self.t.get("views", []):
            m = re.fullmatch(pattern, cmd)
            if m:
                return str(name).format(*m.groups())
        return _words(cmd)[0]

    def _leave(self, cmd: str) -> None:
        if self.t.get("candidate") and self.pending:
            ask = self.t["uncommitted_on_leave"]
            self.transcript.append((cmd, ask))
            self.out += ask
            self.question = ("leave", None)
            return
        self.views = []
        self._settle()
        self.say(cmd, "")

    def _reject(self, cmd: str, known: set[str]) -> None:
        """The family's answer to a line it does not take: incomplete when the line is
        the start of one it takes, else unrecognised at the first word that matches
        none; the `^` under that spot of the echoed line (prompt included)."""
        words = _words(cmd)
        longer = [k for k in known if _words(k)[:len(words)] == words and
                  len(_words(k)) > len(words)]
        if longer:
            kind, at = "incomplete", len(cmd.rstrip())
        else:
            good = max((self._common(words, _words(k)) for k in known), default=0)
            kind = "unrecognized"
            at = len(" ".join(words[:good])) + (1 if good else 0)
        answer = self.t["errors"][kind].replace("{line}", cmd)
        if self.views:
            self.d.rejected.append(cmd)
            self.d.rejected_at.append(len(self.sent_lines))
        shown = ""
        if "^" in answer and self.t.get("caret", True):
            shown = " " * (len(self.prompt()) + at) + "^\n"
        self.say(cmd, shown + answer)

    @staticmethod
    def _common(a: list[str], b: list[str]) -> int:
        n = 0
        for x, y in zip(a, b, strict=False):
            if x != y:
                break
            n += 1
        return n

    # -- questions and their answers ------------------------------------------------------
    def _ask(self, cmd: str, text: str, then: tuple[str, Any]) -> None:
        self.transcript.append((cmd, text))
        self.out += text
        self.question = then

    def _answer(self, reply: str) -> None:
        assert self.question is not None
        what, arg = self.question
        self.question = None
        yes = reply.upper().startswith("Y")
        if what == "save":
            if yes:
                self.d.saved += 1
            self.say(reply, str(arg) if yes else "")
        elif what == "op":
            op, m = arg
            if yes:
                self._do(op, m)
            self.say(reply, op.get("output", "").format(*m.groups()) if yes else "")
        elif what == "line":
            rest, q = arg
            self._line_answer(reply, rest, q)
        elif what == "leave":
            if reply.upper().startswith("N"):
                self.pending = []
                self.views = []
            elif yes:
                self._apply_candidate()
                self.views = []
            self.say(reply, "")

    def _save(self, cmd: str, save: dict[str, Any]) -> None:
        if save.get("ask"):
            self._ask(cmd, save["ask"], ("save", save["output"]))
            return
        self.d.saved += 1
        self.say(cmd, save["output"])

    # -- the commit model ---------------------------------------------------------------------
    def _commit_op(self, cmd: str, op: dict[str, Any], m: re.Match[str]) -> None:
        if op["op"] in ("abort", "revert", "confirm", "extend") and \
                self.d.armed_from is None:
            self.say(cmd, op.get("nothing", self.t["errors"]["unrecognized"]))
            return
        if op.get("ask"):
            self._ask(cmd, op["ask"].format(*m.groups()), ("op", (op, m)))
            return
        self._do(op, m)
        self.say(cmd, op.get("output", "").format(*m.groups()))

    def _apply_candidate(self) -> None:
        to = self.d.walk(self.d.state, self.pending)
        if to is None:
            raise UnexpectedInput(f"commit of a candidate the session leads nowhere from "
                                  f"{self.d.state}: {self.pending}")
        self.d.state, self.pending = to, []

    def _do(self, op: dict[str, Any], m: re.Match[str]) -> None:
        d = self.d
        kind = op["op"]
        if kind == "trial":  # VRP8: the candidate runs, the timer reverts it
            before = d.state
            self._apply_candidate()
            d.armed_from, d.trial = before, True
        elif kind == "commit":  # VRP8: the candidate (or the trial) becomes final
            self._apply_candidate()
            d.armed_from, d.trial = None, False
        elif kind == "arm":  # Comware commit delay, IOS revert timer
            d.armed_from = d.state
            if op.get("enters_config"):
                self.views = ["system"]
        elif kind == "confirm":
            d.armed_from, d.trial = None, False
        elif kind == "extend":  # the running timer gets a new length: nothing else
            pass
        elif kind in ("abort", "revert"):
            d.state, d.armed_from, d.trial = str(d.armed_from), None, False
            self.pending = []
        elif kind == "discard":
            self.pending = []
        elif kind == "snapshot":
            d.files[m.group(1)] = d.state
        elif kind == "replace":
            if m.group(1) not in d.files:
                raise UnexpectedInput(f"replace from {m.group(1)!r}, never saved")
            d.state, self.pending = d.files[m.group(1)], []
        else:
            raise UnexpectedInput(f"unknown commit op {kind!r} in terminals.yaml")

    def take(self) -> str:
        out, self.out = self.out, ""
        return out


class SimChannel(Channel):
    """netmiko's Channel interface over the terminal: what netmiko writes is typed, what
    the terminal printed is read."""

    def __init__(self, term: Terminal):
        self.term = term

    def write_channel(self, out_data: str) -> None:
        self.term.write(out_data)

    def read_buffer(self) -> str:
        return self.term.take()

    def read_channel(self) -> str:
        return self.term.take()


def _sim_class(device_type: str) -> type[Any]:
    """netmiko's class for this device type, reached over the simulated terminal (its
    ``_open`` is netmiko's documented seam for that: connection, then preparation)."""
    base = CLASS_MAPPER[device_type]

    class Synthetic(base):  # type: ignore[misc,valid-type]
        term: Terminal

        def _open(self) -> None:
            self.channel = SimChannel(self.term)
            self.remote_conn = None
            self._try_session_preparation()

        def is_alive(self) -> bool:
            return self.term.alive

        def read_channel_timing(self, last_read: float = 2.0, read_timeout: float = 120.0,
                                **kw: Any) -> str:
            # The terminal answers as soon as it is written to: a short quiet spell means
            # it has said everything (netmiko waits 2 s of silence for a real device).
            return str(super().read_channel_timing(last_read=min(last_read, 0.02),
                                                   read_timeout=read_timeout, **kw))

        def disconnect(self) -> None:
            if self.term.alive:
                try:
                    self.cleanup()
                finally:
                    self.term.alive = False
            self.remote_conn = None

    Synthetic.__name__ = f"Synthetic{base.__name__}"
    return Synthetic


class FakeDevice:
    """Connect factory (``connect=`` of a driver): every connection is a new login to
    the same synthetic device, through netmiko's class for its device type."""

    def __init__(self, session: dict[str, Any]):
        self.session = session
        self.device = Device(session)
        self.conns: list[Any] = []
        self.terminals: list[Terminal] = []
        self._sent: list[str] = []
        self.transcript: list[tuple[str, str]] = []

    @property
    def state(self) -> str:
        return self.device.state

    def __call__(self, **params: Any) -> Any:
        if params.get("device_type") != self.session["device_type"]:
            raise UnexpectedInput(f"device_type {params.get('device_type')} != "
                                  f"{self.session['device_type']}")
        term = Terminal(self.device, self.transcript, self._sent)
        cls = _sim_class(self.session["device_type"])
        conn = cls(**{**params, "auto_connect": False})
        conn.term = term
        conn._open()
        self.terminals.append(term)
        self.conns.append(conn)
        return conn

    @property
    def sent_lines(self) -> list[str]:
        """Every configuration line the device accepted, in order."""
        return list(self._sent)

    @property
    def saved(self) -> int:
        return self.device.saved

    @property
    def rejected(self) -> list[str]:
        """Every configuration line the device answered with its error text."""
        return list(self.device.rejected)

    @property
    def rejected_at(self) -> list[int]:
        """For each rejected line, how many configuration lines the device had taken."""
        return list(self.device.rejected_at)

    def transcript_text(self) -> str:
        return "\n".join(f"{cmd}\n{out}" for cmd, out in self.transcript)


def target_of(session: dict[str, Any]) -> Target:
    """The engine's target for a session's device (an address no test can reach)."""
    return Target("dev-1", "dev-1.testcity", "testcity", session["driver"],
                  ConnParams(session["device_type"], "192.0.2.1", retries=0),
                  session["intended"])


def post_check_fails(extra: list[str],
                     also: Callable[[Driver], None] | None = None) -> Callable[[Driver], None]:
    """A driver hook: the second plan (the engine's post-check) still sees ``extra``
    lines to send, so the push counts as failed; ``also`` runs on the driver then (a
    test may make the session vanish with it)."""
    def hook(drv: Driver) -> None:
        real = drv.plan
        calls = {"n": 0}

        def plan(running: str, intended: str) -> list[str]:
            calls["n"] += 1
            lines = real(running, intended)
            if calls["n"] != 2:
                return lines
            if also is not None:
                also(drv)
            return [*lines, *extra]
        drv.plan = plan  # type: ignore[method-assign]
    return hook
