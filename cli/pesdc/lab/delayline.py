"""A delay line for the lab's municipal links: this kernel has no netem.

Each link is a pair of TUN devices, one moved into each end's namespace; this process
holds both file descriptors and copies every packet from one to the other after half
the link's round-trip time. Bandwidth is limited by tbf on each TUN device (tbf is
available). When the process ends, the kernel deletes its TUN devices: nothing lingers.

Run as ``python3 -m pesdc.lab.delayline SPEC.json`` inside the lab's switch namespace.
SPEC: [{"a_ns", "a_if", "b_ns", "b_if", "delay_ms"}, ...]. Prints "ready" when every
device sits in its namespace.
"""

from __future__ import annotations

import errno
import fcntl
import heapq
import json
import os
import select
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def place(tmp: str, ns: str, name: str) -> None:
    subprocess.run(["ip", "link", "set", "dev", tmp, "netns", ns], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "dev", tmp, "name", name], check=True)


def main(spec_file: str) -> None:
    with open(spec_file) as fh:
        spec = json.load(fh)
    peer: dict[int, tuple[int, float]] = {}
    for n, link in enumerate(spec):
        fa, fb = open_tun(f"dla{n}"), open_tun(f"dlb{n}")
        place(f"dla{n}", link["a_ns"], link["a_if"])
        place(f"dlb{n}", link["b_ns"], link["b_if"])
        one_way = max(float(link["delay_ms"]), 0.0) / 1000.0
        peer[fa] = (fb, one_way)
        peer[fb] = (fa, one_way)
    print("ready", flush=True)
    queue: list[tuple[float, int, int, bytes]] = []
    seq = 0
    fds = list(peer)
    while True:
        timeout = max(queue[0][0] - time.monotonic(), 0.0) if queue else 1.0
        readable, _, _ = select.select(fds, [], [], timeout)
        now = time.monotonic()
        for fd in readable:
            dst, delay = peer[fd]
            while True:
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                except OSError as exc:
                    if exc.errno == errno.EBADFD:  # the device went away with its namespace
                        return
                    break  # EIO: the device is not up yet

                seq += 1
                heapq.heappush(queue, (now + delay, seq, dst, pkt))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, dst, pkt = heapq.heappop(queue)
            try:
                os.write(dst, pkt)
            except OSError as exc:
                if exc.errno == errno.EBADFD:
                    return
                # a full or down device drops the packet, as a congested link would


if __name__ == "__main__":
    main(sys.argv[1])
