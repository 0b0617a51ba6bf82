"""verify and audit against a live center through its bastion, as on a real site.

One lab (jinan: the session's shared lab ``jinan_lab``, tests/shared_labs.py, which
tests/lab/test_operator.py used before, not provisioned), applied with ``--lab``; a
rehearsal connection profile for it (``--stand-ins LAB``), its keys pinned by
``targets trust``. Every command runs on the operator's workstation (``pesdc lab
operator``: its only route is to the bastion), so every connection goes through the
bastion or nowhere. The module's last test takes the shared lab down and checks that
nothing of it is left.

What a live run cannot observe is an error, never a pass: link latency (measured from
the center's routers in the lab's namespaces) and the isolation probes from or to a
zone with no server to run a probe agent on (jinan's agency sites).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.shared_labs import JINAN_LAB, SharedLab
from tests.verify.conftest import read_junit

PESDC = str(ROOT / ".venv/bin/pesdc")
TOPO = str(ROOT / "topologies")
DC = "jinan"
LAB = JINAN_LAB

pytestmark = pytest.mark.lab


def run(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=os.environ.copy())


def outside(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """A pesdc command on the operator's workstation (outside the center)."""
    from pesdc.lab.operator import operator_argv

    return run(*operator_argv(LAB, [PESDC, *args]), timeout=timeout)


def ok(res: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert res.returncode == 0, f"rc={res.returncode}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


@pytest.fixture(scope="module")
def live(jinan_lab: SharedLab, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from pesdc.lab.paths import lab_dir

    d = tmp_path_factory.mktemp("vlive")
    jinan_lab.apply()  # up (if no module before brought it up), then apply --lab once
    profile = d / f"{DC}.targets.yaml"
    ok(run(PESDC, "targets", "init", TOPO, "--dc", DC, "-o", str(profile),
           "--identity-file", str(lab_dir(LAB) / "ssh" / "id_ed25519"),
           "--stand-ins", LAB))
    ok(outside("targets", "trust", str(profile), TOPO, "--yes"))
    return {"profile": profile, "dir": d}


def _passed(junit: Path) -> Counter[str]:
    """Passed testcases per category (classname CENTER.CATEGORY.TARGET)."""
    from xml.etree import ElementTree as ET

    out: Counter[str] = Counter()
    for case in ET.parse(junit).getroot().iter("testcase"):
        if not any(case.find(k) is not None for k in ("failure", "error", "skipped")):
            out[(case.get("classname") or "").split(".")[1]] += 1
    return out


def _verify(profile: Path, junit: Path, *only: str) -> subprocess.CompletedProcess[str]:
    args = ["verify", TOPO, "--dc", DC, "--live", str(profile), "--junit", str(junit)]
    for part in only:
        args += ["--only", part]
    res = outside(*args)
    assert "Traceback" not in res.stderr + res.stdout, res.stderr[-3000:]
    return res


def test_verify_through_the_bastion(live) -> None:  # type: ignore[no-untyped-def]
    junit = live["dir"] / "verify.xml"
    res = _verify(live["profile"], junit)
    bad = read_junit(junit)
    # Nothing observed is wrong; what a live run cannot observe is an error, named.
    assert not [b for b in bad if b["kind"] == "failure"], bad[:5]
    for b in bad:
        category = b["classname"].split(".")[1]
        if category == "links":
            assert "not observed in a live run" in b["message"], b
        else:
            assert category == "isolation", b
            assert "private_network" in b["classname"] \
                and "has no server to run a probe agent on" in b["message"], b
    assert res.returncode == 1  # those errors fail the run: not a finished verification
    passed = _passed(junit)
    for category in ("packages", "services", "files", "users", "ports", "time", "logs",
                     "replication", "backups", "policy", "routing", "drift"):
        assert passed[category] > 0, (category, passed)
    assert passed["isolation"] >= 50, passed  # real packets, agents on the servers
    assert sum(passed.values()) > 1500, passed


def test_verify_of_what_a_live_run_observes_passes(live) -> None:  # type: ignore[no-untyped-def]
    junit = live["dir"] / "observed.xml"
    res = _verify(live["profile"], junit, "hosts", "policy", "routing", "drift")
    assert res.returncode == 0, read_junit(junit)[:5]
    assert re.search(r"PASS \(\d+ passed", res.stdout), res.stdout[-500:]


def test_audit_through_the_bastion_sees_what_the_lab_audit_sees(live) -> None:  # type: ignore[no-untyped-def]
    out = live["dir"] / "audit.json"
    res = ok(outside("audit", TOPO, "--dc", DC, "--live", str(live["profile"]),
                     "--format", "json", "-o", str(out)))
    assert "(live)" in res.stderr and "error 0" in res.stderr, res.stderr[-1000:]
    got = json.loads(out.read_text())
    assert got["mode"] == "live" and len(got["hosts"]) == 30
    assert "no evidence, not judged" not in out.read_text()
    assert "judged on the rendered configuration" not in out.read_text()
    lab = live["dir"] / "audit-lab.json"
    ok(run(PESDC, "audit", TOPO, "--dc", DC, "--lab", LAB, "--format", "json", "-o",
           str(lab)))
    want = json.loads(lab.read_text())
    assert {k: r["status"] for k, r in got["rules"].items()} == \
        {k: r["status"] for k, r in want["rules"].items()}


def _changed(live, server: str) -> Path:  # type: ignore[no-untyped-def]
    """A copy of the profile whose pinned file holds another key for ``server``."""
    from pesdc.model import validate

    topo = validate([Path(TOPO)]).topology
    address = next(s.address for s in topo.datacenters[DC].servers if s.name == server)
    d = live["dir"] / f"changed-{server}"
    d.mkdir()
    shutil.copy(live["profile"], d / live["profile"].name)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "other")],
                   check=True)
    other = (d / "other.pub").read_text().split()[1]
    lines = []
    found = False
    for ln in (live["dir"] / f"{DC}.known_hosts").read_text().splitlines():
        if ln.startswith(f"{address} ssh-ed25519 "):
            ln, found = f"{address} ssh-ed25519 {other}", True
        lines.append(ln)
    assert found, f"{address} not pinned"
    (d / f"{DC}.known_hosts").write_text("\n".join(lines) + "\n")
    return d / live["profile"].name


def test_a_changed_pinned_key_is_an_error_for_that_host(live) -> None:  # type: ignore[no-untyped-def]
    profile = _changed(live, "web-1")
    junit = live["dir"] / "changed.xml"
    res = _verify(profile, junit, "hosts", "policy", "routing", "drift")
    assert res.returncode == 1, res.stdout[-2000:]
    bad = read_junit(junit)
    assert bad and all(b["kind"] == "error" for b in bad), bad[:5]
    key = [b for b in bad if b["name"] == "host key is the pinned one"]
    assert [b["classname"] for b in key] == [f"{DC}.reachability.web-1.{DC}"], key
    assert "HOST KEY CHANGED" in key[0]["message"]
    # every error is web-1's (its checks, and the logs it could not send); the other
    # hosts were checked and passed
    assert all("web-1" in b["classname"] or "web-1" in b["message"] for b in bad), [
        b for b in bad if "web-1" not in b["classname"] + b["message"]][:3]
    assert "HOST KEY CHANGED" in res.stdout
    out = live["dir"] / "audit-changed.json"
    res = outside("audit", TOPO, "--dc", DC, "--live", str(profile), "--format", "json",
                  "-o", str(out))
    assert res.returncode == 1 and "could not be judged" in res.stderr, res.stderr[-1000:]
    outcomes = [o for r in json.loads(out.read_text())["rules"].values()
                for o in r.get("outcomes", [])]
    errors = [o for o in outcomes if o["status"] == "error"]
    # web-1's evidence could not be read: each rule on it an error naming the key (its
    # topology-only rules are still judged); no other host's
    assert len(errors) >= 10 and all(o["target"] == f"web-1.{DC}" and "HOST KEY CHANGED"
                                     in o["message"] for o in errors), errors[:2]
    assert not [o for o in outcomes if o["target"] == f"web-1.{DC}"
                and "HOST KEY CHANGED" not in o["message"] and o["evidence"]
                and any(e.get("source") in ("live", "lab") for e in o["evidence"])]


def test_verify_on_the_workstation_without_lab_or_live_refuses(live) -> None:  # type: ignore[no-untyped-def]
    res = outside("verify", TOPO, "--dc", DC)
    assert res.returncode == 2 and "refused" in res.stderr and "--live PROFILE" in res.stderr


def test_zz_down_removes_the_operator(live, jinan_lab: SharedLab) -> None:  # type: ignore[no-untyped-def]
    # The last test of the shared jinan lab (tests/lab/test_operator.py used it before):
    # down removes every namespace of the lab, the operator's with them, and its files.
    assert jinan_lab.is_up
    jinan_lab.down()
