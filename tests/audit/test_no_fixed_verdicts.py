"""No verdict without evidence (issue 13, point 3): evidence that could not be produced is
an error on every rule that needed it; a rule judged on fallback evidence (the rendered
file, because the running one could not be read) says so and never passes in full."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pesdc.audit.catalog import Catalog
from pesdc.audit.engine import run_audit
from pesdc.audit.registry import DEVICE_CHECKS
from pesdc.audit.result import Status
from tests.audit.conftest import ROOT, context, load

FIREWALL = "fw-1"


def _device_outcomes(report, device: str) -> dict[str, Status]:
    out = {}
    for rid, r in report.rules.items():
        for o in r.outcomes:
            if o.target == f"{device}.weihai":
                out[rid] = o.status
    return out


def test_fallback_evidence_says_so_and_caps_a_pass(catalog: Catalog) -> None:
    topo = load()
    clean = run_audit(topo, "weihai", catalog, ctx=context(topo))
    # Rules judged on the device's configuration (AUD-CE-25 judges rendered files as
    # such: what pesdc writes out, so a fallback does not concern it).
    on_config = set(DEVICE_CHECKS) | {"AUD-AB-13"}
    passed_before = {rid for rid, s in _device_outcomes(clean, FIREWALL).items()
                     if s is Status.passed and rid in on_config}
    assert passed_before, "the lab city's firewall passes some device rules statically"

    ctx = context(topo)
    ctx.mode = "lab"
    ctx.devices[FIREWALL].fallback = "`nft list ruleset` on fw-1.weihai: exit 255"
    report = run_audit(topo, "weihai", catalog, ctx=ctx)
    after = _device_outcomes(report, FIREWALL)
    for rid in passed_before:
        assert after[rid] is Status.partial, (rid, after[rid])
        o = next(o for o in report.rules[rid].outcomes if o.target == f"{FIREWALL}.weihai")
        assert "judged on the rendered configuration" in o.message
        assert "exit 255" in o.message and "依据渲染配置判定" in o.message_zh
        assert any(e.label == "running configuration" for e in o.evidence)
    assert report.overall is not None and clean.overall is not None
    assert report.overall < clean.overall


def test_a_device_the_renderer_crashed_on_is_an_error_on_every_device_rule(
        catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    import pesdc.render as render

    real = render.render_device_files

    def crash_on_firewall(facts, name, problems, *more):  # type: ignore[no-untyped-def]
        if name == FIREWALL:
            raise RuntimeError("template blew up")
        return real(facts, name, problems, *more)

    monkeypatch.setattr(render, "render_device_files", crash_on_firewall)
    topo = load()
    ctx = context(topo)
    assert ctx.devices[FIREWALL].error.startswith("render failed: RuntimeError")
    assert ctx.devices[FIREWALL].files == {}
    report = run_audit(topo, "weihai", catalog, ctx=ctx)
    mine = _device_outcomes(report, FIREWALL)
    device_rules = set(DEVICE_CHECKS) | {"AUD-AB-13"}
    judged = {rid: s for rid, s in mine.items() if rid in device_rules}
    assert judged, mine
    assert set(judged.values()) == {Status.error}, judged
    assert all(rid in report.error_rules() for rid in judged)
    o = next(o for o in report.rules["AUD-AB-10"].outcomes
             if o.target == f"{FIREWALL}.weihai")
    assert "template blew up" in o.message and "无法判定" in o.message_zh


_IN_EMPTY_NETNS = """
import json, sys
from pathlib import Path
from pesdc.audit import evidence
from pesdc.lab import enter
from tests.audit.conftest import ROOT, context, load

class Access:
    ssh_config = Path(sys.argv[1])

enter.access = lambda lab: Access()
ctx = context(load())
evidence.lab_evidence(ctx, "nolab", limit=["mis-1"])
fw = ctx.devices["fw-1"]
print(json.dumps({"source": fw.source, "files": bool(fw.files), "fallback": fw.fallback,
                  "host_error": ctx.hosts["mis-1"].error}))
"""


def test_lab_gear_that_cannot_be_read_keeps_the_rendered_files_marked(tmp_path: Path) -> None:
    """lab_evidence with real ssh, run in a network namespace of its own with no route
    (nothing can leave it): the gear cannot be read, so its rendered files stay, marked
    as fallback, and the host is an evidence error."""
    cfg = tmp_path / "ssh_config"
    cfg.write_text("Host *\n  HostName 192.0.2.1\n  BatchMode yes\n  ConnectTimeout 2\n")
    res = subprocess.run(["unshare", "--net", "--map-root-user", sys.executable, "-c",
                          _IN_EMPTY_NETNS, str(cfg)], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["source"] == "rendered" and got["files"]
    assert "nft list ruleset" in got["fallback"] and "fw-1.weihai" in got["fallback"]
    assert "unreachable" in got["fallback"].lower(), got["fallback"]
    assert got["host_error"].startswith("could not collect")
