"""Run inside the lab's controller namespace (test_lab.py starts it with run_inside):
apply rt-1 with small batches and, after the first batch, kill the device's sshd
session process (found by PID in the device's namespace), then print the result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path


def session_pids(netns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True,
                         check=True).stdout.split()
    pids = []
    for p in out:
        try:
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        # A session's sshd ("sshd: root@notty", "sshd: root [priv]"), not the listener
        # (OpenSSH 9 titles it "sshd: /usr/sbin/sshd ... [listener] ...").
        if cmd.startswith("sshd: ") and "[listener]" not in cmd:
            pids.append(int(p))
    return pids


def main(paths: list[str], lab: str, device: str) -> int:
    from pesdc.model import validate
    from pesdc.netpush.drivers import Driver
    from pesdc.netpush.engine import apply_device, build_targets
    from pesdc.netpush.secrets import Secrets

    topo = validate([Path(p) for p in paths]).topology
    dc = next(d.name for d in topo.datacenters.values()
              if d.tier.value == "city" and not d.hosted)
    secrets = Secrets.load()
    targets, _ = build_targets(topo, dc, lab, [device], secrets)
    killed: list[int] = []
    netns = f"pesdc-{lab}-{device}"

    def hook(drv: Driver) -> None:
        drv.batch = 5  # type: ignore[misc]

        def cut(sent: int, total: int) -> None:
            if killed or sent >= total:
                return
            for pid in session_pids(netns):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        drv.on_batch = cut

    res = apply_device(targets[0], secrets, driver_hook=hook)
    print(json.dumps({"result": res.as_dict(), "killed": killed}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[3:], sys.argv[1], sys.argv[2]))
