"""`pesdc render --against` and `pesdc net plan` compute one remediation: for every
vendor kind with a factory running configuration (tests/render/fixtures/vendor/running)
the file render writes holds exactly the lines the kind's driver plans, and for every
synthetic device session the same holds from its drifted running configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pesdc.cli.render_cmd import render
from pesdc.kinds import KINDS
from pesdc.model import validate
from pesdc.netpush.drivers import DRIVERS, ConnParams
from pesdc.platforms import platforms
from pesdc.render.output import remediation
from tests.netpush.fake import load_session, synthetic_drivers
from tests.render.vendor_util import CASES, RUNNING, render_case

FACTORY = sorted(p.stem for p in RUNNING.glob("*.cfg"))


def _planned(driver_key: str, running: str, intended: str) -> list[str]:
    drv = DRIVERS[driver_key](ConnParams("unused", "192.0.2.1"))
    return drv.plan(running, intended)


def _case_device(kind: str) -> tuple[str, str, str]:
    """(case, center, device): the first device of this kind in the render cases."""
    for case in sorted(CASES):
        for dev, (kind_name, _) in sorted(render_case(case)[0].items()):
            if kind_name == kind:
                topo = validate([CASES[case]]).topology
                dc = next(d.name for d in topo.datacenters.values()
                          if any(x.name == dev for x in d.devices))
                return case, dc, dev
    raise AssertionError(f"no render case has a {kind} device")


@pytest.mark.parametrize("kind", FACTORY)
def test_render_against_writes_what_net_plan_pushes(kind: str, tmp_path: Path) -> None:
    case, dc, dev = _case_device(kind)
    running_dir = tmp_path / "running"
    (running_dir / dc / dev).mkdir(parents=True)
    running = (RUNNING / f"{kind}.cfg").read_text("utf-8")
    (running_dir / dc / dev / "device.cfg").write_text(running, "utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(render, [str(CASES[case]), "-o", str(out), "--only", "devices",
                                      "--against", str(running_dir)])
    assert res.exit_code == 0, res.output
    intended = (out / "devices" / dc / dev / "device.cfg").read_text("utf-8")
    written = (out / "remediation" / dc / dev / "device.cfg").read_text("utf-8")
    planned = _planned(kind, running, intended)
    assert planned, f"{kind}: nothing to change from a factory configuration"
    assert written == "\n".join(planned) + "\n"  # a banner is one item of several lines


def _kind_of_driver(key: str) -> str:
    """The kind a driver key pushes: its own name, or the platform's one kind (a variant
    such as huawei_vrpv8)."""
    if key in KINDS:
        return key
    spec = next(s for s in platforms().values() if key in s.drivers)
    (kind,) = spec.kinds
    return kind.name


@pytest.mark.parametrize("key", sorted(synthetic_drivers()))
def test_synthetic_sessions_plan_what_render_writes(key: str) -> None:
    s = load_session(synthetic_drivers()[key])
    running, intended = s["running"]["drifted"], s["intended"]
    planned = _planned(key, running, intended)
    assert planned
    assert remediation(_kind_of_driver(key), running, intended) == "\n".join(planned) + "\n"
