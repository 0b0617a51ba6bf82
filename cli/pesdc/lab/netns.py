"""Thin, explicit wrappers over iproute2, nft and tc for lab namespaces.

Every command names its namespace: nothing here touches the machine's own network
namespace except creating and deleting the named ones.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence

from pesdc.lab.errors import LabError


def run(cmd: Sequence[str], check: bool = True, input: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(list(cmd), capture_output=True, text=True, input=input,
                         timeout=timeout)
    if check and res.returncode != 0:
        raise LabError(f"{' '.join(cmd)} failed: {(res.stderr or res.stdout).strip()}")
    return res


def ns_exec(ns: str, *cmd: str) -> list[str]:
    return ["ip", "netns", "exec", ns, *cmd]


def existing() -> set[str]:
    res = run(["ip", "netns", "list"], check=False)
    return {line.split()[0] for line in res.stdout.splitlines() if line.strip()}


def create(ns: str) -> None:
    if ns not in existing():
        run(["ip", "netns", "add", ns])
    run(["ip", "-n", ns, "link", "set", "lo", "up"])


def pids(ns: str) -> list[int]:
    res = run(["ip", "netns", "pids", ns], check=False)
    return [int(p) for p in res.stdout.split() if p.isdigit()]


def gone(pid: int) -> bool:
    """Dead, or a zombie (this sandbox's init may not reap orphans quickly)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def kill_pids(pid_list: list[int]) -> None:
    for pid in pid_list:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    for pid in pid_list:
        while time.monotonic() < deadline:
            if gone(pid):
                break
            with contextlib.suppress(ChildProcessError):  # reap it if it was ours
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.02)


def delete(ns: str) -> None:
    """Kill every process in the namespace (by PID), then delete it."""
    if ns not in existing():
        return
    kill_pids(pids(ns))
    run(["ip", "netns", "delete", ns], check=False)


def batch(ns: str, commands: list[str]) -> None:
    """Many `ip` commands in one process (`ip -batch`): a lab has hundreds."""
    if commands:
        run(["ip", "-n", ns, "-batch", "-"], input="\n".join(commands) + "\n")


def links(ns: str) -> set[str]:
    """Interface names in a namespace, in one call."""
    res = run(["ip", "-n", ns, "-o", "link", "show"], check=False)
    return {line.split(":")[1].strip().split("@")[0] for line in res.stdout.splitlines()
            if line.count(":") >= 2}


def listening(pid: int, address: str, port: int) -> bool:
    """Whether anything in ``pid``'s network namespace listens on address:port (TCP),
    read from /proc without starting a process in the namespace."""
    want = "".join(f"{int(o):02X}" for o in reversed(address.split("."))) + f":{port:04X}"
    try:
        with open(f"/proc/{pid}/net/tcp") as fh:
            return any(f" {want} " in line and line.split()[3] == "0A" for line in fh)
    except OSError:
        return False


def link_exists(ns: str, ifname: str) -> bool:
    return run(["ip", "-n", ns, "link", "show", ifname], check=False).returncode == 0


def add_bridge(ns: str, name: str) -> None:
    if not link_exists(ns, name):
        run(["ip", "-n", ns, "link", "add", name, "type", "bridge"])
        # No STP delay and no multicast snooping: lab segments come up at once.
        run(["ip", "-n", ns, "link", "set", name, "type", "bridge", "forward_delay", "0",
             "stp_state", "0", "mcast_snooping", "0"], check=False)
    run(["ip", "-n", ns, "link", "set", name, "up"])


def configure_if(ns: str, ifname: str, addresses: list[str], mac: str = "",
                 master: str | None = None) -> None:
    if mac:
        run(["ip", "-n", ns, "link", "set", ifname, "address", mac])
    for addr in addresses:
        run(["ip", "-n", ns, "addr", "replace", addr, "dev", ifname])
    if master:
        run(["ip", "-n", ns, "link", "set", ifname, "master", master])
    run(["ip", "-n", ns, "link", "set", ifname, "up"])


def route(ns: str, prefix: str, via: str) -> None:
    run(["ip", "-n", ns, "route", "replace", prefix, "via", via])


def shape(ns: str, ifname: str, bandwidth_mbps: float) -> None:
    """The link's rate (tbf; latency comes from the delay line, this kernel has no netem)."""
    run(["ip", "netns", "exec", ns, "tc", "qdisc", "replace", "dev", ifname, "root",
         "tbf", "rate", f"{bandwidth_mbps:g}mbit", "burst", "64kb", "latency", "200ms"])


def sysctl(ns: str, key: str, value: str) -> None:
    run(ns_exec(ns, "sysctl", "-q", "-w", f"{key}={value}"))
