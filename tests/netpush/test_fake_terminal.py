"""The synthetic terminal itself (tests/netpush/fake.py), typed at directly: what the
driver tests lean on must hold (prompts per view, the family's error answers with the
`^` under the spot, VRP8's candidate marks and its question on leaving, paging)."""

from __future__ import annotations

import pytest

from tests.netpush.fake import Device, Terminal, load_session, synthetic_drivers


def _term(name: str) -> Terminal:
    term = Terminal(Device(load_session(name)), [], [])
    term.take()
    return term


def _type(term: Terminal, line: str) -> str:
    term.write(line + "\n")
    return term.take()


def _profiled(profile: str) -> str:
    from tests.netpush.fake import terminal_of

    for name in sorted(set(synthetic_drivers().values())):
        if terminal_of(load_session(name))["profile"] == profile:
            return name
    pytest.skip(f"no session uses the {profile} profile")


@pytest.mark.parametrize("profile", ["vrp5", "vrp8", "comware7", "ios"])
def test_an_unknown_line_gets_the_familys_answer_with_the_marker(profile: str) -> None:
    term = _term(_profiled(profile))
    _type(term, term.t["enter_config"][0])
    prompt = term.prompt()
    word = term.d.s["transitions"][0]["lines"][0].split()[0]  # a word the device takes
    typed = f"{word} adress 10.0.0.1"
    out = _type(term, typed)
    lines = out.splitlines()
    assert lines[0] == typed  # the echo
    answer = term.t["errors"]["unrecognized"]
    assert answer in out
    caret = next(ln for ln in lines if ln.strip() == "^")
    # Under the first word no accepted line continues with: "adress".
    assert caret.index("^") == len(prompt) + len(word) + 1, out
    assert out.endswith(term.prompt())
    assert term.d.rejected == [typed]


@pytest.mark.parametrize("profile", ["vrp5", "comware7", "ios"])
def test_the_start_of_an_accepted_line_is_incomplete(profile: str) -> None:
    term = _term(_profiled(profile))
    _type(term, term.t["enter_config"][0])
    first = term.d.s["transitions"][0]["lines"][0].strip()
    start = " ".join(first.split()[:-1])
    assert start, first
    out = _type(term, start)
    assert term.t["errors"]["incomplete"] in out


def test_vrp8_marks_the_candidate_and_asks_before_leaving_it() -> None:
    term = _term(_profiled("vrp8"))
    assert term.prompt() == f"<{term.name}>"
    _type(term, "system-view")
    assert term.prompt() == f"[~{term.name}]"
    first = term.d.s["transitions"][0]["lines"][0]
    _type(term, first)
    assert term.prompt().startswith(f"[*{term.name}")
    out = _type(term, "return")
    assert "[Y(yes)/N(no)/C(cancel)]" in out
    _type(term, "N")  # leave without committing: the candidate is dropped
    assert term.prompt() == f"<{term.name}>"
    assert term.d.state == term.d.s["start"]


def test_a_sub_view_shows_in_the_prompt() -> None:
    term = _term(_profiled("vrp5"))
    _type(term, "system-view")
    _type(term, "aaa")
    assert term.prompt() == f"[{term.name}-aaa]"
    _type(term, "quit")
    assert term.prompt() == f"[{term.name}]"


def test_paging_stops_at_more_until_a_key() -> None:
    term = _term(_profiled("vrp5"))
    out = _type(term, term.d.s["show_running"])
    more = term.t["paging"]["more"]
    assert out.endswith(more)
    rest = term.take()
    assert rest == ""  # nothing more until a key
    term.write(" ")
    assert term.take()  # the next page


def test_a_key_asked_at_its_prompts_is_answered_and_never_echoed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """VRP5 takes an SNMPv3 key only at `Enter Password:` / `Confirm Password:`; the
    huawei_vrp driver types the command, then the key twice. The device shows neither
    answer, and the three lines are what it took."""
    from pesdc.netpush.drivers import DRIVERS, ConnParams, Driver
    from pesdc.netpush.secrets import Secrets
    from tests.netpush.fake import FakeDevice

    monkeypatch.setattr(Driver, "read_timeout", 10.0)
    session = load_session(synthetic_drivers()["huawei_vrp"])
    cmd = "snmp-agent usm-user v3 monitor authentication-mode sha2-256"
    key = "Pesdc-Test-Snmp-Key-7"
    session["transitions"].append({"from": session["start"], "to": "keyed",
                                   "lines": [cmd, key, key]})
    session["running"]["keyed"] = session["running"][session["start"]]
    sec = Secrets({"snmp-auth": key}, env={})
    dev = FakeDevice(session)
    drv = DRIVERS["huawei_vrp"](ConnParams("huawei", "192.0.2.1", retries=0), connect=dev,
                                redact=sec.redact, fill=sec.fill)
    drv.open()
    out = drv.push([f"{cmd} %%PESDC_SECRET:snmp-auth%%"])
    assert dev.sent_lines == [cmd, key, key]
    assert dev.state == "keyed"
    shown = "".join(o for _, o in dev.transcript)
    assert "Enter Password:" in shown and "Confirm Password:" in shown
    assert key not in out
