"""AUD-AB-11 on USG and Comware firewalls reads the configuration (issue 13: it once
passed every USG and Comware firewall without reading anything)."""

from __future__ import annotations

import pytest

from pesdc.audit.checks_device import stateful
from pesdc.audit.registry import DeviceEvidence
from pesdc.audit.result import Status
from tests.render.vendor_util import GOLDEN

CASES = {"huawei_usg": (GOLDEN / "usg_fw" / "fw-1.cfg", "security-policy\n"),
         "h3c_comware": (GOLDEN / "comware" / "fw-1.cfg", "security-policy ip\n")}


def _judge(platform: str, text: str) -> tuple[Status, str]:
    ev = DeviceEvidence("fw-1.x", "firewall", platform, {"device.cfg": text}, "rendered")
    out = stateful(ev, {})
    assert out is not None and out.evidence, "a verdict without evidence"
    return out.status, out.evidence[0].text


@pytest.mark.parametrize("platform", sorted(CASES))
def test_policy_section_read_from_the_configuration(platform: str) -> None:
    path, section = CASES[platform]
    text = path.read_text("utf-8")
    status, proof = _judge(platform, text)
    assert status is Status.passed and section.strip() in proof
    assert _judge(platform, text.replace(section, "", 1))[0] is Status.failed


def test_usg_state_check_switched_off_fails() -> None:
    path, _ = CASES["huawei_usg"]
    text = path.read_text("utf-8") + "undo firewall session link-state check\n"
    assert _judge("huawei_usg", text)[0] is Status.failed
