"""The flow per device and the run over a center: plan, apply, back up, roll back.

apply, per device: connect (timeouts, retries) -> fetch running -> back it up ->
remediation to the rendered intended configuration -> push only that -> fetch again and
require an empty remediation -> save, under the family's safe commit (its driver's
``commit_model``): VRP8 pushes into the candidate and runs it with `commit trial`, then
`commit`; Comware 7 arms `configuration commit delay` before the push and confirms with
`configuration commit`; IOS/IOS-XE push under `configure terminal revert timer` (where
the device has its archive) and confirm with `configure confirm`. A failed push or a
non-empty post-check is undone the family's way (`abort trial`, the device's rollback
point, `configure revert now`; VRP8's uncommitted candidate is discarded); a family
with nothing native gets its backup pushed back. Either way the engine then checks the
device is on its backup, and the result says how it got there. A line the device
rejects stops the push at that line and the result names it (``rejected_line``).
`pesdc net plan` says per device which commit model its apply will use.

Devices run on a thread pool (``workers``); the members of a redundancy pair run one
after the other in the same lane, never both at once, and the second is not touched if
the first failed.

Interrupts (Ctrl-C: SIGINT, and SIGTERM) never leave a device between two
configurations. While devices are being pushed the signal is deferred (:class:`Stop`):
a device in the middle of an incremental push stops at the next batch boundary and is
rolled back to its backup (checked); one whose new configuration is already loaded (an
nftables ruleset is one transaction) finishes its post-check and save; a device not yet
started is not touched. Every device's result names where it was left
(``details["state"]``, :data:`STATES`) and the run records the signal
(:attr:`NetRunResult.interrupted`).
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pesdc.i18n import N_
from pesdc.kinds import kind_of
from pesdc.localized import LocalizedError
from pesdc.localized import LocalizedText as T
from pesdc.model.diagnostics import Diagnostic
from pesdc.model.schema import DataCenter, Device
from pesdc.model.tree import Topology
from pesdc.netpush.backups import write_backup
from pesdc.netpush.drivers import CONFIG_FILE, DRIVERS, ConnParams, Driver, DriverError
from pesdc.netpush.drivers.base import Connect
from pesdc.netpush.secrets import SecretError, Secrets
from pesdc.platforms.driver import CommitModel, RejectedLine
from pesdc.progress import Progress, host_label, or_none
from pesdc.render import render_device_files
from pesdc.render.context import CenterFacts, hostname
from pesdc.results import HostResult, RunResult

if TYPE_CHECKING:
    from pesdc.lab.plan import LabPlan

log = logging.getLogger("pesdc.netpush")
ENGINE = "netmiko"
COMMIT_TRIAL_SECONDS = 300

# Where an apply left a device (details["state"]): on its new configuration, or on
# its previous one (what its backup holds: rolled back, or nothing pushed), or not
# touched at all; UNKNOWN only when a rollback itself failed.
NEW = "new configuration"
IN_SYNC = "in sync (nothing to change)"
ROLLED_BACK = "backup (rolled back)"
UNCHANGED = "unchanged (nothing pushed)"
NOT_STARTED = "not started"
UNKNOWN = "UNKNOWN (rollback failed)"
STATES = (NEW, IN_SYNC, ROLLED_BACK, UNCHANGED, NOT_STARTED, UNKNOWN)


class NetpushError(LocalizedError):
    """The run cannot start (unknown center, lab not up, ...): an ``N_`` template and its
    values (pesdc.localized), shown in the command line's language."""

    @classmethod
    def of(cls, exc: LocalizedError) -> NetpushError:
        """A lab's error (lab not up, ...) as the run's, its template kept."""
        return cls(exc.template, **(exc.fields or {}))


@dataclass
class NetRunResult(RunResult):
    interrupted: str | None = None  # the signal that stopped the run (SIGINT, SIGTERM)


class Stop:
    """A run's interrupt: set once by a signal (or by a caller); devices in flight reach
    a consistent state, devices not started stay untouched."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None
        self.phase: dict[str, str] = {}  # host -> what it is doing now

    def set(self, reason: str = "SIGINT") -> None:
        if self.reason is None:
            self.reason = reason
        self._event.set()

    def __call__(self) -> str | None:
        return self.reason if self._event.is_set() else None

    def doing(self, host: str, phase: str | None) -> None:
        if phase is None:
            self.phase.pop(host, None)
        else:
            self.phase[host] = phase


@contextlib.contextmanager
def deferred_signals(stop: Stop) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop`` instead of raising, for as long as devices are
    being pushed (main thread only: elsewhere Python delivers no signal anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        again = stop.reason is not None
        stop.set(name)
        busy = ", ".join(f"{h} ({p})" for h, p in sorted(stop.phase.items())) or "none"
        msg = (f"pesdc net: {name} received again: still bringing {busy} to a consistent "
               "state" if again else
               f"pesdc net: {name} received: no further device will be started; in flight: "
               f"{busy} (each ends on its backup or its new configuration)")
        with contextlib.suppress(OSError):
            os.write(2, (msg + "\n").encode())

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


@dataclass
class Target:
    name: str
    host: str  # NAME.CENTER
    center: str
    kind: str  # driver key (DRIVERS)
    params: ConnParams
    intended: str
    pair: tuple[str, ...] | None = None
    save_path: str | None = None
    lab: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _pair(dev: Device) -> tuple[str, ...] | None:
    return tuple(sorted((dev.name, dev.redundancy))) if dev.redundancy else None


def _selected(name: str, limit: list[str] | None) -> bool:
    if not limit:
        return True
    return any(fnmatch.fnmatchcase(name, pat) for pat in limit)


def build_targets(topo: Topology, dc_name: str, lab: str | None,
                  limit: list[str] | None, secrets: Secrets, plan: LabPlan | None = None,
                  live: Any = None) -> tuple[list[Target], list[HostResult]]:
    """The devices with something to push, and a failed result for those that cannot
    be rendered. Lab: the center's Linux stand-ins, reached with the lab's keys (from
    ``plan``, the lab's plan, when the caller has it). ``live``: a live target
    (pesdc.targets): every device through its bastion, checked against the pinned
    keys first (a device whose key is unknown or changed fails, not contacted)."""
    if dc_name not in topo.datacenters:
        raise NetpushError(N_("unknown data center {name!r}"), name=dc_name)
    dc = topo.datacenters[dc_name]
    if dc.hosted:
        raise NetpushError(N_("{name} is hosted by {host}: it has no devices"), name=dc_name,
                           host=dc.hosted_by)
    if live is not None:
        stand_ins = live.lab
        targets, failed = _lab_targets(topo, dc, stand_ins, limit, plan, live) \
            if stand_ins else _center_targets(topo, dc, limit, secrets, live)
        bad = live.check_keys(live.endpoints[t.name] for t in targets
                              if t.name in live.endpoints)
        failed += [HostResult(t.host, ENGINE, False, error=bad[t.name])
                   for t in targets if t.name in bad]
        return [t for t in targets if t.name not in bad], failed
    if lab is not None:
        return _lab_targets(topo, dc, lab, limit, plan)
    return _center_targets(topo, dc, limit, secrets)


def _through(params: ConnParams, live: Any, linux: bool) -> ConnParams:
    """A device's connection through the live target's bastion, its pinned keys."""
    params.known_hosts = str(live.known_hosts)
    params.extra = {**params.extra, "ssh_config_file": str(live.ssh_config)}
    if linux:
        params.username = live.gear_users(True)[0]
        params.key_file = str(live.identity) if live.identity else None
    return params


def _lab_targets(topo: Topology, dc: DataCenter, lab: str, limit: list[str] | None,
                 plan: LabPlan | None, live: Any = None
                 ) -> tuple[list[Target], list[HostResult]]:
    """The lab's stand-in gear, with the configurations its plan rendered (``live``:
    reached through the rehearsal profile's bastion, not from the controller)."""
    from pesdc.lab.enter import access
    from pesdc.lab.errors import LabError
    from pesdc.lab.paths import lab_dir
    from pesdc.lab.plan import GEAR_ROLES, build_plan

    try:
        acc = access(lab)
    except LabError as exc:
        raise NetpushError.of(exc) from None
    plan = plan or build_plan(topo, dc.name, lab)
    rendered = plan.rendered_gear().files
    targets: list[Target] = []
    failed: list[HostResult] = []
    for node in plan.nodes.values():
        dev = node.device
        if dev is None or node.role not in GEAR_ROLES or not node.mgmt:
            continue
        if not _selected(dev.name, limit):
            continue
        kind = kind_of(dev)
        intended = rendered.get(dev.name, {}).get(CONFIG_FILE.get(kind.name, ""))
        host = hostname(dc, dev.name)
        if intended is None:
            failed.append(HostResult(host, ENGINE, False,
                                     error=f"nothing rendered for {kind.name}"))
            continue
        params = ConnParams(kind.netmiko_type, node.mgmt, username="root",
                            key_file=str(acc.identity), known_hosts=str(acc.known_hosts),
                            timeout=10)
        if live is not None:
            params = _through(params, live, linux=True)
        save = str(lab_dir(lab) / "nodes" / dev.name / "config" / "nftables.conf") \
            if kind.name == "linux_nftables" else None
        targets.append(Target(dev.name, host, dc.name, kind.name, params, intended,
                              _pair(dev), save, lab))
    return targets, failed


def _center_targets(topo: Topology, dc: DataCenter, limit: list[str] | None,
                    secrets: Secrets, live: Any = None
                    ) -> tuple[list[Target], list[HostResult]]:
    """The center's own network devices, rendered for their platforms."""
    problems: list[Diagnostic] = []
    targets: list[Target] = []
    failed: list[HostResult] = []
    facts = CenterFacts.of(topo, dc)
    for dev in dc.devices:
        if not _selected(dev.name, limit):
            continue
        kind = kind_of(dev)
        if kind.name not in CONFIG_FILE:
            continue  # a Linux host: provisioned, not pushed
        host = hostname(dc, dev.name)
        files = render_device_files(facts, dev.name, problems)
        intended = files.get(CONFIG_FILE[kind.name])
        if intended is None:
            why = "; ".join(p.message for p in problems if dev.name in p.message)
            failed.append(HostResult(host, ENGINE, False,
                                     error=f"cannot render {dev.name}: {why or 'no config'}"))
            continue
        # The family decides: its kind names the driver (DRIVERS) and netmiko's type.
        key, dtype = kind.name, kind.netmiko_type
        linux = kind.name.startswith("linux")
        params = ConnParams(dtype, dev.mgmt,
                            username=secrets.get("netpush_username")
                            or (live.gear_users(linux)[0] if live is not None else "admin"),
                            password=secrets.get("netpush_password"),
                            secret=secrets.get("netpush_enable") or "")
        if live is not None:
            params = _through(params, live, linux)
        targets.append(Target(dev.name, host, dc.name, key, params, intended, _pair(dev),
                              "/etc/nftables.conf" if kind.name == "linux_nftables"
                              else None))
    return targets, failed


def make_driver(t: Target, secrets: Secrets, connect: Connect | None = None) -> Driver:
    cls = DRIVERS[t.kind]
    kw: dict[str, Any] = {}
    if t.kind == "linux_nftables":
        kw["save_path"] = t.save_path
    return cls(t.params, connect=connect, redact=secrets.redact, fill=secrets.fill, **kw)


def _err(exc: BaseException, secrets: Secrets) -> str:
    return secrets.redact(str(exc) or repr(exc))


def commit_of(drv: Driver) -> dict[str, Any]:
    """What a result says of the device's commit model (plan and apply alike)."""
    model: CommitModel = drv.commit_model
    return {"commit_model": model.name, "commit": model.says}


def plan_device(t: Target, secrets: Secrets, connect: Connect | None = None) -> HostResult:
    started = time.monotonic()
    res = HostResult(t.host, ENGINE, True, details={"platform": t.kind})
    drv = make_driver(t, secrets, connect)
    res.details.update(commit_of(drv))
    try:
        drv.open()
        running = drv.get_running()
        lines = drv.plan(running, t.intended)
    except (DriverError, SecretError) as exc:
        res.ok, res.error = False, _err(exc, secrets)
    else:
        res.changed = len(lines)
        res.changes = [secrets.redact(ln) for ln in lines]
        res.details["remediation"] = res.changes
        if drv.last_diff:
            res.details["diff"] = secrets.redact(drv.last_diff)
        missing = secrets.missing("\n".join(lines))
        if missing:
            res.details["missing_secrets"] = missing
    finally:
        drv.close()
        res.seconds = round(time.monotonic() - started, 3)
    return res


def _undo(drv: Driver, backup: str, res: HostResult, armed: bool, pushed: bool) -> None:
    """Undo the change the family's way: its native rollback while its timer runs, its
    candidate discarded when nothing was committed, else the backup pushed back on a
    fresh session."""
    model = drv.commit_model
    if armed and drv.alive():
        drv.cancel_commit()
        res.details["rollback_method"] = f"native: {model.cancel or 'cancel_commit'}"
        return
    if model.discard and not pushed and drv.alive():
        drv.discard()
        res.details["rollback_method"] = f"discarded the uncommitted lines ({model.discard})"
        return
    drv.close()
    drv.open()
    sent = drv.rollback(backup)
    if armed and model.cancel and not sent:
        # The session was lost while the device's own rollback point ran: the driver's
        # rollback on the new session undid it natively (IOS `configure revert now`).
        res.details["rollback_method"] = f"native, on a fresh session: {model.cancel}"
        return
    res.details["rollback_method"] = f"pushed {len(sent)} line(s) back to the backup"


def _rollback(drv: Driver, t: Target, backup: str, res: HostResult, secrets: Secrets,
              armed: bool, pushed: bool = True) -> None:
    """Back to the backup (``_undo``), then check it is there; record what happened.
    ``armed``: a native rollback point is running on the device; ``pushed``: the lines
    took effect (a candidate committed, or a family whose lines apply as typed)."""
    res.details["rolled_back"] = False
    res.details["state"] = UNKNOWN
    drv.should_stop = None  # a rollback is never interrupted
    try:
        _undo(drv, backup, res, armed, pushed)
        now = drv.get_running()
        left = drv.differs(now, backup)
        if left:
            res.details["rollback_left"] = [secrets.redact(x) for x in left]
            res.error = (res.error or "") + "; ROLLBACK INCOMPLETE: the device differs " \
                f"from its backup by {len(left)} line(s)"
            return
        drv.save()
        res.details["rolled_back"] = True
        res.details["state"] = ROLLED_BACK
        res.error = (res.error or "") + f"; rolled back to {res.details['backup']}"
    except (DriverError, SecretError, NotImplementedError) as exc:
        res.error = (res.error or "") + f"; ROLLBACK FAILED: {_err(exc, secrets)}"


def not_started(t: Target, why: str) -> HostResult:
    return HostResult(t.host, ENGINE, False, error=why,
                      details={"platform": t.kind, "state": NOT_STARTED})


def apply_device(t: Target, secrets: Secrets, connect: Connect | None = None,
                 driver_hook: Callable[[Driver], None] | None = None,
                 stop: Stop | None = None) -> HostResult:
    stop = stop or Stop()
    if stop():
        return not_started(t, f"not started: the run was interrupted by {stop()}")
    started = time.monotonic()
    res = HostResult(t.host, ENGINE, True, details={"platform": t.kind,
                                                    "state": UNCHANGED})
    drv = make_driver(t, secrets, connect)
    res.details.update(commit_of(drv))
    if driver_hook is not None:
        driver_hook(drv)
    hook = drv.on_batch

    def progress(sent: int, total: int) -> None:
        log.info("%s: %s %d/%d", t.host, stop.phase.get(t.host, "batch"), sent, total)
        if hook is not None:
            hook(sent, total)
    drv.on_batch = progress
    try:
        planned = _backed_up_plan(drv, t, res, secrets, stop)
        if planned is None:
            return res
        backup_text, lines = planned
        res.details["remediation"] = [secrets.redact(ln) for ln in lines]
        if drv.last_diff:
            res.details["diff"] = secrets.redact(drv.last_diff)
        if not lines:
            res.details["state"] = IN_SYNC
            return res
        if stop():
            res.ok = False
            res.error = f"interrupted by {stop()} before the push: nothing sent"
            return res
        _push(drv, t, lines, backup_text, res, secrets, stop)
        return res
    finally:
        stop.doing(t.host, None)
        drv.close()
        res.seconds = round(time.monotonic() - started, 3)


def _backed_up_plan(drv: Driver, t: Target, res: HostResult, secrets: Secrets, stop: Stop
                    ) -> tuple[str, list[str]] | None:
    """Connect, read the running configuration, back it up and plan the remediation:
    (the backup's text, the lines to push), or None when any step failed (the result
    says which): then nothing is pushed."""
    try:
        stop.doing(t.host, "connecting")
        drv.open()
        stop.doing(t.host, "reading the running configuration")
        running = drv.get_running()
    except DriverError as exc:
        res.ok, res.error = False, _err(exc, secrets)
        return None
    backup_text = secrets.redact(running)
    try:
        res.details["backup"] = str(write_backup(t.center, t.name, backup_text, t.lab))
    except OSError as exc:  # e.g. the state directory is full: no backup, no push
        res.ok, res.error = False, f"cannot write the backup: {exc}; nothing pushed"
        return None
    try:
        stop.doing(t.host, "planning")
        lines = drv.plan(running, t.intended)
        missing = secrets.missing("\n".join(lines))
        if missing:
            raise SecretError(f"secret(s) not set: {', '.join(missing)} (environment "
                              "PESDC_SECRET_<NAME> or --secrets FILE); nothing pushed")
    except (DriverError, SecretError) as exc:
        res.ok, res.error = False, _err(exc, secrets)
        return None
    return backup_text, lines


def _push(drv: Driver, t: Target, lines: list[str], backup_text: str, res: HostResult,
          secrets: Secrets, stop: Stop) -> None:
    """Push the lines under the family's safe commit, require an empty post-check and
    save; any failure rolls the device back to its backup the family's way (checked)."""
    log.info("%s: pushing %d line(s) (%s)", t.host, len(lines), drv.commit_model.name)
    model = drv.commit_model
    armed = False  # a native rollback point is running on the device
    pushed = not model.discard  # a candidate takes effect only once committed
    try:
        if model.native and model.arm_before_push:
            stop.doing(t.host, "arming the commit timer")
            drv.prepare_commit(COMMIT_TRIAL_SECONDS)
            armed = True
        stop.doing(t.host, "pushing")
        drv.should_stop = stop
        try:
            drv.push(lines)
        finally:
            # IOS: the push itself armed the revert timer (or did not: no archive).
            armed = armed or (model.armed_by_push and drv.supports_commit_confirm)
        drv.should_stop = None  # pushed: from here on the device finishes
        if not model.arm_before_push and drv.supports_commit_confirm:
            drv.commit_confirm(COMMIT_TRIAL_SECONDS)
            armed = pushed = True
        stop.doing(t.host, "post-check")
        after = drv.get_running()
        left = drv.plan(after, t.intended)
        if left:
            res.details["post_check_left"] = [secrets.redact(x) for x in left]
            raise DriverError(f"post-check: {len(left)} line(s) still differ after the "
                              f"push (first: {secrets.redact(left[0])!r})")
        if armed:
            drv.confirm()
            armed = False
        stop.doing(t.host, "saving")
        drv.save()
    except (DriverError, SecretError) as exc:
        res.ok, res.error = False, _err(exc, secrets)
        if isinstance(exc, RejectedLine):
            res.details["rejected_line"] = exc.line
            res.details["rejected_after"] = exc.sent
            res.error = (f"the device rejected line {exc.sent + 1} of {len(lines)} "
                         f"({exc.line!r}); the push stopped there: {res.error}")
        log.warning("%s: %s; rolling back", t.host, res.error)
        stop.doing(t.host, "rolling back")
        _rollback(drv, t, backup_text, res, secrets, armed, pushed)
        return
    res.changed = len(lines)
    res.changes = res.details["remediation"]
    res.details["post_check"] = "clean"
    res.details["state"] = NEW


def _lanes(targets: list[Target]) -> list[list[Target]]:
    """One lane per redundancy pair (members in name order) or single device."""
    lanes: dict[Any, list[Target]] = {}
    for t in sorted(targets, key=lambda x: x.name):
        key = t.pair if t.pair else (t.name,)
        lanes.setdefault(key, []).append(t)
    return list(lanes.values())


def _device_status(r: HostResult) -> str:
    """A device's result as a progress status."""
    if not r.ok:
        return f"failed: {r.error or 'failed'}"
    return T(N_("ok: {state}, {lines} line(s)"), state=r.details.get("state", UNCHANGED),
             lines=r.changed)


def run_targets(action: str, targets: list[Target], secrets: Secrets, workers: int = 4,
                connect: Connect | None = None,
                driver_hook: Callable[[Driver], None] | None = None,
                stop: Stop | None = None, progress: Progress | None = None
                ) -> list[HostResult]:
    """Plan or apply every target; an apply defers SIGINT/SIGTERM into ``stop``;
    ``progress`` hears of each device as it starts and ends."""
    stop = stop or Stop()
    say = or_none(progress)
    what = T(N_("push")) if action == "apply" else T(N_("plan"))
    say.start(len(targets), T(N_("net {action}: {count} devices"), action=action,
                              count=len(targets)))

    def one(t: Target, out: list[HostResult]) -> HostResult:
        """The device's result (``out``: its lane's results so far)."""
        if action == "apply" and stop():
            return not_started(t, f"not started: the run was interrupted by {stop()}")
        if action == "apply" and out and not out[-1].ok:
            return not_started(t, f"not pushed: its redundancy partner {out[-1].host} "
                                  "failed")
        try:
            return (apply_device(t, secrets, connect, driver_hook, stop)
                    if action == "apply" else plan_device(t, secrets, connect))
        except Exception as exc:  # a driver bug must not take the other devices down
            return HostResult(t.host, ENGINE, False,
                              error=f"internal error: {_err(exc, secrets)}",
                              details={"platform": t.kind, "state": UNKNOWN})

    def lane(ts: list[Target]) -> list[HostResult]:
        out: list[HostResult] = []
        for t in ts:
            say.begin(host_label(t.host), what)
            out.append(one(t, out))
            say.step(host_label(t.host), what, _device_status(out[-1]))
        return out

    lanes = _lanes(targets)
    results: list[HostResult] = []
    guard = deferred_signals(stop) if action == "apply" else contextlib.nullcontext()
    with guard, ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for rs in pool.map(lane, lanes):
            results += rs
    return sorted(results, key=lambda r: r.host)


# -- library API --------------------------------------------------------------------
def _run(action: str, topo: Topology, dc_name: str, lab: str | None,
         limit: list[str] | None, workers: int, secrets: Secrets | None,
         connect: Connect | None = None, plan: LabPlan | None = None,
         live: Any = None, progress: Progress | None = None) -> NetRunResult:
    secrets = secrets or Secrets.load()
    if lab is not None and live is None:
        from pesdc.lab.enter import inside

        if not inside(lab):
            return _run_in_lab(action, topo, dc_name, lab, limit, workers, secrets, plan)
    targets, failed = build_targets(topo, dc_name, lab, limit, secrets, plan, live)
    stop = Stop()
    for f in failed:
        or_none(progress).step(host_label(f.host), "connect", _device_status(f))
    hosts = run_targets(action, targets, secrets, workers, connect, stop=stop,
                        progress=progress) + failed
    return NetRunResult(action, ENGINE, sorted(hosts, key=lambda h: h.host),
                        interrupted=stop())


def plan_network(topo: Topology, dc_name: str, lab: str | None = None,
                 limit: list[str] | None = None, secrets: Secrets | None = None,
                 workers: int = 4, connect: Connect | None = None,
                 plan: LabPlan | None = None, live: Any = None,
                 progress: Progress | None = None) -> NetRunResult:
    """What apply would push to each network device of a center (read-only). A lab
    run takes the lab's ``plan`` when the caller has built it already; ``live``: a
    live target (pesdc.targets), through its bastion. ``progress`` hears of each
    device (not when the run goes to a child in the lab: call from inside it)."""
    return _run("plan", topo, dc_name, lab, limit, workers, secrets, connect, plan, live,
                progress)


def apply_network(topo: Topology, dc_name: str, lab: str | None = None,
                  limit: list[str] | None = None, workers: int = 4,
                  secrets: Secrets | Path | None = None,
                  connect: Connect | None = None,
                  plan: LabPlan | None = None, live: Any = None,
                  progress: Progress | None = None) -> NetRunResult:
    """Push the remediation to each device; back up, post-check, roll back on failure.
    ``progress`` hears of each device (as for :func:`plan_network`)."""
    if isinstance(secrets, Path):
        secrets = Secrets.load(secrets)
    return _run("apply", topo, dc_name, lab, limit, workers, secrets, connect, plan, live,
                progress)


def _run_in_lab(action: str, topo: Topology, dc_name: str, lab: str, limit: list[str] | None,
                workers: int, secrets: Secrets, plan: LabPlan | None) -> NetRunResult:
    """Network safety: lab connections only from the lab's controller namespace. The
    run goes to a child there; secrets travel in its environment, never in a file.
    SIGINT/SIGTERM here are passed on to the child, which brings its devices to a
    consistent state and still reports; the child is never killed mid-push."""
    import json

    from pesdc.lab import netns
    from pesdc.lab.enter import INSIDE_ENV, access
    from pesdc.lab.errors import LabError

    fd, name = tempfile.mkstemp(prefix="pesdc-netpush-", suffix=".pickle")
    got: list[str] = []
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump({"action": action, "topo": topo, "dc": dc_name, "lab": lab,
                         "limit": limit, "workers": workers, "plan": plan}, f)
        try:
            acc = access(lab)
        except LabError as exc:
            raise NetpushError.of(exc) from None
        env = {**os.environ, INSIDE_ENV: lab, **secrets.as_env()}
        proc = subprocess.Popen(
            netns.ns_exec(acc.controller_ns, sys.executable, "-m", "pesdc.netpush.inlab",
                          name), stdout=subprocess.PIPE, env=env, text=True)

        def forward(signum: int, _frame: object) -> None:
            got.append(signal.Signals(signum).name)
            with contextlib.suppress(OSError):
                proc.send_signal(signum)

        main = threading.current_thread() is threading.main_thread()
        old = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)} \
            if main else {}
        try:
            stdout, _ = proc.communicate()
        finally:
            for sig, h in old.items():
                signal.signal(sig, h)
    finally:
        Path(name).unlink(missing_ok=True)
    if proc.returncode != 0 or not stdout.strip():
        if got:
            raise NetpushError(N_("interrupted by {signal} before the run inside lab {lab} "
                                  "had started: no device was contacted"), signal=got[0],
                               lab=lab)
        raise NetpushError(N_("the run inside lab {lab} failed (exit {code})"), lab=lab,
                           code=proc.returncode)
    data = json.loads(stdout)
    if "error" in data:
        raise NetpushError(data["error"])
    return NetRunResult(data["action"], data["engine"],
                        [HostResult(**h) for h in data["hosts"]],
                        interrupted=data.get("interrupted") or (got[0] if got else None))
