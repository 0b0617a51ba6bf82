"""Run the controller side of a lab run inside the lab's controller namespace.

Network safety: that namespace has routes only into the lab, so when a lab is down a
connection to a topology address fails locally instead of leaving the machine by the
default route. Every engine (pyinfra, ansible, testinfra, netmiko) goes through here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pesdc.i18n import N_
from pesdc.lab import netns
from pesdc.lab.errors import LabError
from pesdc.lab.runtime import Lab

INSIDE_ENV = "PESDC_INSIDE_LAB"  # set to the lab name once inside its controller ns


@dataclass(frozen=True)
class LabAccess:
    """How a controller reaches the lab's hosts: keys and host keys stay checked."""

    name: str
    controller_ns: str
    ssh_config: Path
    identity: Path
    known_hosts: Path


def access(name: str) -> LabAccess:
    lab = Lab(name)
    if not lab.exists():
        raise LabError(N_("lab {name!r} is not up: run `pesdc lab up PATH --dc {name}` first"),
                       name=name)
    ns = lab.load_state().get("controller_ns")
    if not ns or ns not in netns.existing():
        raise LabError(N_("lab {name!r} has no controller namespace: run `pesdc lab up` to "
                          "repair it"), name=name)
    return LabAccess(name, ns, lab.ssh_dir / "ssh_config", lab.ssh_dir / "id_ed25519",
                     lab.ssh_dir / "known_hosts")


def inside(name: str) -> bool:
    return os.environ.get(INSIDE_ENV) == name


def run_inside(name: str, argv: Sequence[str], **kw: object) -> subprocess.CompletedProcess[str]:
    """Run a command in the lab's controller namespace."""
    acc = access(name)
    env = {**os.environ, INSIDE_ENV: name, **kw.pop("env", {})}  # type: ignore[dict-item]
    return subprocess.run(netns.ns_exec(acc.controller_ns, *argv), env=env, text=True,
                          **kw)  # type: ignore[call-overload]


def reexec_inside(name: str) -> None:
    """Re-run this very pesdc command inside the controller namespace (no return)."""
    if inside(name):
        return
    acc = access(name)
    os.environ[INSIDE_ENV] = name
    argv = netns.ns_exec(acc.controller_ns, sys.executable, "-m", "pesdc", *sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp(argv[0], argv)
