"""The IOS access switch configuration pushed with netmiko into fake-switches (a
third-party Cisco switch emulator over SSH), read back from `show running-config`.

Only 127.0.0.1 is ever a target. The emulator takes the VLAN and interface lines
(vlan/name, interface Vlan/description/ip address); it does not implement the rest of
IOS, so the hardening lines are checked by the syntax tests, not here.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.render.vendor_util import hconfig, render_case

HOST = "127.0.0.1"
USER, PASSWORD = "pesdc", "pesdc-lab"  # the emulator's own login, not a device secret


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _fake_switches_bin() -> str | None:
    cand = Path(sys.executable).parent / "fake-switches"
    return str(cand) if cand.is_file() else shutil.which("fake-switches")


@pytest.fixture(scope="module")
def fake_switch() -> Iterator[int]:
    exe = _fake_switches_bin()
    if exe is None:
        pytest.fail("fake-switches is not installed: scripts/setup.sh installs it into .venv "
                    "(pip install --no-deps fake-switches); run scripts/setup.sh", pytrace=False)
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "--model", "cisco_generic", "--hostname", "acc-1", "--username", USER,
         "--password", PASSWORD, "--listen-host", HOST, "--listen-port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                pytest.fail(f"fake-switches exited: {err[-2000:]}")
            try:
                with socket.create_connection((HOST, port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("fake-switches did not listen within 30 s")
                time.sleep(0.2)
        yield port
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _vlan_interface_lines(text: str) -> list[str]:
    """The rendered VLAN and SVI lines the emulator understands, in push order."""
    tree = hconfig("cisco_ios", text)
    lines: list[str] = []
    for sec in tree.children:
        if sec.text.startswith("vlan "):
            lines += [sec.text, *(f" {c.text}" for c in sec.children), "exit"]
    for sec in tree.children:
        if sec.text.startswith("interface Vlan"):
            keep = [c.text for c in sec.children
                    if c.text.startswith(("description ", "ip address "))]
            lines += [sec.text, *(f" {t}" for t in keep), "exit"]
    return lines


def _ascii(line: str) -> str:
    """fake-switches drops non-ASCII characters (a Chinese description comes back
    without them); compare what it can represent."""
    return " ".join(line.encode("ascii", "ignore").decode().split())


def test_push_ios_switch_vlans_into_fake_switches(fake_switch: int) -> None:
    from netmiko import ConnectHandler

    _, text = render_case("ios")[0]["acc-1"]
    lines = _vlan_interface_lines(text)
    assert lines
    conn = ConnectHandler(device_type="cisco_ios", host=HOST, port=fake_switch,
                          username=USER, password=PASSWORD, secret="",
                          fast_cli=False, timeout=20)
    try:
        conn.enable()
        out = conn.send_config_set(lines, exit_config_mode=False, cmd_verify=False)
        assert "Invalid input" not in out and "%" not in out.replace("%%", ""), out
        conn.exit_config_mode(exit_config="exit")
        running = str(conn.send_command("show running-config", read_timeout=30))
    finally:
        conn.disconnect()
    back = hconfig("cisco_ios", running)
    intended = hconfig("cisco_ios", text)
    for sec in intended.children:
        if sec.text.startswith("vlan "):
            got = back.get_child(equals=sec.text)
            assert got is not None, f"{sec.text} missing from:\n{running}"
            assert [c.text for c in sec.children] == [c.text for c in got.children]
        if sec.text.startswith("interface Vlan"):
            got = back.get_child(equals=sec.text)
            assert got is not None, f"{sec.text} missing from:\n{running}"
            want = {_ascii(c.text) for c in sec.children
                    if c.text.startswith(("description ", "ip address "))}
            assert want <= {_ascii(c.text) for c in got.children}, (sec.text, running)
