"""Rehearsals in a real lab (root and the lab image): stage 1 -> 2 on a small city, first
with a failing migration step (the rollback leaves the city working in stage 1 with its
data equal), then for real; stage 2 -> 3 on another small city. Labs st1, st2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pesdc.stages.rehearse import workdir_for

ROOT = Path(__file__).resolve().parents[2]
STAGE1 = str(ROOT / "tests/fixtures/stages/stage1")
STAGE2 = str(ROOT / "tests/fixtures/stages/stage2")
PESDC = [sys.executable, "-m", "pesdc"]

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_image")]


def pesdc(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PESDC, *args], capture_output=True, text=True, timeout=timeout)


def rehearse(path: str, to: int, lab: str, *extra: str) -> tuple[int, dict, float]:
    t0 = time.monotonic()
    res = pesdc("stage", "rehearse", path, "--to", str(to), "--lab", lab, "--json", *extra)
    took = time.monotonic() - t0
    try:
        doc = json.loads(res.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"rc={res.returncode}\n{res.stdout[-3000:]}\n"
                             f"{res.stderr[-3000:]}") from None
    print(f"rehearse {path} -> {to} ({' '.join(extra) or 'normal'}): {took:.0f} s")
    for s in doc["steps"]:
        print(f"  {s['step']}: {'ok' if s['ok'] else 'FAILED'} {s['seconds']} s")
    return res.returncode, doc, took


def sql(lab: str, node: str, db: str, query: str) -> str:
    res = pesdc("lab", "exec", "--name", lab, node, "--", "runuser", "-u", "postgres", "--",
                "psql", "-XAtq", "-d", db, "-c", query)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


@pytest.fixture
def lab_st1():
    pesdc("lab", "down", "--name", "st1")
    yield "st1"
    down = pesdc("lab", "down", "--name", "st1")
    shutil.rmtree(workdir_for("st1"), ignore_errors=True)
    assert down.returncode == 0, down.stderr


@pytest.fixture(scope="module", autouse=True)
def stage2_in_background():
    """The stage 2 -> 3 rehearsal runs beside the stage 1 -> 2 one (its own lab st2):
    most of a rehearsal waits on SSH round trips and package installs."""
    pesdc("lab", "down", "--name", "st2")
    t0 = time.monotonic()
    proc = subprocess.Popen([*PESDC, "stage", "rehearse", STAGE2, "--to", "3", "--lab", "st2",
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    yield proc, t0
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    down = pesdc("lab", "down", "--name", "st2")
    shutil.rmtree(workdir_for("st2"), ignore_errors=True)
    assert down.returncode == 0, down.stderr


def test_stage1_to_2_rollback_then_move(lab_st1):
    lab = lab_st1
    # 1. the restore "succeeds" but the copy differs: the checksums stop the move
    code, doc, _ = rehearse(STAGE1, 2, lab, "--inject-failure", "checksum-corrupted")
    assert code == 1 and not doc["ok"]
    steps = {s["step"]: s for s in doc["steps"]}
    assert not steps["migrate databases (dump, restore, compare)"]["ok"]
    assert "checksums differ" in steps["migrate databases (dump, restore, compare)"]["detail"]
    assert doc["rolled_back"] and doc["rollback_ok"], steps["rollback"]["detail"]
    misdb = doc["data"]["misdb"]
    before = misdb["before"]
    assert before["public.pesdc_rehearsal"]["rows"] == 5000
    assert misdb["after_rollback"] == before  # no data lost, nothing changed
    # the city works in stage 1: the room host serves the data, read-write again
    assert sql(lab, "mis-old-1", "misdb", "SELECT count(*) FROM pesdc_rehearsal") == "5000"
    assert sql(lab, "mis-old-1", "misdb", "SHOW default_transaction_read_only") == "off"
    ver = pesdc("verify", STAGE1, "--lab", lab, "--only", "hosts", "--only", "policy",
                "--only", "isolation")
    assert ver.returncode == 0, ver.stdout[-3000:]

    # 2. the move itself
    code, doc, _ = rehearse(STAGE1, 2, lab)
    assert code == 0 and doc["ok"], doc["failure"]
    misdb = doc["data"]["misdb"]
    assert misdb["before"]["public.pesdc_rehearsal"]["rows"] == 5000
    assert misdb["restored"] == misdb["before"] == misdb["after_cutover"]
    final = {s["step"]: s for s in doc["steps"]}["verify and audit the target stage"]
    assert final["ok"]
    # mis-old-1 now lives in the production zone at its new address, with the data
    addr = pesdc("lab", "exec", "--name", lab, "mis-old-1", "--", "ip", "-4", "-o", "addr")
    assert "10.60.1.10/24" in addr.stdout
    assert sql(lab, "mis-old-1", "misdb", "SELECT count(*) FROM pesdc_rehearsal") == "5000"
    # and the standby streams from it
    assert sql(lab, "mis-old-2", "misdb", "SELECT pg_is_in_recovery()") == "t"


def test_stage2_to_3(stage2_in_background):
    proc, t0 = stage2_in_background
    out, err = proc.communicate(timeout=900)
    print(f"rehearse {STAGE2} -> 3 (in the background): {time.monotonic() - t0:.0f} s")
    try:
        doc = json.loads(out)
    except json.JSONDecodeError:
        raise AssertionError(f"rc={proc.returncode}\n{out[-3000:]}\n{err[-3000:]}") from None
    for s in doc["steps"]:
        print(f"  {s['step']}: {'ok' if s['ok'] else 'FAILED'} {s['seconds']} s")
    code = proc.returncode
    assert code == 0 and doc["ok"], doc["failure"]
    talentdb = doc["data"]["talentdb"]
    assert talentdb["before"]["public.pesdc_rehearsal"]["rows"] == 5000
    assert talentdb["restored"] == talentdb["before"] == talentdb["after_cutover"]
    target = Path(doc["workdir"]) / "target"
    check = pesdc("stage", "check", str(target), "--format", "json")
    assert json.loads(check.stdout)["cities"][0]["meets"] == 3
