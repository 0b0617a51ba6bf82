"""`pesdc lab down` leaves nothing behind: namespaces, processes, mounts, files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pesdc.lab.paths import lab_dir

from .conftest import LABCITY, pesdc, require_lab

pytestmark = pytest.mark.lab
LAB = "tclean"


def test_down_removes_everything_the_lab_created():
    require_lab()
    res = pesdc("lab", "up", str(LABCITY), "--name", LAB)
    assert res.returncode == 0, res.stderr
    prefix = f"pesdc-{LAB}-"
    spaces = [n for n in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                        text=True).stdout.split() if n.startswith(prefix)]
    assert len(spaces) > 20
    pids = set()
    for ns in spaces:
        pids |= set(subprocess.run(["ip", "netns", "pids", ns], capture_output=True,
                                   text=True).stdout.split())
    assert pids
    assert lab_dir(LAB).is_dir()

    res = pesdc("lab", "down", "--name", LAB)
    assert res.returncode == 0, res.stderr

    left = [n for n in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                      text=True).stdout.split() if n.startswith(prefix)]
    assert left == []
    alive = []
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
            alive.append(pid)
    assert alive == []
    assert not lab_dir(LAB).exists()
    assert str(lab_dir(LAB)) not in Path("/proc/mounts").read_text()
    assert not list(Path("/etc/frr").glob(f"{prefix}*"))
    assert not list(Path("/var/run/frr").glob(f"{prefix}*"))
