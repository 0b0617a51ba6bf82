"""A live center as a real site sees it: the controller outside the center.

One lab (the small city, lab name ``live16``) and its operator namespace: the
engineer's workstation, whose only route is to the bastion host. Every command here
runs in that namespace with ``--live PROFILE``, so every connection (pyinfra, netmiko to
the FRR and nftables stand-ins, the key scan) goes through the bastion or nowhere. The
profile is a rehearsal one (``--stand-ins live16``): the center's gear are the lab's
stand-ins, as the journal says.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from pesdc.lab import image
from tests.conftest import ROOT

PESDC = str(ROOT / ".venv/bin/pesdc")
CITY = str(ROOT / "tests/fixtures/labcity")
LAB = "live16"
SECRET = "Rp-live16-3f9c1d"  # the replication password of this run: must appear nowhere

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(os.geteuid() != 0 or not image.is_ready(),
                                 reason="needs root and the lab image")]


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 600
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


TIMES: dict[str, float] = {}


def outside(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """A pesdc command on the operator's workstation (the operator namespace)."""
    import time

    from pesdc.lab.operator import operator_argv

    started = time.monotonic()
    try:
        return run(*operator_argv(LAB, [PESDC, *args]),
                   env={"PESDC_SECRET_REPLICATION_PASSWORD": SECRET}, timeout=timeout)
    finally:
        TIMES[" ".join(args[:2])] = round(time.monotonic() - started, 1)
        print("outside:", " ".join(args[:3]), TIMES[" ".join(args[:2])], "s")


def ok(res: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert res.returncode == 0, f"rc={res.returncode}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("live16")
    run(PESDC, "lab", "down", "--name", LAB)
    ok(run(PESDC, "lab", "up", CITY, "--name", LAB))
    from pesdc.lab.paths import lab_dir

    key = lab_dir(LAB) / "ssh" / "id_ed25519"
    profile = d / "weihai.targets.yaml"
    ok(run(PESDC, "targets", "init", CITY, "--dc", "weihai", "-o", str(profile),
           "--identity-file", str(key), "--stand-ins", LAB))
    outputs: list[str] = []
    trust = outside("targets", "trust", str(profile), CITY, "--yes")
    outputs += [trust.stdout, trust.stderr]
    apply1 = outside("apply", CITY, "--live", str(profile), "--yes", "--json")
    outputs += [apply1.stdout, apply1.stderr]
    apply2 = outside("apply", CITY, "--live", str(profile), "--yes", "--json")
    outputs += [apply2.stdout, apply2.stderr]
    net = outside("net", "apply", CITY, "--live", str(profile), "--yes", "--json")
    outputs += [net.stdout, net.stderr]
    try:
        yield {"profile": profile, "trust": trust, "apply1": apply1, "apply2": apply2,
               "net": net, "outputs": outputs, "dir": d}
    finally:
        run(PESDC, "lab", "down", "--name", LAB)


def test_the_operator_reaches_the_bastion_only(live) -> None:  # type: ignore[no-untyped-def]
    from pesdc.lab.operator import operator_argv

    # web-1 of the small city, directly: no route from the workstation.
    connect = "import socket; socket.create_connection(('10.50.0.10', 22), 3)"
    probe = run(*operator_argv(LAB, ["python3", "-c", connect]))
    assert probe.returncode != 0 and "unreachable" in probe.stderr.lower(), probe.stderr


def test_trust_pins_every_host_and_device_through_the_bastion(live) -> None:  # type: ignore[no-untyped-def]
    ok(live["trust"])
    pinned = (live["dir"] / "weihai.known_hosts").read_text()
    lines = [ln for ln in pinned.splitlines() if ln and not ln.startswith("#")]
    # the small city's 11 servers and its Linux gear stand-ins, each with its key
    assert len(lines) >= 11, pinned
    assert re.search(r"^# bastion-1 \(bastion\) ssh-ed25519 SHA256:", pinned, re.M), pinned


def test_apply_through_the_bastion_converges(live) -> None:  # type: ignore[no-untyped-def]
    first = json.loads(ok(live["apply1"]).stdout)
    assert first["ok"] and len(first["hosts"]) == 11
    assert sum(h["changed"] for h in first["hosts"]) > 100
    second = json.loads(ok(live["apply2"]).stdout)
    assert second["ok"] and second["changed"] == 0, [
        (h["host"], h["changes"]) for h in second["hosts"] if h["changed"]]


def test_net_apply_through_the_bastion(live) -> None:  # type: ignore[no-untyped-def]
    res = json.loads(ok(live["net"]).stdout)
    assert res["ok"] and res["hosts"], res


def test_a_run_without_lab_or_live_refuses_on_the_workstation(live) -> None:  # type: ignore[no-untyped-def]
    res = outside("apply", CITY)
    assert res.returncode == 2 and "refused" in res.stderr and "--live PROFILE" in res.stderr


def _edit_key(profile_dir: Path, address: str, new_blob: str | None) -> Path:
    """A copy of the profile whose pinned file lacks (None) or changes one host's key."""
    d = profile_dir / f"edit-{address}-{bool(new_blob)}"
    d.mkdir()
    prof = (profile_dir / "weihai.targets.yaml").read_text()
    (d / "weihai.targets.yaml").write_text(prof)
    out = []
    for ln in (profile_dir / "weihai.known_hosts").read_text().splitlines():
        if ln.startswith(address + " "):
            if new_blob is None:
                continue
            ln = f"{address} ssh-ed25519 {new_blob}"
        out.append(ln)
    (d / "weihai.known_hosts").write_text("\n".join(out) + "\n")
    return d / "weihai.targets.yaml"


def test_a_changed_key_stops_that_host_naming_both_fingerprints(live) -> None:  # type: ignore[no-untyped-def]
    from pesdc.targets.hostkeys import fingerprint

    other = "AAAAC3NzaC1lZDI1NTE5AAAAIBx7rq3o9w8l4qT3t3aK0QyZ4sQeB1Q0r8v2bqJY7hXx"
    profile = _edit_key(live["dir"], "10.50.0.10", other)  # web-1
    res = outside("apply", CITY, "--live", str(profile), "--limit", "web-1",
                  "--limit", "log-1", "--yes", "--json")
    assert res.returncode == 1, res.stderr
    hosts = {h["host"]: h for h in json.loads(res.stdout)["hosts"]}
    web = hosts["web-1.weihai"]
    assert not web["ok"] and "HOST KEY CHANGED" in web["error"]
    assert fingerprint(other) in web["error"]
    assert hosts["log-1.weihai"]["ok"]  # the others go on


def test_an_unknown_key_stops_that_host(live) -> None:  # type: ignore[no-untyped-def]
    profile = _edit_key(live["dir"], "10.50.0.10", None)
    res = outside("apply", CITY, "--live", str(profile), "--limit", "web-1", "--yes",
                  "--json")
    assert res.returncode == 1
    web = json.loads(res.stdout)["hosts"][0]
    assert not web["ok"] and "not pinned" in web["error"]


def test_the_runs_secret_appears_in_no_output(live) -> None:  # type: ignore[no-untyped-def]
    from pesdc.lab.paths import state_dir

    assert all(SECRET not in text for text in live["outputs"])
    journal = state_dir() / "journal"
    for f in journal.rglob("*") if journal.is_dir() else []:
        if f.is_file():
            assert SECRET not in f.read_text(errors="replace"), f
