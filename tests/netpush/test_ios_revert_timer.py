"""The Cisco drivers' safe commit on the synthetic devices: an IOS-XE switch with its
configuration archive pushes under `configure terminal revert timer`, sets the trial's
length and confirms; a failed post-check is undone by `configure revert now`; a classic
IOS switch without an archive gets a plain push (nothing native to arm) and the
backup pushed back. The commands and their modes are the `ios` terminal profile's
(tests/netpush/sessions/terminals.yaml), which answers any other with IOS's error."""

from __future__ import annotations

from pathlib import Path

import pytest

from pesdc.netpush.drivers import Driver
from pesdc.netpush.engine import ROLLED_BACK, apply_device
from pesdc.netpush.secrets import Secrets
from tests.netpush.fake import FakeDevice, load_session, post_check_fails, target_of


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def _apply(name: str, hook=None):
    s = load_session(name)
    dev = FakeDevice(s)
    res = apply_device(target_of(s), Secrets(s["secrets"], env={}), connect=dev,
                       driver_hook=hook)
    return res, dev, [cmd.strip() for cmd, _ in dev.transcript]


def _order(sent: list[str], *cmds: str) -> list[int]:
    return [sent.index(c) for c in cmds]


def test_iosxe_with_archive_pushes_under_a_revert_timer_and_confirms() -> None:
    res, dev, sent = _apply("cisco_iosxe")
    assert res.ok, res.error
    assert res.details["commit_model"] == "revert-timer"
    at = _order(sent, "show archive", "configure terminal revert timer 5", "no vlan 99",
                "configure revert timer 5", "configure confirm", "write mem")
    assert at == sorted(at), sent
    assert "configure terminal" not in sent  # never entered without the timer
    assert dev.state == "synced"


def test_iosxe_failed_post_check_is_reverted_by_the_device() -> None:
    hook = post_check_fails(["ip ssh time-out 61"])
    res, dev, sent = _apply("cisco_iosxe", hook)
    assert not res.ok and "post-check" in (res.error or "")
    assert res.details["rollback_method"] == "native: configure revert now", res.error
    assert res.details["state"] == ROLLED_BACK
    assert "configure confirm" not in sent and "write mem" in sent  # the revert is saved
    assert dev.state == "drifted"


def test_session_lost_under_the_timer_is_reverted_natively_on_a_new_one() -> None:
    def session_gone(drv: Driver) -> None:  # the post-check fails, the session with it
        drv.alive = lambda: False  # type: ignore[method-assign]

    hook = post_check_fails(["ip ssh time-out 61"], also=session_gone)
    res, dev, sent = _apply("cisco_iosxe", hook)
    assert not res.ok and "post-check" in (res.error or "")
    assert res.details["rollback_method"] == \
        "native, on a fresh session: configure revert now", res.error
    assert res.details["state"] == ROLLED_BACK
    assert "configure confirm" not in sent
    assert dev.state == "drifted"


def test_classic_ios_without_archive_has_nothing_to_arm() -> None:
    res, dev, sent = _apply("cisco_ios")
    assert res.ok, res.error
    assert "show archive" in sent and "configure terminal" in sent
    assert not [c for c in sent if c.startswith(("configure terminal revert",
                                                 "configure revert", "configure confirm"))]
    assert dev.state == "synced"
