"""AUD-AB-11 on vendor firewalls reads the configuration (issue 13: it once passed
every USG and Comware firewall without reading anything). The firewalls are those of
the vendor render cases, the platforms the registry's: each is judged, and where the
dialect reads stateful filtering from a security-policy section, removing it fails."""

from __future__ import annotations

import pytest

from pesdc.audit.checks_device import stateful
from pesdc.audit.registry import DeviceEvidence
from pesdc.audit.result import Status
from pesdc.platforms import dialect_of
from tests.render.vendor_util import CASES, contexts, render_case


def _firewalls() -> dict[str, str]:
    """platform -> the configuration of its first rendered firewall in the cases."""
    out: dict[str, str] = {}
    for case in sorted(CASES):
        for name, (platform, text) in sorted(render_case(case)[0].items()):
            if contexts(case)[name]["device"]["kind"] == "firewall":
                out.setdefault(platform, text)
    return out


FIREWALLS = _firewalls()
SESSION_TABLE = sorted(p for p, text in FIREWALLS.items()
                       if (f := dialect_of(p).stateful(text)) and f.reason == "session table")


def _judge(platform: str, text: str) -> tuple[Status, str]:
    ev = DeviceEvidence("fw-1.x", "firewall", platform, {"device.cfg": text}, "rendered")
    out = stateful(ev, {})
    assert out is not None, "a firewall not judged"
    return out.status, out.evidence[0].text if out.evidence else ""


@pytest.mark.parametrize("platform", sorted(FIREWALLS))
def test_every_vendor_firewall_is_stateful(platform: str) -> None:
    assert _judge(platform, FIREWALLS[platform])[0] is Status.passed


def test_usg_and_comware_read_their_session_policy() -> None:
    assert {"huawei_usg", "h3c_secpath"} <= set(SESSION_TABLE)


@pytest.mark.parametrize("platform", SESSION_TABLE)
def test_policy_section_read_from_the_configuration(platform: str) -> None:
    text = FIREWALLS[platform]
    status, proof = _judge(platform, text)
    section = proof.splitlines()[0] + "\n"
    assert status is Status.passed and section.startswith("security-policy")
    assert section in text
    assert _judge(platform, text.replace(section, "", 1))[0] is Status.failed


def test_usg_state_check_switched_off_fails() -> None:
    text = FIREWALLS["huawei_usg"] + "undo firewall session link-state check\n"
    assert _judge("huawei_usg", text)[0] is Status.failed
