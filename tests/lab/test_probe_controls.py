"""A blocked probe proves itself (issue 13 point 2).

A probe that got no answer is "blocked" only when, in the same run, its source got an
answer to something it sent and the destination's listener answered its own connect;
otherwise it is an error naming the side that failed. The first tests judge by hand-made
outcomes (no lab); the others run a real lab of the small city, up once for the module
under its own name, and break one end at a time inside a lab namespace.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import subprocess
from collections.abc import Iterator

import pytest

from pesdc.lab.plan import LabPlan, build_plan
from pesdc.lab.probe import (
    SEEN_PASS,
    Listener,
    Probe,
    ProbeReport,
    SpecCheck,
    judge,
    merge_checks,
    plan_probes,
    run_probes,
)
from pesdc.model import validate
from pesdc.model.tree import Topology
from pesdc.verdict import Verdict
from pesdc.verify.network import check_isolation

from .conftest import LABCITY, pesdc, require_lab

pytestmark = pytest.mark.lab

LAB = "tprb"  # this module's own lab: never one another test or an engineer has up
DC = "weihai"
TABLE = "tprb_fault"  # the nftables table these tests add inside a node, and remove


# ------------------------------------------------------------ the verdict, no lab


def mk(src: str, dst: str, *, expected: bool = False, seen: str = "timeout",
       protocol: str = "tcp", port: int = 7, why: str = "closed port") -> Probe:
    p = Probe("za", "zb", src, dst, f"10.0.0.{len(src)}", f"10.0.1.{len(dst)}", dst,
              f"10.0.1.{len(dst)}", protocol, port, why, expected)
    p.seen, p.detail = seen, {"pass": "connected", "timeout": "no answer in 1 s"}.get(seen, seen)
    return p


def answering(node: str, *probes: Probe) -> Listener:
    lst = Listener(node)
    for p in probes:
        lst.specs[(p.listen, p.protocol, p.port)] = SpecCheck(
            "ours", True, "its listener answered its own connect")
    return lst


def test_blocked_with_both_controls_passes_and_names_them():
    blocked = mk("a", "bb")
    allowed = mk("a", "ccc", expected=True, seen=SEEN_PASS, port=22, why="flow f")
    back = mk("bb", "dddd", expected=True, seen=SEEN_PASS, port=514, why="flow g")
    judge([blocked, allowed, back], [],
          {"bb": answering("bb", blocked), "ccc": answering("ccc", allowed),
           "dddd": answering("dddd", back)})
    assert blocked.verdict is Verdict.passed and blocked.observed is False
    assert "source a sent: tcp/22" in blocked.evidence
    assert "listener on bb: its listener answered" in blocked.evidence
    assert allowed.verdict is Verdict.passed and allowed.observed is True


def test_a_source_that_got_no_answer_to_anything_is_an_error_naming_it():
    blocked = mk("a", "bb")
    also = mk("a", "ccc", expected=True, port=22, why="flow f")  # allowed, got nothing
    neighbour = mk("a", "n", seen="timeout", why="control: neighbour n")
    judge([blocked, also], [neighbour],
          {"bb": answering("bb", blocked), "ccc": answering("ccc", also)})
    for p in (blocked, also):
        assert p.verdict is Verdict.error
        assert p.cause.startswith("source a could not send: nothing it sent got an answer")
        assert "control: neighbour n" in p.cause
    # An allowed probe that got no answer from a source that sends is a failure.
    ok_src = mk("a", "n", seen=SEEN_PASS, why="control: neighbour n")
    also2 = mk("a", "ccc", expected=True, port=22, why="flow f")
    peer = mk("x", "ccc", seen=SEEN_PASS, expected=True, port=80)
    judge([also2, peer], [ok_src], {"ccc": answering("ccc", also2, peer)})
    assert also2.verdict is Verdict.failed and also2.cause == ""


def test_a_control_alone_can_back_a_source():
    blocked = mk("a", "bb")
    control = mk("a", "n", seen=SEEN_PASS, why="control: neighbour n")
    inbound = mk("x", "bb", seen=SEEN_PASS, expected=True, port=22)
    judge([blocked, inbound], [control], {"bb": answering("bb", blocked, inbound)})
    assert blocked.verdict is Verdict.passed
    assert "control: neighbour n" in blocked.evidence


def test_a_listener_that_does_not_answer_is_an_error_naming_the_destination():
    src_ok = mk("a", "n", seen=SEEN_PASS, why="control: neighbour n")
    silent = mk("a", "bb")
    lst = answering("bb", silent)
    lst.specs[(silent.listen, "tcp", 7)] = SpecCheck(
        "ours", False, "its own connect to 10.0.1.2 tcp/7: timed out")
    not_started = mk("a", "ccc")
    died = mk("a", "dddd")
    judge([silent, not_started, died], [src_ok],
          {"bb": lst, "ccc": Listener("ccc", "did not start: no such namespace"),
           "dddd": merge_checks("dddd", [[died.listen, "tcp", 7, "ours", True, "ok"]], None,
                                "killed")})
    assert silent.verdict is Verdict.error
    assert silent.cause == ("listener on bb did not answer tcp/7 on 10.0.1.2: its own "
                            "connect to 10.0.1.2 tcp/7: timed out")
    assert not_started.cause == "listener on ccc did not start: no such namespace"
    assert died.cause == "listener on dddd exited during the run: killed"


def test_a_listener_seen_only_from_inside_is_an_error():
    src_ok = mk("a", "n", seen=SEEN_PASS, why="control: neighbour n")
    blocked = mk("a", "bb")
    judge([blocked], [src_ok], {"bb": answering("bb", blocked)})
    assert blocked.verdict is Verdict.error
    assert blocked.cause.startswith("listener on bb answered only inside its namespace")


def test_the_second_round_of_listener_checks_counts():
    lst = merge_checks("bb", [["10.0.1.2", "tcp", 7, "ours", True, "answered"],
                              ["10.0.1.2", "udp", 123, "service", True, "bound"]],
                       [["10.0.1.2", "tcp", 7, "ours", False, "timed out"],
                        ["10.0.1.2", "udp", 123, "service", True, "bound"]])
    assert lst.error == ""
    assert lst.specs[("10.0.1.2", "tcp", 7)] == SpecCheck("ours", False,
                                                         "after the probes: timed out")
    assert lst.specs[("10.0.1.2", "udp", 123)].answers
    assert merge_checks("bb", None, None, "no report in 30 s").error == \
        "did not start: no report in 30 s"


def test_a_probe_that_could_not_be_sent_or_whose_client_crashed_is_an_error():
    src_ok = mk("a", "n", seen=SEEN_PASS, why="control: neighbour n")
    unsent = mk("a", "bb", seen="error")
    unsent.detail = "cannot send from 10.0.0.1 to 10.0.1.2: Network is unreachable"
    crashed = mk("a", "bb")
    crashed.error = "client on a crashed (exit 1): Traceback ..."
    judge([unsent, crashed], [src_ok], {"bb": answering("bb", unsent, crashed)})
    assert unsent.verdict is Verdict.error and unsent.observed is None
    assert unsent.cause == ("source a could not send: cannot send from 10.0.0.1 to "
                            "10.0.1.2: Network is unreachable")
    assert crashed.cause == "client on a crashed (exit 1): Traceback ..."
    assert Probe("a", "b", "a", "b", "1", "2", "b", "2", "tcp", 1, "w", False).cause == \
        "not run"  # never run: no verdict either


def test_an_unexpected_answer_is_a_mismatch_and_the_report_counts_apart():
    leak = mk("a", "bb", seen=SEEN_PASS)
    err = mk("c", "bb")
    good = mk("d", "bb", seen=SEEN_PASS, expected=True)
    judge([leak, err, good], [], {"bb": answering("bb", leak, err, good)})
    report = ProbeReport("dc", [leak, err, good])
    assert [p.verdict for p in report.probes] == [Verdict.failed, Verdict.error,
                                                  Verdict.passed]
    assert report.mismatches == [leak] and report.errors == [err] and not report.ok
    d = report.as_dict()
    assert d["counts"] == {"pass": 1, "fail": 1, "error": 1}
    assert d["mismatches"] == 1 and d["errors"] == 1
    rows = d["probes"]
    assert isinstance(rows, list)
    assert rows[1]["verdict"] == "error" and rows[1]["cause"].startswith("source c")
    assert rows[0]["verdict"] == "fail" and rows[0]["cause"] == ""
    json.dumps(d)


# ------------------------------------------------------------ the real lab


def _ours() -> list[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [line.split()[0] for line in listing.stdout.splitlines()
            if line.startswith(f"pesdc-{LAB}-")]


@pytest.fixture(scope="module")
def topo() -> Topology:
    result = validate([LABCITY])
    assert result.report.ok
    return result.topology


@pytest.fixture(scope="module")
def lab(topo: Topology) -> Iterator[LabPlan]:
    require_lab()
    res = pesdc("lab", "up", str(LABCITY), "--name", LAB)
    assert res.returncode == 0, res.stdout + res.stderr
    try:
        yield build_plan(topo, DC, LAB)
    finally:
        down = pesdc("lab", "down", "--name", LAB)
        assert down.returncode == 0, down.stderr
        assert _ours() == []


def nft(plan: LabPlan, node: str, *args: str, stdin: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", plan.nodes[node].netns, "nft", *args],
                          input=stdin, capture_output=True, text=True, timeout=30)


@contextlib.contextmanager
def fault(plan: LabPlan, node: str, chain: str) -> Iterator[None]:
    """An nftables table of ours inside one lab node, removed (and checked gone) after."""
    res = nft(plan, node, "-f", "-", stdin=f"table inet {TABLE} {{\n{chain}\n}}\n")
    assert res.returncode == 0, res.stderr
    try:
        yield
    finally:
        assert nft(plan, node, "delete", "table", "inet", TABLE).returncode == 0
        assert TABLE not in nft(plan, node, "list", "tables").stdout


def probe_json() -> tuple[int, dict]:
    res = pesdc("lab", "probe", str(LABCITY), "--name", LAB, "--json")
    return res.returncode, json.loads(res.stdout)


def test_a_clean_run_has_no_errors_and_every_blocked_probe_is_backed(lab: LabPlan):
    rc, report = probe_json()
    assert rc == 0, [p["cause"] for p in report["probes"] if p["cause"]][:5]
    assert report["errors"] == 0 and report["mismatches"] == 0
    assert report["counts"] == {"pass": len(report["probes"]), "fail": 0, "error": 0}
    blocked = [p for p in report["probes"] if not p["expected"]]
    assert len(blocked) >= 20
    for p in blocked:
        assert p["verdict"] == "pass" and p["observed"] is False
        assert f"source {p['src_node']} sent: " in p["evidence"]
        assert f"listener on {p['listen_node']}: " in p["evidence"]
    # db-1 has no allowed flow of its own: its neighbour on the segment backs it.
    db = [p for p in blocked if p["src_node"] == "db-1"]
    assert db and all("(control: neighbour db-2): connected" in p["evidence"] for p in db)
    # Listeners say what they bound: sshd already holds 22 (a real service, which
    # answered), the rest are the listener's own; ICMP is the kernel answering a ping.
    mis = {(s[1], s[2]): s for s in report["listeners"]["mis-1"]["specs"]}
    assert mis[("tcp", 22)][3:5] == ["service", True]
    assert mis[("tcp", 8080)][3:5] == ["ours", True]
    assert mis[("icmp", 0)][3:5] == ["kernel", True]
    assert all(not lst["error"] and all(s[4] for s in lst["specs"])
               for lst in report["listeners"].values())


def test_a_source_that_cannot_send_gives_errors_naming_it(lab: LabPlan, topo: Topology):
    probes = plan_probes(topo, lab)
    from_mis = [p for p in probes if p.src_node == "mis-1"]
    assert [p for p in from_mis if not p.expected] and [p for p in from_mis if p.expected]
    with fault(lab, "mis-1", "chain output { type filter hook output priority 0; "
                             "policy drop; }"):
        res = pesdc("lab", "probe", str(LABCITY), "--name", LAB)
    assert res.returncode == 1
    errors = [line for line in res.stdout.splitlines() if line.startswith("ERROR ")]
    for p in from_mis:  # the would-be-blocked ones and the allowed ones alike
        port = "" if p.protocol == "icmp" else f"/{p.port}"
        where = f"ERROR {p.src_zone}->{p.dst_zone} {p.protocol}{port} {p.src} -> {p.dst} " \
                f"({p.why}): expected {'allowed' if p.expected else 'blocked'}, "
        mine = [e for e in errors if e.startswith(where)]
        assert len(mine) == 1, (where, errors[:3])
        assert "no verdict: source mis-1 could not send" in mine[0]
    assert not [line for line in res.stdout.splitlines() if line.startswith("MISMATCH")]
    summary = re.search(r"(\d+) probes: (\d+) passed, 0 mismatch\(es\), (\d+) error\(s\)",
                        res.stdout)
    assert summary is not None, res.stdout[-2000:]
    total, passed, n_err = map(int, summary.groups())
    assert n_err == len(errors) >= len(from_mis) and passed + n_err == total
    assert probe_json()[0] == 0  # restored: the next run is clean again


def test_a_destination_whose_listener_cannot_answer_gives_errors_naming_it(
        lab: LabPlan, topo: Topology):
    # dss-1 drops every new connection to itself, even from its own side; what it
    # sends still gets its answers (established traffic is accepted).
    with fault(lab, "dss-1", "chain input { type filter hook input priority 0; "
                             "policy drop; ct state established,related accept; }"):
        checks = check_isolation(topo, lab)
    probes = plan_probes(topo, lab)
    assert len(checks) == len(probes)
    by_name = {c.name: c for c in checks}
    to_dss = [p for p in probes if p.listen_node == "dss-1"]
    assert [p for p in to_dss if not p.expected]
    for p in to_dss:
        c = by_name[f"{p.protocol}/{p.port} {p.src} -> {p.dst} ({p.why})"]
        assert c.verdict is Verdict.error, c
        assert c.error.startswith("listener on dss-1 did not answer"), c.error
        assert "its own" in c.error
    errored = {c.name for c in checks if c.verdict is Verdict.error}
    assert len(errored) == len(to_dss)  # dss-1 as a source still sends: its probes hold
    assert all(c.verdict is Verdict.passed for c in checks if c.name not in errored)


def test_a_crashed_client_and_a_listener_that_never_started_are_errors(
        lab: LabPlan, topo: Topology):
    probes = plan_probes(topo, lab)
    out = next(p for p in probes if (p.src_node, p.dst_node, p.why) ==
               ("web-1", "mis-1", "closed port") and p.protocol == "tcp")
    into = next(p for p in probes if (p.src_node, p.dst_node, p.why) ==
                ("log-1", "web-1", "closed port") and p.protocol == "tcp")
    batch = [dataclasses.replace(out), dataclasses.replace(into)]
    # web-1's namespace as a wrong name: its client and its listener fail to start
    # (`ip netns exec` exits 1 with its message), the rest of the lab runs as usual.
    gone = dataclasses.replace(lab.nodes["web-1"], netns=f"pesdc-{LAB}-no-such-node")
    broken = dataclasses.replace(lab, nodes={**lab.nodes, "web-1": gone})
    report = run_probes(broken, batch)
    sent, received = report.probes
    assert sent.verdict is Verdict.error and sent.observed is None
    assert sent.cause.startswith("client on web-1 crashed (exit 255): ")
    assert "no-such-node" in sent.cause
    assert received.verdict is Verdict.error
    assert received.cause.startswith("listener on web-1 did not start: ")
    assert "no-such-node" in received.cause
    assert report.listeners["web-1"].error
    assert report.errors == [sent, received] and not report.ok
