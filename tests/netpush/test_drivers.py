"""One suite that every platform driver passes, against synthetic device sessions
(tests/netpush/sessions/<name>/session.yaml, hand-written from vendor documentation,
each naming its driver): netmiko's own class for the device type talks to a simulated
terminal (tests/netpush/fake.py: prompts per view, paging, [Y/N] questions, the
family's error answers), so the driver code that talks to real devices runs here with
netmiko under it. The drivers are the platform folders' (DRIVERS): a new one without a
synthetic session fails ``test_every_driver_has_a_synthetic_session``."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from pesdc.netpush.backups import list_backups
from pesdc.netpush.drivers import DRIVERS, ConnParams, Driver
from pesdc.netpush.engine import apply_device, plan_device
from pesdc.netpush.secrets import Secrets
from tests.netpush.fake import FakeDevice, load_session, synthetic_drivers, target_of

# Drivers a synthetic session cannot stand in for, and where they are tested instead.
NOT_SYNTHETIC = {"linux_nftables": "its plan loads the ruleset in a scratch namespace on "
                                   "the device: tests/netpush/test_lab.py"}
SYNTHETIC = synthetic_drivers()
PLATFORMS = sorted(key for key in DRIVERS if key not in NOT_SYNTHETIC)


def test_every_driver_has_a_synthetic_session() -> None:
    assert set(PLATFORMS) == set(SYNTHETIC), "write a synthetic session for each new driver"


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(Driver, "read_timeout", 10.0)  # a wrong wait fails fast
    return tmp_path / "state"


@pytest.fixture(params=PLATFORMS)
def session(request: pytest.FixtureRequest) -> dict:
    return load_session(SYNTHETIC[request.param])


def _secrets(s: dict) -> Secrets:
    return Secrets(s["secrets"], env={})


def _driver(s: dict, dev: FakeDevice) -> Driver:
    sec = _secrets(s)
    drv = DRIVERS[s["driver"]](ConnParams(s["device_type"], "192.0.2.1"), connect=dev,
                               redact=sec.redact, fill=sec.fill)
    drv.open()
    return drv


def push_committed(drv: Driver, lines: list[str]) -> None:
    """Push as the engine does under the driver's commit model, and confirm."""
    model = drv.commit_model
    armed = model.native and model.arm_before_push
    if armed:
        drv.prepare_commit(300)
    drv.push(lines)
    if not model.arm_before_push and drv.supports_commit_confirm:
        drv.commit_confirm(300)
        armed = True
    if armed:
        drv.confirm()


def test_get_running(session: dict) -> None:
    """The display as the device prints it, read through netmiko (its paging turned
    off, the prompt stripped): the session's text, whatever its trailing newline."""
    dev = FakeDevice(session)
    assert _driver(session, dev).get_running().rstrip("\n") == \
        session["running"]["drifted"].rstrip("\n")


def test_paging_left_on_truncates_the_display(session: dict) -> None:
    """The terminal really pages: a session that never sent the family's paging
    command sees the More prompt, not the whole configuration."""
    from tests.netpush.fake import Device, Terminal

    device = Device(session)
    term = Terminal(device, [], [])
    term.take()
    term.write(session["show_running"] + "\n")
    shown = term.take()
    more = term.t["paging"]["more"]
    if len(device.running().splitlines()) <= int(term.t["paging"]["lines"]):
        pytest.skip("this display fits one screen")
    assert shown.rstrip().endswith(more.strip())
    assert device.running().rstrip() not in shown


def test_plan_nonempty_for_drift_and_empty_in_sync(session: dict) -> None:
    drv = _driver(session, FakeDevice(session))
    lines = drv.plan(session["running"]["drifted"], session["intended"])
    assert lines
    assert not any(ln.lstrip().startswith(("#", "!")) for ln in lines)
    assert lines[-1].strip() not in ("return", "end")
    assert drv.plan(session["running"]["synced"], session["intended"]) == []


def test_push_sends_exactly_the_remediation_and_saves(session: dict) -> None:
    dev = FakeDevice(session)
    drv = _driver(session, dev)
    lines = drv.plan(drv.get_running(), session["intended"])
    push_committed(drv, lines)
    drv.save()
    sec = _secrets(session)
    assert dev.sent_lines == [sec.fill(x) for x in lines]
    assert dev.sent_lines == session["transitions"][0]["lines"]
    assert dev.state == "synced"
    assert dev.rejected == []
    assert dev.saved


def test_rollback_restores_the_backup(session: dict) -> None:
    dev = FakeDevice(session)
    drv = _driver(session, dev)
    backup = drv.get_running()
    push_committed(drv, drv.plan(backup, session["intended"]))
    assert dev.state == "synced"
    sent = drv.rollback(_secrets(session).redact(backup))
    assert sent
    assert dev.state == "drifted"
    assert drv.differs(drv.get_running(), backup) == []


def test_apply_flow_backs_up_pushes_postchecks(session: dict, state: Path) -> None:
    dev = FakeDevice(session)
    res = apply_device(target_of(session), _secrets(session), connect=dev)
    assert res.ok, res.error
    assert res.changed == len(session["transitions"][0]["lines"])
    assert res.details["post_check"] == "clean"
    assert Path(res.details["backup"]).is_file()
    assert [b.device for b in list_backups("testcity")] == ["dev-1"]
    again = apply_device(target_of(session), _secrets(session), connect=dev)
    assert again.ok and again.changed == 0
    planned = plan_device(target_of(session), _secrets(session), connect=dev)
    assert planned.changed == 0
    # Plan and apply name the family's commit model, as `pesdc net plan` prints it.
    model = DRIVERS[session["driver"]].commit_model
    assert planned.details["commit_model"] == res.details["commit_model"] == model.name
    assert planned.details["commit"] == model.says


def test_failed_push_rolls_back_automatically(session: dict) -> None:
    dev = FakeDevice(session)
    calls = {"n": 0}

    def hook(drv: Driver) -> None:
        drv.batch = 2  # type: ignore[misc]
        real = drv.send_config

        def flaky(lines: list[str]) -> str:
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError("Socket is closed")
            return real(lines)
        drv.send_config = flaky  # type: ignore[method-assign]

    res = apply_device(target_of(session), _secrets(session), connect=dev, driver_hook=hook)
    assert not res.ok
    assert "Socket is closed" in (res.error or "")
    assert res.details["rolled_back"] is True, res.error
    assert "rolled back to" in (res.error or "")
    assert dev.state == "drifted"


def test_missing_secret_pushes_nothing(session: dict) -> None:
    if "%%PESDC_SECRET:" not in session["intended"]:
        pytest.skip("this platform's intended configuration holds no secret")
    dev = FakeDevice(session)
    res = apply_device(target_of(session), Secrets({}, env={}), connect=dev)
    assert not res.ok and "netadmin_password" in (res.error or "")
    assert dev.sent_lines == []


def test_secrets_never_in_logs_backups_or_results(session: dict, state: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    secret = session["secrets"]["netadmin_password"]
    needs_secret = any(secret in ln for ln in session["transitions"][0]["lines"])
    dev = FakeDevice(session)
    caplog.set_level(logging.DEBUG)
    res = apply_device(target_of(session), _secrets(session), connect=dev)
    assert res.ok
    if needs_secret:
        assert secret in dev.transcript_text()  # the device got it and echoed it
    assert secret not in json.dumps(res.as_dict())
    assert secret not in caplog.text
    for f in state.rglob("*"):
        if f.is_file():
            assert secret not in f.read_text(errors="replace"), f
    # A failure path (rollback) must not leak it either.
    dev2 = FakeDevice(session)

    def hook(drv: Driver) -> None:
        def boom(lines: list[str]) -> str:
            raise OSError(f"device said: {lines}")
        drv.send_config = boom  # type: ignore[method-assign]

    bad = apply_device(target_of(session), _secrets(session), connect=dev2, driver_hook=hook)
    assert not bad.ok
    assert secret not in json.dumps(bad.as_dict())
    assert secret not in caplog.text


def test_comment_and_trailer_lines_are_not_pushed(session: dict) -> None:
    dev = FakeDevice(session)
    drv = _driver(session, dev)
    lines = drv.plan(drv.get_running(), session["intended"])
    push_committed(drv, ["#", "! a comment", *lines, "return" if "undo" in
                         session["transitions"][0]["lines"][0] or
                         session["driver"].startswith(("huawei", "h3c")) else "end"])
    assert dev.sent_lines == session["transitions"][0]["lines"]


def test_interrupt_mid_push_rolls_back_and_says_so(session: dict) -> None:
    """SIGINT between two batches (issue 13, point 5): the push stops at the batch
    boundary and the device is rolled back to its backup, never left between."""
    from pesdc.netpush.engine import ROLLED_BACK, Stop

    dev = FakeDevice(session)
    stop = Stop()

    def hook(drv: Driver) -> None:
        drv.batch = 1  # type: ignore[misc]
        real = drv.send_config

        def first_then_interrupt(lines: list[str]) -> str:
            out = real(lines)
            stop.set("SIGINT")  # as the signal handler does, after the first batch
            return out
        drv.send_config = first_then_interrupt  # type: ignore[method-assign]

    res = apply_device(target_of(session), _secrets(session), connect=dev, driver_hook=hook,
                       stop=stop)
    total = len(session["transitions"][0]["lines"])
    assert not res.ok
    if total == 1:  # nothing left to stop before: the push completed and was checked
        pytest.skip("a one-line remediation has no batch boundary")
    assert f"interrupted by SIGINT during the push after 1 of {total}" in (res.error or "")
    assert res.details["state"] == ROLLED_BACK and res.details["rolled_back"] is True
    assert dev.state == "drifted"
    assert Path(res.details["backup"]).is_file()


def test_interrupted_run_starts_no_further_device(session: dict) -> None:
    """An interrupt that arrives once a device's push is done: that device finishes
    (post-check, save) on its new configuration; the devices after it are not touched."""
    from pesdc.netpush.engine import NEW, NOT_STARTED, Stop, run_targets

    devs = {f"192.0.2.{i}": FakeDevice(session) for i in (1, 2, 3)}
    stop = Stop()
    targets = []
    for i, addr in enumerate(devs, 1):
        t = target_of(session)
        t.name, t.host = f"dev-{i}", f"dev-{i}.testcity"
        t.params = ConnParams(session["device_type"], addr, retries=0)
        targets.append(t)

    def hook(drv: Driver) -> None:
        real = drv.get_running

        def running_then_interrupt() -> str:
            out = real()
            if drv.should_stop is None and dev_of(drv).state == "synced":
                stop.set("SIGINT")  # during the post-check of the first device
            return out
        drv.get_running = running_then_interrupt  # type: ignore[method-assign]

    def dev_of(drv: Driver) -> FakeDevice:
        return devs[drv.params.host]

    told: list[tuple[str, str, str]] = []  # what the progress heard, in order

    class Told:
        def start(self, total: int | None, what: str) -> None:
            told.append(("start", str(total), what))

        def begin(self, name: str, what: str = "", group: str | None = None) -> None:
            told.append(("begin", name, what))

        def step(self, name: str, what: str = "", status: str = "ok",
                 group: str | None = None) -> None:
            told.append(("step", name, status.split(",")[0]))

        def note(self, text: str) -> None:
            told.append(("note", text, ""))

        def done(self) -> None:
            told.append(("done", "", ""))

    results = run_targets("apply", targets, _secrets(session), 1,
                          lambda **kw: devs[kw["host"]](**kw), hook, stop, Told())
    # Progress per device, as each starts and ends (issue 18 point 5).
    assert told == [("start", "3", "net apply: 3 devices"),
                    ("begin", "testcity/dev-1", "push"),
                    ("step", "testcity/dev-1", f"ok: {NEW}"),
                    ("begin", "testcity/dev-2", "push"),
                    ("step", "testcity/dev-2", "failed: not started: the run was "
                                               "interrupted by SIGINT"),
                    ("begin", "testcity/dev-3", "push"),
                    ("step", "testcity/dev-3", "failed: not started: the run was "
                                               "interrupted by SIGINT")], told
    assert stop() == "SIGINT"
    assert results[0].ok and results[0].details["state"] == NEW, results[0].error
    for r in results[1:]:
        assert not r.ok and r.details["state"] == NOT_STARTED
        assert "not started: the run was interrupted by SIGINT" in (r.error or "")
    assert [d.state for d in devs.values()] == ["synced", "drifted", "drifted"]
