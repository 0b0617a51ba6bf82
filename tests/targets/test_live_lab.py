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
import shutil
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
    # A state directory of this module's own: its journal holds this run's entries only.
    old_state = os.environ.get("PESDC_STATE_DIR")
    os.environ["PESDC_STATE_DIR"] = str(d / "state")
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
        if old_state is None:
            os.environ.pop("PESDC_STATE_DIR", None)
        else:
            os.environ["PESDC_STATE_DIR"] = old_state


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


def _journal() -> list[dict]:  # type: ignore[type-arg]
    from pesdc.journal import journal_path

    return [json.loads(ln) for ln in journal_path().read_text().splitlines() if ln.strip()]


def test_the_live_runs_are_journaled_chained_and_on_the_log_server(live) -> None:  # type: ignore[no-untyped-def]
    rows = _journal()
    applies = [r for r in rows if r["action"] == "apply" and r["result"] == "ok"]
    pushes = [r for r in rows if r["action"] == "net apply"]
    assert len(applies) >= 22 and pushes, [r["action"] for r in rows]
    assert all("live via bastion bastion-1" in r["target"] for r in applies + pushes)
    assert all(r["lab"] == LAB for r in applies + pushes)  # a rehearsal, marked so
    ok(run(PESDC, "journal", "verify"))
    # The RFC 5424 copy went through the bastion to the log server (log-1), filed under
    # the sending workstation's name; the entry's JSON is the message (its prev, the
    # previous entry's hash, is unique to it).
    last = rows[-1]
    got = run(PESDC, "lab", "exec", "--name", LAB, "log-1", "--", "sh", "-c",
              f"grep -rh -- {last['prev']} /var/log/remote/")
    assert got.returncode == 0 and f'"seq": {last["seq"]}' in got.stdout, got.stdout[-2000:]


def test_journal_verify_finds_an_edited_entry(live, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from pesdc.journal import journal_path

    state = tmp_path / "state"
    shutil.copytree(journal_path().parent, state / "journal")
    f = state / "journal" / journal_path().name
    lines = f.read_text().splitlines()
    lines[3] = lines[3].replace('"result": "ok"', '"result": "failed"', 1)
    assert lines[3] != f.read_text().splitlines()[3]
    f.write_text("\n".join(lines) + "\n")
    res = run(PESDC, "journal", "verify", env={"PESDC_STATE_DIR": str(state)})
    assert res.returncode == 1, res.stdout + res.stderr
    # the next entry no longer chains: its line, as a compiler would say it (not a tty)
    assert f"{f}:5:1: error JNL001: " in res.stdout + res.stderr, res.stdout + res.stderr


def test_another_operators_lock_on_the_bastion_refuses_then_a_break_is_journaled(live) -> None:  # type: ignore[no-untyped-def]
    """Another engineer (another machine) holds weihai: their lock is on the bastion,
    where every operator's runs pass; written here as their run would write it."""
    holder = {"user": "lisi", "sudo_user": None, "host": "ops-laptop-7", "pid": 4242,
              "since": "2026-12-02T08:00:00Z", "command": "pesdc apply topologies/ --live x",
              "action": "apply", "token": "f" * 32, "center": "weihai"}
    ok(run(PESDC, "lab", "exec", "--name", LAB, "bastion-1", "--", "sh", "-c",
           "mkdir -p -m 0777 /var/lib/pesdc-lock/weihai && printf '%s\\n' "
           f"'{json.dumps(holder)}' > /var/lib/pesdc-lock/weihai/holder.json"))
    res = outside("apply", CITY, "--live", str(live["profile"]), "--yes")
    assert res.returncode == 3, res.stdout + res.stderr
    assert "lisi" in res.stderr and "ops-laptop-7" in res.stderr
    net = outside("net", "apply", CITY, "--live", str(live["profile"]), "--yes")
    assert net.returncode == 3 and "lisi" in net.stderr
    # Nobody touches the holder's heartbeat: after STALE_AFTER it is stale, and broken.
    ok(run(PESDC, "lab", "exec", "--name", LAB, "bastion-1", "--", "touch", "-d",
           "10 minutes ago", "/var/lib/pesdc-lock/weihai/holder.json"))
    status = outside("lock", "status", CITY, "--live", str(live["profile"]))
    assert "STALE" in status.stdout + status.stderr
    ok(outside("lock", "break", CITY, "--live", str(live["profile"]), "--reason",
               "lisi's laptop died mid-run (ticket 4711)"))
    brk = [r for r in _journal() if r["action"] == "lock break"]
    assert brk and "lisi" in json.dumps(brk[-1]) and "4711" in json.dumps(brk[-1])
    again = outside("apply", CITY, "--live", str(live["profile"]), "--yes", "--limit",
                    "log-1")
    assert again.returncode == 0, again.stderr
