"""One result shape (pesdc.results): verify's checks, the audit's outcomes and the
executors' host results answer target, verdict, message, evidence and failing alike."""

from __future__ import annotations

from pesdc.audit.result import Evidence, Msg, Outcome
from pesdc.results import HostResult, Result, RunResult
from pesdc.verdict import Verdict
from pesdc.verify.checks import Check, VerifyReport


def test_every_result_has_the_one_shape() -> None:
    results: list[Result] = [
        Check("db-1.weihai", "ports", "tcp/5433", True, "listening", "listening",
              "LISTEN 0 244 *:5433"),
        Check.errored("db-2.weihai", "ports", "tcp/5433", "host unreachable"),
        Outcome("db-1.weihai", Verdict.failed, Msg("port 5432", "端口 5432"),
                [Evidence("ss -tln", "LISTEN 0 244 *:5432", "lab")]),
        HostResult("db-1.weihai", "pyinfra", True, changed=2, changes=["postgresql.conf"]),
        HostResult("db-2.weihai", "pyinfra", False, error="unreachable"),
    ]
    shape = [(r.target, r.verdict, r.message, r.evidence_text, r.failing) for r in results]
    assert shape == [
        ("db-1.weihai", Verdict.passed, "tcp/5433: expected listening, observed listening",
         "LISTEN 0 244 *:5433", False),
        ("db-2.weihai", Verdict.error, "tcp/5433: error: host unreachable", "", True),
        ("db-1.weihai", Verdict.failed, "port 5432", "LISTEN 0 244 *:5432", True),
        ("db-1.weihai", Verdict.passed, "2 change(s)", "postgresql.conf", False),
        ("db-2.weihai", Verdict.failed, "unreachable", "", True),
    ]


def test_result_sets_count_and_fail_alike() -> None:
    verify = VerifyReport("weihai", [Check("a", "ports", "tcp/22", True),
                                     Check.errored("b", "ports", "tcp/22", "timed out")])
    run = RunResult("apply", "pyinfra", [HostResult("a", "pyinfra", True),
                                         HostResult("b", "pyinfra", False, error="failed")])
    for results in (verify, run):
        assert not results.ok
        assert [r.target for r in results.failures] == ["b"]
        assert sum(results.counts().values()) == 2
    assert run.failed == run.failures
    assert verify.counts()[Verdict.error] == 1 and run.counts()[Verdict.failed] == 1
