"""The display output the drivers read back, parsed by ntc-templates (TextFSM templates
written from real devices' output, which pesdc did not write), where a template exists:
what pesdc reads from the same text agrees with the parse (issue 15, point 4).

What the drivers read back is the synthetic sessions' (tests/netpush/sessions/): the
running configuration (`display current-configuration`, `show running-config`), the
outputs of the commands a driver sends (`show archive`, `commit trial`, ...), and the
save's answer. Each such command has a template here or a reason it has none (NO_TEMPLATE):
a command read back that has neither fails, so a new readback is looked at.

- `show archive` (IOS, IOS-XE): pesdc's IosDriver.has_archive and the template's
  archive files / state agree on whether a rollback point exists.
- `show running-config` has no template for the whole text; ntc-templates parses an
  interface's block as `show running-config interface X` prints it: each interface
  block of the sessions' running configurations is parsed so, and its description and
  address agree with what the driver's diff reads (its hier_config tree).
- VRP and Comware: ntc-templates has no template for `display current-configuration`
  or any command the drivers send (the VRP `dir` template's index entry `d[[ir]]`
  prefix-matches every `display` command: the lookup here matches the whole command).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from ntc_templates.parse import _get_template_dir, parse_output
from textfsm import clitable

from pesdc.netpush.drivers import DRIVERS, ConnParams
from pesdc.platforms import platform

SESSIONS = Path(__file__).resolve().parents[1] / "netpush" / "sessions"
# netmiko device type -> ntc-templates platform. ntc-templates has no `cisco_xe` or
# VRP8 templates: IOS-XE prints `show archive` and `show running-config interface` as
# IOS does, VRP8 displays its configuration in VRP's form.
NTC_PLATFORM = {"cisco_ios": "cisco_ios", "cisco_xe": "cisco_ios", "huawei": "huawei_vrp",
                "huawei_vrpv8": "huawei_vrp", "hp_comware": "hp_comware"}
# Commands read back for which ntc-templates 9 has no template, and why that is so.
NO_TEMPLATE = {
    "display current-configuration": "the whole configuration: no VRP or Comware "
                                     "template (pesdc reads it with hier_config)",
    "show running-config": "the whole configuration: no template; its interface blocks "
                           "are parsed with the `show running-config interface` one",
    "save": "an exchange with a confirmation, not a table",
    "save force": "an exchange, not a table",
    "write mem": "an exchange, not a table",
    "write memory": "an exchange, not a table",
    "commit trial": "VRP8 commit answers: no template",
    "commit": "VRP8 commit answers: no template",
    "abort trial": "VRP8 commit answers: no template",
}
NO_TEMPLATE_RX = re.compile(r"^(configure (revert|confirm|replace|terminal)|"
                            r"configuration (commit|rollback)|rollback |"
                            r"[YyNn]$)")  # the last: a confirmation's answer
# A session text ntc-templates' template (written from device output) cannot read, and
# how the device prints it instead: the test is a strict xfail until the session is.
UNLIKE_DEVICE = (
    ("show archive", re.compile(r"^Archive feature"),
     "the session's `Archive feature not enabled` lacks the leading space IOS prints "
     "(ntc-templates cisco_ios_show_archive: `^\\sArchive feature ${STATE}`; a public "
     "IOS lab transcript shows ` Archive feature not enabled`)"),
)


@cache
def sessions() -> dict[str, dict[str, Any]]:
    """Every synthetic session whose device type ntc-templates has a platform for."""
    linux = set(platform("linux").drivers)  # Linux gear: read by nft and vtysh
    out = {}
    for path in sorted(SESSIONS.glob("*/session.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data.get("device_type") in NTC_PLATFORM and data.get("driver") not in linux:
            out[path.parent.name] = data
    return out


def readbacks(session: dict[str, Any]) -> dict[str, list[str]]:
    """command -> the outputs the session answers it with."""
    out: dict[str, list[str]] = {session["show_running"]: list(session["running"].values())}
    for cmd, text in (session.get("commands") or {}).items():
        out.setdefault(cmd, []).append(text or "")
    save = session.get("save") or {}
    if save.get("cmd"):
        out.setdefault(save["cmd"], []).append(save.get("output") or "")
    return out


@cache
def _index() -> clitable.CliTable:
    return clitable.CliTable("index", _get_template_dir())


def template_for(platform: str, command: str) -> str | None:
    """The ntc-templates template for a platform's command; the index's patterns must
    match the whole command (clitable matches a prefix: `d[[ir]]` takes `display`)."""
    index = _index().index
    for i in range(1, index.index.size + 1):
        compiled = index.compiled[i]
        if compiled["Platform"].fullmatch(platform) and \
                compiled["Command"].fullmatch(command):
            return str(index.index[i]["Template"])
    return None


def unlike_device(session: dict[str, Any], command: str) -> str | None:
    """Why the session's output of a command is not as the device prints it, if so."""
    for cmd, rx, why in UNLIKE_DEVICE:
        if cmd == command and any(rx.match(t) for t in readbacks(session).get(cmd, [])):
            return why
    return None


def _cases() -> list[Any]:
    out = []
    for name, s in sessions().items():
        for cmd in readbacks(s):
            why = unlike_device(s, cmd)
            marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
            out.append(pytest.param(name, cmd, marks=marks))
    return out


def test_the_sessions_are_found() -> None:
    assert {s["device_type"] for s in sessions().values()} >= {"cisco_ios", "huawei",
                                                                "hp_comware"}


@pytest.mark.parametrize("session, command", _cases())
def test_every_readback_has_a_template_or_a_reason(session: str, command: str) -> None:
    platform = NTC_PLATFORM[sessions()[session]["device_type"]]
    template = template_for(platform, command)
    if template is None:
        assert command in NO_TEMPLATE or NO_TEMPLATE_RX.match(command), (
            f"{session}: `{command}` is read back, has no {platform} template in "
            "ntc-templates and no reason in NO_TEMPLATE")
        return
    for text in readbacks(sessions()[session])[command]:
        if text.strip():
            parse_output(platform=platform, command=command, data=text)  # parses


class _Answers:
    """The session's answer to a display command: what netmiko's send_command returns
    for it (the transport is tested in tests/netpush with the simulated terminal)."""

    def __init__(self, outputs: dict[str, str]):
        self.outputs = outputs

    def send_command(self, cmd: str, **_: Any) -> str:
        return self.outputs[cmd]


def _archive_sessions() -> list[str]:
    return sorted(n for n, s in sessions().items() if "show archive" in readbacks(s))


def _archive_case(name: str) -> Any:
    why = unlike_device(sessions()[name], "show archive")
    return pytest.param(name, marks=[pytest.mark.xfail(strict=True, reason=why)] if why
                        else [])


@pytest.mark.parametrize("name", [_archive_case(n) for n in _archive_sessions()])
def test_show_archive_pesdc_and_ntc_agree(name: str) -> None:
    session = sessions()[name]
    text = readbacks(session)["show archive"][0]
    rows = parse_output(platform=NTC_PLATFORM[session["device_type"]],
                        command="show archive", data=text)
    ntc_has = any(r["filenames"] or r["next_filename"] for r in rows) and \
        not any(r["state"] == "not enabled" for r in rows)
    drv = DRIVERS[session["driver"]](ConnParams(session["device_type"], "192.0.2.1"))
    drv.conn = _Answers({"show archive": text})
    assert drv.has_archive() is ntc_has, (name, rows)


def _archive_readers() -> list[str]:
    """The drivers that read `show archive` (the IOS families' confirmed change)."""
    return sorted(k for k, cls in DRIVERS.items() if hasattr(cls, "has_archive"))


@pytest.mark.parametrize("key", _archive_readers())
def test_show_archive_both_states_parse(key: str) -> None:
    """The two states as ntc-templates reads them, pesdc's reading of the same text."""
    off = " Archive feature not enabled\n"
    on = ("The maximum archive configurations allowed is 14.\n"
          "There are currently 1 archive configurations saved.\n"
          "The next archive file will be named flash:pesdc-archive-2\n"
          " Archive #  Name\n   1        flash:pesdc-archive-1 <- Most Recent\n")
    drv = DRIVERS[key](ConnParams("cisco_ios", "192.0.2.1"))
    for text, want in ((off, False), (on, True)):
        rows = parse_output(platform="cisco_ios", command="show archive", data=text)
        ntc_has = not any(r["state"] == "not enabled" for r in rows) and \
            any(r["filenames"] for r in rows)
        drv.conn = _Answers({"show archive": text})
        assert (ntc_has, drv.has_archive()) == (want, want), rows


def _interface_blocks(config: str) -> list[str]:
    """Each `interface` block up to its `!`, as `show running-config interface X`
    prints it."""
    blocks, cur = [], None
    for line in config.splitlines():
        if line.startswith("interface "):
            cur = [line]
        elif cur is not None and line.startswith(" "):
            cur.append(line)
        elif cur is not None:
            blocks.append("\n".join([*cur, "!"]) + "\n")
            cur = None
    if cur is not None:
        blocks.append("\n".join([*cur, "!"]) + "\n")
    return blocks


def _ios_sessions() -> list[str]:
    return sorted(n for n, s in sessions().items()
                  if NTC_PLATFORM[s["device_type"]] == "cisco_ios"
                  and s["show_running"] == "show running-config")


@pytest.mark.parametrize("name", _ios_sessions())
def test_interfaces_pesdc_reads_are_what_ntc_parses(name: str) -> None:
    session = sessions()[name]
    drv = DRIVERS[session["driver"]](ConnParams(session["device_type"], "192.0.2.1"))
    compared = 0
    for state, config in session["running"].items():
        ntc: dict[str, tuple[str, str]] = {}
        for block in _interface_blocks(config):
            for row in parse_output(platform="cisco_ios",
                                    command="show running-config interface X", data=block):
                ntc[row["interface"]] = (row["description"].strip(),
                                         f"{row['ip_address']} {row['netmask']}".strip())
        mine: dict[str, tuple[str, str]] = {}
        for itf in drv.hconfig(config).children:
            if not itf.text.startswith("interface "):
                continue
            kids = [c.text for c in itf.children]
            desc = next((k[len("description "):] for k in kids
                         if k.startswith("description ")), "")
            addr = next((k[len("ip address "):] for k in kids
                         if re.match(r"ip address \d", k)), "")
            mine[itf.text.split(" ", 1)[1]] = (desc.strip(), addr)
        assert mine == ntc, (name, state)
        compared += len(ntc)
    assert compared, f"{name}: no interface to compare"
