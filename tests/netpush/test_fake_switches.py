"""The IOS driver against fake-switches (a Cisco IOS emulator over SSH on 127.0.0.1):
plan, apply (VLANs and interface descriptions), post-check, second apply in sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from pesdc.netpush.drivers import ConnParams, IosDriver
from pesdc.netpush.engine import Target, apply_device, plan_device
from pesdc.netpush.secrets import Secrets
from tests.render.test_vendor_fake_switches import HOST, PASSWORD, USER, fake_switch

__all__ = ["fake_switch"]

ADDED = """\
vlan 310
 name prod-app
!
vlan 320
 name exch
!
interface Vlan310
 description production prod-app
!
interface Vlan320
 description exchange exch
!
end
"""


def _params(port: int) -> ConnParams:
    return ConnParams("cisco_ios", HOST, port=port, username=USER, password=PASSWORD,
                      timeout=20, retries=1)


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path))
    return tmp_path


def test_plan_and_apply_ios_into_fake_switches(fake_switch: int, state: Path) -> None:
    # The intended configuration: the switch's own ports and base lines, plus two VLANs
    # with their SVIs (as a rendered access-switch configuration would have them).
    drv = IosDriver(_params(fake_switch))
    drv.open()
    try:
        base = drv.normalise(drv.get_running())
    finally:
        drv.close()
    assert "vlan 310" not in base
    target = Target("acc-1", "acc-1.testcity", "testcity", "cisco_ios", _params(fake_switch),
                    base + ADDED)
    sec = Secrets({}, env={})
    planned = plan_device(target, sec)
    assert planned.ok, planned.error
    lines = planned.details["remediation"]
    assert "vlan 310" in lines and " name prod-app" in lines
    assert "interface Vlan320" in lines and " description exchange exch" in lines

    res = apply_device(target, sec)
    assert res.ok, res.error
    assert res.details["post_check"] == "clean"
    assert Path(res.details["backup"]).is_file()

    again = apply_device(target, sec)
    assert again.ok and again.changed == 0, again.details.get("remediation")

    drv.open()
    try:
        running = drv.get_running()
    finally:
        drv.close()
    assert "vlan 310" in running and "description exchange exch" in running
