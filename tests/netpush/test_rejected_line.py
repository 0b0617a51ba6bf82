"""Every push driver, the same failure (NAPALM-style, one test parametrised from the
DRIVERS registry): the device rejects a line in the middle of a push.

The synthetic device (tests/netpush/fake.py) answers a line its session does not take
with its family's error text and `^` marker, as the device would. Each session names
the line and where it goes (``rejected: {line, after, undone_by}``): the remediation
gets that line inserted after its first ``after`` lines. Then:

- the push stops at that line: the lines after it are never sent;
- the device is rolled back its family's way (``undone_by``): its native rollback
  (abort trial, the rollback point, configure revert), its uncommitted candidate
  discarded, or the backup pushed back where the family has nothing native; it ends
  on its backup, checked;
- the run's result names the rejected line and where it was.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pesdc.netpush.drivers import DRIVERS, Driver
from pesdc.netpush.engine import ROLLED_BACK, apply_device
from pesdc.netpush.secrets import Secrets
from pesdc.platforms.driver import BACKUP_PUSH
from tests.netpush.fake import (
    FakeDevice,
    load_session,
    post_check_fails,
    synthetic_drivers,
    target_of,
)
from tests.netpush.test_drivers import NOT_SYNTHETIC

KEYS = sorted(key for key in DRIVERS if key not in NOT_SYNTHETIC)
# How the result's rollback_method starts, per way of undoing.
UNDONE_BY = {"native": "native:", "discard": "discarded the uncommitted lines",
             "backup": "pushed "}


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(Driver, "read_timeout", 10.0)  # a wrong wait fails fast
    return tmp_path / "state"


def _case(key: str) -> dict:
    sessions = synthetic_drivers()
    if key not in sessions:
        pytest.fail(f"driver {key} has no synthetic session (tests/netpush/sessions/)")
    session = load_session(sessions[key])
    if "rejected" not in session:
        pytest.fail(f"the {key} session gives no `rejected:` case (line, after, undone_by)")
    return session


@pytest.mark.parametrize("key", KEYS)
def test_rejected_line_stops_the_push_and_the_device_is_rolled_back(key: str) -> None:
    session = _case(key)
    case = session["rejected"]
    bad, after = case["line"], int(case["after"])
    dev = FakeDevice(session)
    planned: list[str] = []

    def hook(drv: Driver) -> None:
        real = drv.plan

        def with_a_bad_line(running: str, intended: str) -> list[str]:
            lines = real(running, intended)
            if planned:  # the post-check and the rollback plan as they are
                return lines
            planned.extend(lines)
            return [*lines[:after], bad, *lines[after:]]
        drv.plan = with_a_bad_line  # type: ignore[method-assign]

    res = apply_device(target_of(session), Secrets(session["secrets"], env={}),
                       connect=dev, driver_hook=hook)
    sec = Secrets(session["secrets"], env={})
    expected_before = [sec.fill(x) for x in planned[:after]]

    # The device answered the line with its error, and nothing after it was sent.
    assert dev.rejected == [bad.strip()], dev.transcript_text()
    assert dev.rejected_at == [after]
    assert dev.sent_lines[:after] == expected_before
    # The run says which line, where, and that it stopped there.
    assert not res.ok
    assert res.details["rejected_line"] == bad.strip()
    assert res.details["rejected_after"] == after
    assert f"rejected line {after + 1} of {len(planned) + 1}" in (res.error or "")
    # Rolled back the family's way, and checked.
    drv_model = DRIVERS[key].commit_model
    way = case["undone_by"]
    assert way == "backup" or drv_model is not BACKUP_PUSH, \
        f"{key} has no native commit: its session can only expect the backup pushed back"
    assert str(res.details.get("rollback_method", "")).startswith(UNDONE_BY[way]), res.error
    assert res.details["rolled_back"] is True, res.error
    assert res.details["state"] == ROLLED_BACK
    assert dev.state == session["start"]


@pytest.mark.parametrize("key", KEYS)
def test_failed_post_check_is_undone_the_familys_way(key: str) -> None:
    """The push went through but the post-check still sees a difference: the change is
    undone by the family's native rollback where it has one (VRP8 `abort trial`,
    answering its [Y/N]; Comware's rollback point; IOS `configure revert now`), else by
    pushing the backup back; the device ends on its backup, checked."""
    session = _case(key)
    way = session["rejected"]["undone_by"]
    expected = "backup" if way == "backup" else "native"  # a candidate is committed now
    dev = FakeDevice(session)
    hook = post_check_fails(["a line the post-check still sees"])
    res = apply_device(target_of(session), Secrets(session["secrets"], env={}),
                       connect=dev, driver_hook=hook)
    assert not res.ok
    assert "post-check" in (res.error or "")
    assert str(res.details.get("rollback_method", "")).startswith(UNDONE_BY[expected]), \
        res.error
    assert res.details["rolled_back"] is True, res.error
    assert dev.state == session["start"]
    assert dev.rejected == []
