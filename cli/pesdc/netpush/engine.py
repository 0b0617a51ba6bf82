"""The flow per device and the run over a center: plan, apply, back up, roll back.

apply, per device: connect (timeouts, retries) -> fetch running -> back it up ->
remediation to the rendered intended configuration -> push only that -> (VRPv8:
`commit trial`) -> fetch again and require an empty remediation -> (confirm) -> save.
A failed push or a non-empty post-check rolls the device back to the backup, checks
that it is there, and the device's result says so.

Devices run on a thread pool (``workers``); the members of a redundancy pair run one
after the other in the same lane, never both at once, and the second is not touched if
the first failed.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pesdc.kinds import kind_of
from pesdc.model.diagnostics import Diagnostic
from pesdc.model.schema import DataCenter, Device
from pesdc.model.tree import Topology
from pesdc.netpush.backups import write_backup
from pesdc.netpush.drivers import CONFIG_FILE, DRIVERS, ConnParams, Driver, DriverError
from pesdc.netpush.drivers.base import Connect
from pesdc.netpush.secrets import SecretError, Secrets
from pesdc.render import render_device_files
from pesdc.render.context import CenterFacts, hostname
from pesdc.results import HostResult, RunResult

log = logging.getLogger("pesdc.netpush")
ENGINE = "netmiko"
COMMIT_TRIAL_SECONDS = 300


class NetpushError(Exception):
    """The run cannot start (unknown center, lab not up, ...)."""


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


def _driver_key(dev: Device, kind_name: str, netmiko_type: str) -> tuple[str, str]:
    """(driver key, netmiko device_type); CloudEngine (CE*) runs VRPv8."""
    if kind_name in ("huawei_vrp", "huawei_usg") and dev.model.upper().startswith("CE"):
        return "huawei_vrpv8", "huawei_vrpv8"
    return kind_name, netmiko_type


def _pair(dev: Device) -> tuple[str, ...] | None:
    return tuple(sorted((dev.name, dev.redundancy))) if dev.redundancy else None


def _selected(name: str, limit: list[str] | None) -> bool:
    if not limit:
        return True
    return any(fnmatch.fnmatchcase(name, pat) for pat in limit)


def build_targets(topo: Topology, dc_name: str, lab: str | None,
                  limit: list[str] | None, secrets: Secrets
                  ) -> tuple[list[Target], list[HostResult]]:
    """The devices with something to push, and a failed result for those that cannot
    be rendered. Lab: the center's Linux stand-ins, reached with the lab's keys."""
    if dc_name not in topo.datacenters:
        raise NetpushError(f"unknown data center {dc_name!r}")
    dc = topo.datacenters[dc_name]
    if dc.hosted:
        raise NetpushError(f"{dc_name} is hosted by {dc.hosted_by}: it has no devices")
    problems: list[Diagnostic] = []
    targets: list[Target] = []
    failed: list[HostResult] = []
    if lab is not None:
        from pesdc.lab.enter import access
        from pesdc.lab.errors import LabError
        from pesdc.lab.paths import lab_dir
        from pesdc.lab.plan import build_plan

        try:
            acc = access(lab)
        except LabError as exc:
            raise NetpushError(str(exc)) from None
        plan = build_plan(topo, dc_name, lab)
        view: DataCenter = plan.lab_dc
        view_topo = Topology(files=topo.files,
                             datacenters={**topo.datacenters, dc_name: view},
                             dc_file=topo.dc_file)
        facts = CenterFacts.of(view_topo, view)
        for node in plan.nodes.values():
            dev = node.device
            if dev is None or node.role not in ("firewall", "router") or not node.mgmt:
                continue
            if not _selected(dev.name, limit):
                continue
            kind = kind_of(dev)
            files = render_device_files(facts, dev.name, problems)
            intended = files.get(CONFIG_FILE.get(kind.name, ""))
            host = hostname(dc, dev.name)
            if intended is None:
                failed.append(HostResult(host, ENGINE, False,
                                         error=f"nothing rendered for {kind.name}"))
                continue
            params = ConnParams(kind.netmiko_type, node.mgmt, username="root",
                                key_file=str(acc.identity), known_hosts=str(acc.known_hosts),
                                timeout=10)
            save = str(lab_dir(lab) / "nodes" / dev.name / "config" / "nftables.conf") \
                if kind.name == "linux_nftables" else None
            targets.append(Target(dev.name, host, dc_name, kind.name, params, intended,
                                  _pair(dev), save, lab))
        return targets, failed
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
        key, dtype = _driver_key(dev, kind.name, kind.netmiko_type)
        params = ConnParams(dtype, dev.mgmt,
                            username=secrets.get("netpush_username") or "admin",
                            password=secrets.get("netpush_password"),
                            secret=secrets.get("netpush_enable") or "")
        targets.append(Target(dev.name, host, dc_name, key, params, intended, _pair(dev),
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


def plan_device(t: Target, secrets: Secrets, connect: Connect | None = None) -> HostResult:
    started = time.monotonic()
    res = HostResult(t.host, ENGINE, True, details={"platform": t.kind})
    drv = make_driver(t, secrets, connect)
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


def _rollback(drv: Driver, t: Target, backup: str, res: HostResult, secrets: Secrets,
              trial: bool) -> None:
    """Back to the backup on a fresh session; record what happened."""
    res.details["rolled_back"] = False
    try:
        if trial and drv.alive():
            drv.cancel_commit()
            res.details["rollback_method"] = "abort trial"
        else:
            drv.close()
            drv.open()
            sent = drv.rollback(backup)
            res.details["rollback_method"] = f"pushed {len(sent)} line(s) back to the backup"
        now = drv.get_running()
        left = drv.differs(now, backup)
        if left:
            res.details["rollback_left"] = [secrets.redact(x) for x in left]
            res.error = (res.error or "") + "; ROLLBACK INCOMPLETE: the device differs " \
                f"from its backup by {len(left)} line(s)"
            return
        drv.save()
        res.details["rolled_back"] = True
        res.error = (res.error or "") + f"; rolled back to {res.details['backup']}"
    except (DriverError, SecretError, NotImplementedError) as exc:
        res.error = (res.error or "") + f"; ROLLBACK FAILED: {_err(exc, secrets)}"


def apply_device(t: Target, secrets: Secrets, connect: Connect | None = None,
                 driver_hook: Callable[[Driver], None] | None = None) -> HostResult:
    started = time.monotonic()
    res = HostResult(t.host, ENGINE, True, details={"platform": t.kind})
    drv = make_driver(t, secrets, connect)
    if driver_hook is not None:
        driver_hook(drv)
    try:
        try:
            drv.open()
            running = drv.get_running()
        except DriverError as exc:
            res.ok, res.error = False, _err(exc, secrets)
            return res
        backup_text = secrets.redact(running)
        res.details["backup"] = str(write_backup(t.center, t.name, backup_text, t.lab))
        try:
            lines = drv.plan(running, t.intended)
            missing = secrets.missing("\n".join(lines))
            if missing:
                raise SecretError(f"secret(s) not set: {', '.join(missing)} (environment "
                                  "PESDC_SECRET_<NAME> or --secrets FILE); nothing pushed")
        except (DriverError, SecretError) as exc:
            res.ok, res.error = False, _err(exc, secrets)
            return res
        res.details["remediation"] = [secrets.redact(ln) for ln in lines]
        if drv.last_diff:
            res.details["diff"] = secrets.redact(drv.last_diff)
        if not lines:
            return res
        log.info("%s: pushing %d line(s)", t.host, len(lines))
        trial = False
        try:
            drv.push(lines)
            if drv.supports_commit_confirm:
                drv.commit_confirm(COMMIT_TRIAL_SECONDS)
                trial = True
            after = drv.get_running()
            left = drv.plan(after, t.intended)
            if left:
                res.details["post_check_left"] = [secrets.redact(x) for x in left]
                raise DriverError(f"post-check: {len(left)} line(s) still differ after the "
                                  f"push (first: {secrets.redact(left[0])!r})")
            if trial:
                drv.confirm()
                trial = False
            drv.save()
        except (DriverError, SecretError) as exc:
            res.ok, res.error = False, _err(exc, secrets)
            log.warning("%s: %s; rolling back", t.host, res.error)
            _rollback(drv, t, backup_text, res, secrets, trial)
            return res
        res.changed = len(lines)
        res.changes = res.details["remediation"]
        res.details["post_check"] = "clean"
        return res
    finally:
        drv.close()
        res.seconds = round(time.monotonic() - started, 3)


def _lanes(targets: list[Target]) -> list[list[Target]]:
    """One lane per redundancy pair (members in name order) or single device."""
    lanes: dict[Any, list[Target]] = {}
    for t in sorted(targets, key=lambda x: x.name):
        key = t.pair if t.pair else (t.name,)
        lanes.setdefault(key, []).append(t)
    return list(lanes.values())


def run_targets(action: str, targets: list[Target], secrets: Secrets, workers: int = 4,
                connect: Connect | None = None,
                driver_hook: Callable[[Driver], None] | None = None) -> list[HostResult]:
    def lane(ts: list[Target]) -> list[HostResult]:
        out: list[HostResult] = []
        for t in ts:
            if action == "apply" and out and not out[-1].ok:
                out.append(HostResult(t.host, ENGINE, False, error=(
                    f"not pushed: its redundancy partner {out[-1].host} failed")))
                continue
            try:
                out.append(apply_device(t, secrets, connect, driver_hook) if action == "apply"
                           else plan_device(t, secrets, connect))
            except Exception as exc:  # a driver bug must not take the other devices down
                out.append(HostResult(t.host, ENGINE, False,
                                      error=f"internal error: {_err(exc, secrets)}"))
        return out

    lanes = _lanes(targets)
    results: list[HostResult] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for rs in pool.map(lane, lanes):
            results += rs
    return sorted(results, key=lambda r: r.host)


# -- library API --------------------------------------------------------------------
def _run(action: str, topo: Topology, dc_name: str, lab: str | None,
         limit: list[str] | None, workers: int, secrets: Secrets | None,
         connect: Connect | None = None) -> RunResult:
    secrets = secrets or Secrets.load()
    if lab is not None:
        from pesdc.lab.enter import inside

        if not inside(lab):
            return _run_in_lab(action, topo, dc_name, lab, limit, workers, secrets)
    targets, failed = build_targets(topo, dc_name, lab, limit, secrets)
    hosts = run_targets(action, targets, secrets, workers, connect) + failed
    return RunResult(action, ENGINE, sorted(hosts, key=lambda h: h.host))


def plan_network(topo: Topology, dc_name: str, lab: str | None = None,
                 limit: list[str] | None = None, secrets: Secrets | None = None,
                 workers: int = 4, connect: Connect | None = None) -> RunResult:
    """What apply would push to each network device of a center (read-only)."""
    return _run("plan", topo, dc_name, lab, limit, workers, secrets, connect)


def apply_network(topo: Topology, dc_name: str, lab: str | None = None,
                  limit: list[str] | None = None, workers: int = 4,
                  secrets: Secrets | Path | None = None,
                  connect: Connect | None = None) -> RunResult:
    """Push the remediation to each device; back up, post-check, roll back on failure."""
    if isinstance(secrets, Path):
        secrets = Secrets.load(secrets)
    return _run("apply", topo, dc_name, lab, limit, workers, secrets, connect)


def _run_in_lab(action: str, topo: Topology, dc_name: str, lab: str, limit: list[str] | None,
                workers: int, secrets: Secrets) -> RunResult:
    """Network safety: lab connections only from the lab's controller namespace. The
    run goes to a child there; secrets travel in its environment, never in a file."""
    from pesdc.lab.enter import run_inside
    from pesdc.lab.errors import LabError

    fd, name = tempfile.mkstemp(prefix="pesdc-netpush-", suffix=".pickle")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump({"action": action, "topo": topo, "dc": dc_name, "lab": lab,
                         "limit": limit, "workers": workers}, f)
        try:
            proc = run_inside(lab, [sys.executable, "-m", "pesdc.netpush.inlab", name],
                              stdout=subprocess.PIPE, env=secrets.as_env())
        except LabError as exc:
            raise NetpushError(str(exc)) from None
    finally:
        Path(name).unlink(missing_ok=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise NetpushError(f"the run inside lab {lab} failed (exit {proc.returncode})")
    import json

    data = json.loads(proc.stdout)
    if "error" in data:
        raise NetpushError(data["error"])
    return RunResult(data["action"], data["engine"],
                     [HostResult(**h) for h in data["hosts"]])
