"""The pyinfra engine: plan (nothing executed) and apply (parallel over hosts).

Runs pyinfra through its Python API (Inventory, State, connect_all, add_deploy,
run_ops). Hosts are reached by address with strict host key checking; in a lab this
whole module runs inside the lab's controller namespace (the CLI re-execs there).
The deploy account ``pesdc`` (sudo) is used once it exists; a fresh host is reached as
root the first time (the deploy then forbids root logins). A host that cannot be
reached or whose operation fails fails alone; the others finish.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pesdc.i18n import N_
from pesdc.localized import LocalizedText as T
from pesdc.model.tree import Topology
from pesdc.progress import Progress, host_label, or_none
from pesdc.provision.desired import DEPLOY_USER, desired_state
from pesdc.provision.spec import HostSpec
from pesdc.render.context import CenterFacts
from pesdc.results import HostResult, RunResult

ENGINE = "pyinfra"


@dataclass(frozen=True)
class Access:
    """How to reach the hosts: a lab's identity and known_hosts, or a live center's
    (through its bastion: ``target``, a :class:`pesdc.targets.target.Target`)."""

    identity: Path | None
    known_hosts: Path
    lab: str | None = None
    target: Any = None  # the Target: ssh_config, accounts, the bastion's socket

    def users(self) -> tuple[str, ...]:
        return tuple(self.target.server_users()) if self.target is not None \
            else (DEPLOY_USER, "root")

    def sock(self, address: str) -> Any:
        return self.target.sock(address) if self.target is not None else None

    @property
    def ssh_config(self) -> Path | None:
        return self.target.ssh_config if self.target is not None else None

    def key_problems(self, specs: list[HostSpec]) -> dict[str, str]:
        """Host -> why its key stops it (a live center's keys, read through the bastion
        before anything logs in); {} in a lab, whose keys every client checks."""
        if self.target is None:
            return {}
        names = {s.host.split(".")[0]: s.host for s in specs}
        bad = self.target.check_keys(self.target.endpoints[n] for n in names
                                     if n in self.target.endpoints)
        return {names[n]: why for n, why in bad.items()}


CONNECT = T(N_("connect"))  # the progress step of a host's login


def select(topo: Topology, dc_name: str, limit: list[str] | None) -> list[str]:
    dc = topo.datacenters[dc_name]
    if not limit:
        return [s.name for s in dc.servers]
    want = set(limit)
    out = []
    for s in dc.servers:
        keys = {s.name, f"{s.name}.{dc.name}", s.zone, *(r.value for r in s.roles)}
        if s.group:
            keys.add(s.group)
        if keys & want:
            out.append(s.name)
    return out


def build_specs(topo: Topology, dc_name: str, names: list[str], lab: bool,
                deploy_pubkeys: list[str], backup_pubkey: str | None) -> list[HostSpec]:
    facts = CenterFacts.of(topo, topo.datacenters[dc_name])
    return [desired_state(topo, dc_name, n, lab, deploy_pubkeys, backup_pubkey, facts=facts)
            for n in names]


def _probe(address: str, access: Access, timeout: float = 5.0) -> tuple[str | None, str]:
    """The account to log in as (pesdc, then root), or None and why not."""
    import paramiko

    last = "unreachable"
    users = access.users()
    for user in users:
        client = paramiko.SSHClient()
        client.load_host_keys(str(access.known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            kw: dict[str, Any] = {"username": user, "timeout": timeout,
                                  "banner_timeout": timeout, "auth_timeout": timeout,
                                  "allow_agent": access.identity is None,
                                  "look_for_keys": access.identity is None}
            if access.identity is not None:
                kw["key_filename"] = str(access.identity)
            sock = access.sock(address)
            if sock is not None:
                kw["sock"] = sock  # through the bastion
            client.connect(address, **kw)
            return user, ""
        except paramiko.AuthenticationException:
            last = f"authentication failed (no account of {', '.join(users)} accepted the key)"
            continue
        except paramiko.SSHException as exc:
            return None, f"ssh: {exc}"
        except (TimeoutError, OSError) as exc:
            return None, f"unreachable: {exc}"
        finally:
            client.close()
    return None, last


def _host_data(spec: HostSpec, user: str, access: Access, secrets: dict[str, str],
               plan: bool, record: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ssh_hostname": spec.address,
        "ssh_user": user,
        "ssh_known_hosts_file": str(access.known_hosts),
        "ssh_strict_host_key_checking": "yes",
        "ssh_connect_timeout": 5,
        "pesdc_spec": spec,
        "pesdc_secrets": secrets,
        "pesdc_plan": plan,
        "pesdc_run": record,  # deploys.RunRecord: the run's operation names and file changes
    }
    if access.identity is not None:
        data["ssh_key"] = str(access.identity)
    if access.ssh_config is not None:
        data["ssh_config_file"] = str(access.ssh_config)  # ProxyCommand: the bastion
    if user != "root":
        data["_sudo"] = True
    return data


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PREFIX = re.compile(r"^\[([^\]]+)\]\s*")


class HostErrorLog(logging.Handler):
    """pyinfra's error log lines, kept per host: the cause of a command that could not
    run at all (``Command socket/SSH error: ...`` when a host's connection is cut)."""

    GENERIC = re.compile(r"^Error: executed \d+ commands?$")

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: dict[str, list[str]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = _ANSI.sub("", record.getMessage()).strip()
        except Exception:
            return
        m = _PREFIX.match(text)
        if m and text[m.end():]:
            self.lines.setdefault(m.group(1).strip(), []).append(
                text[m.end():].splitlines()[0][:300])

    def cause(self, host: str) -> str:
        """The most telling line logged for the host ("" when none): a lost connection
        or a timeout first, else the last line that is more than a count of commands."""
        lines = [ln for ln in self.lines.get(host, []) if not self.GENERIC.match(ln)]
        for ln in reversed(lines):
            if "socket/SSH error" in ln:
                return f"the SSH connection to the host was lost ({ln})"
            if "timed out" in ln:
                return ln
        return lines[-1] if lines else ""


def describe_exception(exc: BaseException) -> str:
    """An exception as a cause a person can act on (EOFError says nothing by itself)."""
    text = str(exc).strip()
    if isinstance(exc, EOFError | ConnectionError | BrokenPipeError) or \
            type(exc).__name__ in ("SSHException", "NoValidConnectionsError"):
        lost = "the SSH connection to the host was lost"
        return f"{lost} ({type(exc).__name__}{': ' + text if text else ''})"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextlib.contextmanager
def hosts_fail_alone(aborted: dict[str, tuple[str, BaseException]]) -> Iterator[None]:
    """While pyinfra runs operations, an exception on one host (its connection cut in
    the middle of an upload raises EOFError, which pyinfra does not catch) fails that
    host alone, recorded in ``aborted`` (host -> op hash, exception), instead of
    aborting the run of every host. pyinfra calls ``run_host_op`` by its module-level
    name for each host and operation; it is wrapped for the run and restored after."""
    from pyinfra.api import operations

    original = getattr(operations, "run_host_op", None)
    if original is None:  # another pyinfra layout: a cut host aborts the run (reported)
        yield
        return

    def guarded(state: Any, host: Any, op_hash: str) -> bool:
        try:
            return bool(original(state, host, op_hash))
        except Exception as exc:
            aborted.setdefault(host.name, (op_hash, exc))
            return False

    operations.run_host_op = guarded
    try:
        yield
    finally:
        operations.run_host_op = original


def run(action: str, specs: list[HostSpec], access: Access, secrets: dict[str, str],
        progress: Progress | None = None) -> RunResult:
    """PLAN or APPLY; an apply ends with a second phase on backup hosts (first backups,
    once every database of the first phase exists). ``progress`` hears of every
    operation on every host as it starts and as it ends."""
    result = _run_phase(action, specs, access, secrets, progress, "deploy_host")
    backups = [s for s in specs if s.backup and secrets.get("backup_private_key")]
    ok_hosts = {h.host for h in result.hosts if h.ok}
    backups = [s for s in backups if s.host in ok_hosts]
    if action == "apply" and backups:
        second = _run_phase(action, backups, access, secrets, progress, "deploy_first_backup")
        by_host = {h.host: h for h in second.hosts}
        for h in result.hosts:
            extra = by_host.get(h.host)
            if extra is None:
                continue
            h.changes += extra.changes
            h.changed += extra.changed
            if not extra.ok:
                h.ok, h.error = False, extra.error
    return result


def _quiet_pyinfra_log() -> HostErrorLog:
    """pyinfra prints nothing; its error lines are kept per host, as causes."""
    host_log = HostErrorLog()
    pyinfra_log = logging.getLogger("pyinfra")
    pyinfra_log.setLevel(logging.ERROR)
    pyinfra_log.propagate = False
    for old in [h for h in pyinfra_log.handlers if isinstance(h, HostErrorLog)]:
        pyinfra_log.removeHandler(old)
    pyinfra_log.addHandler(host_log)
    return host_log


def _probe_all(specs: list[HostSpec], access: Access, results: dict[str, HostResult]
               ) -> list[tuple[HostSpec, str]]:
    """The hosts that can be logged in to, with the account; the others fail here
    (a live host whose key is not the pinned one is not even logged in to)."""
    refused = access.key_problems(specs)
    for s in specs:
        if s.host in refused:
            results[s.host].ok = False
            results[s.host].error = refused[s.host]
    specs = [s for s in specs if s.host not in refused]
    with ThreadPoolExecutor(max_workers=min(32, max(1, len(specs)))) as pool:
        probes = list(pool.map(lambda s: _probe(s.address, access), specs))
    reachable = []
    for s, (user, why) in zip(specs, probes, strict=True):
        if user is None:
            results[s.host].ok = False
            results[s.host].error = why
        else:
            results[s.host].details["user"] = user
            reachable.append((s, user))
    return reachable


@dataclass
class _Tracker:
    """What the run's callbacks record: per host, the first error, operations done and
    how long each took; each operation's start and end told to ``progress``."""

    record: Any  # deploys.RunRecord
    host_log: HostErrorLog
    progress: Progress = field(default_factory=lambda: or_none(None))
    errors: dict[str, str] = field(default_factory=dict)
    op_started: dict[tuple[str, str], float] = field(default_factory=dict)
    op_seconds: dict[str, dict[str, float]] = field(default_factory=dict)
    op_index: dict[str, list[str]] = field(default_factory=dict)  # host -> its op hashes

    def op_name(self, host_name: str, op_hash: str) -> str:
        return self.record.op_name(host_name, op_hash) or op_hash

    def _what(self, state: Any, host: Any, op_hash: str) -> tuple[str, str]:
        """``operation 3/17 NAME`` of the host's own operations, and NAME (what the
        operation is called on every host)."""
        order = self.op_index.get(host.name)
        if order is None:
            order = [h for h in state.get_op_order() if h in state.ops[host]]
            self.op_index[host.name] = order
        name = self.record.op_name(host.name, op_hash) or ", ".join(
            sorted(state.get_op_meta(op_hash).names)) or op_hash
        k = order.index(op_hash) + 1 if op_hash in order else 0
        return T(N_("operation {k}/{n} {name}"), k=k, n=len(order), name=name), name

    def started(self, state: Any, host: Any, op_hash: str) -> None:
        self.op_started[(host.name, op_hash)] = time.monotonic()
        what, group = self._what(state, host, op_hash)
        self.progress.begin(host_label(host.name), what, group)

    def succeeded(self, state: Any, host: Any, op_hash: str) -> None:
        t0 = self.op_started.pop((host.name, op_hash), None)
        if t0 is not None:
            self.op_seconds.setdefault(host.name, {})[self.op_name(host.name, op_hash)] = \
                time.monotonic() - t0
        what, group = self._what(state, host, op_hash)
        data = state.ops[host].get(op_hash)
        changed = False
        try:
            changed = bool(data.operation_meta.did_change())
        except Exception:
            changed = False
        self.progress.step(host_label(host.name), what, "changed" if changed else "ok",
                           group)

    def failed(self, state: Any, host: Any, op_hash: str) -> None:
        data = state.ops[host].get(op_hash)
        detail = ""
        if data is not None:
            try:
                detail = data.operation_meta.stderr.strip().splitlines()[-1]
            except Exception:
                detail = ""
        # No output (a command that could not run at all): what pyinfra logged.
        detail = detail or self.host_log.cause(host.name)
        self.errors.setdefault(host.name, f"{self.op_name(host.name, op_hash)} failed"
                               + (f": {detail}" if detail else ""))
        what, group = self._what(state, host, op_hash)
        self.progress.step(host_label(host.name), what,
                           "failed" + (f": {detail[:200]}" if detail else ""), group)


def _callback(tracker: _Tracker) -> Any:
    """pyinfra's state callback, reporting to the tracker."""
    from pyinfra.api import BaseStateCallback

    class Callback(BaseStateCallback):
        @staticmethod
        def operation_host_start(state: Any, host: Any, op_hash: Any) -> None:
            tracker.started(state, host, op_hash)

        @staticmethod
        def host_connect_error(state: Any, host: Any, error: Any) -> None:
            tracker.errors.setdefault(host.name, f"connect: {error}")
            tracker.progress.step(host_label(host.name), CONNECT, f"failed: {error}")

        @staticmethod
        def operation_host_success(state: Any, host: Any, op_hash: Any,
                                   retry_count: int = 0) -> None:
            tracker.succeeded(state, host, op_hash)

        @staticmethod
        def operation_host_error(state: Any, host: Any, op_hash: Any,
                                 retry_count: int = 0, max_retries: int = 0) -> None:
            tracker.failed(state, host, op_hash)

    return Callback()


def _execute(state: Any, plan: bool, deploy_name: str, tracker: _Tracker) -> None:
    """Connect, add the deploy's operations and (for an apply) run them; a run that
    could not go on is an error of every host it left, never "ok, nothing to do"."""
    from pyinfra.api.connect import connect_all, disconnect_all
    from pyinfra.api.deploy import add_deploy
    from pyinfra.api.exceptions import PyinfraError
    from pyinfra.api.operations import run_ops
    from pyinfra.api.state import StateStage

    from pesdc.provision import deploys

    aborted: dict[str, tuple[str, BaseException]] = {}
    try:
        state.set_stage(StateStage.Connect)
        connect_all(state)
        state.set_stage(StateStage.Prepare)
        tracker.progress.note(T(N_("{deploy}: computing the operations of {count} hosts"),
                                deploy=deploy_name,
                                count=len(state.inventory.get_active_hosts())))
        add_deploy(state, getattr(deploys, deploy_name))
        total = sum(len(state.ops[h]) for h in state.inventory.get_active_hosts())
        if not plan:
            tracker.progress.start(total, T(N_("{deploy}: {total} operations on {count} "
                                               "hosts"), deploy=deploy_name, total=total,
                                            count=len(state.inventory.get_active_hosts())))
        if not plan:
            state.set_stage(StateStage.Execute)
            with hosts_fail_alone(aborted):
                run_ops(state)
    except (PyinfraError, Exception) as exc:
        for h in state.inventory:
            if h not in state.failed_hosts and h.name not in tracker.errors:
                tracker.errors.setdefault(h.name, f"run aborted: {describe_exception(exc)}")
    finally:
        try:
            state.set_stage(StateStage.Disconnect)
            disconnect_all(state)
        except Exception:
            pass
    for name, (op_hash, cut) in aborted.items():
        # The host's own cause replaces the generic "failed" of the error callback.
        tracker.errors[name] = f"{tracker.op_name(name, op_hash)} interrupted: " \
                               f"{describe_exception(cut)}"


def _changes(state: Any, h: Any, plan: bool, tracker: _Tracker) -> list[str]:
    """The host's operations that changed (would change, in a plan) something; the
    failing command's words added to a bare error (the error callback fires too early)."""
    errors = tracker.errors
    changes: list[str] = []
    for op_hash in state.get_op_order():
        data = state.ops[h].get(op_hash)
        if data is None:
            continue
        meta = data.operation_meta
        name = tracker.record.op_name(h.name, op_hash) or ", ".join(
            sorted(state.get_op_meta(op_hash).names))
        if plan:
            if meta._maybe_is_change:
                changes.append(name)
        elif meta.is_complete() and meta.did_change():
            changes.append(name)
        if not plan and meta.is_complete() and not meta.did_succeed() and \
                h.name in errors and ":" not in errors[h.name]:
            tail = [ln for ln in (meta.stderr + "\n" + meta.stdout).splitlines()
                    if ln.strip()][-2:]
            if tail:
                errors[h.name] += ": " + " / ".join(tail)[:300]
    return changes


def _host_result(state: Any, h: Any, plan: bool, tracker: _Tracker, r: HostResult,
                 started: float) -> None:
    """Fill one host's result from the run's state."""
    changes = _changes(state, h, plan, tracker)
    files_changed = tracker.record.file_changes.get(h.name, [])
    # A batch of files is one operation: name each file that changed in it too.
    if changes:
        changes += [c for c in files_changed if c not in changes]
    r.changes = changes
    r.changed = len([c for c in changes if c not in files_changed])
    if h in state.failed_hosts or h.name in tracker.errors:
        r.ok = False
        r.error = tracker.errors.get(h.name) or "failed"
    r.details["ops"] = len(state.ops[h])
    slow = sorted(tracker.op_seconds.get(h.name, {}).items(), key=lambda kv: -kv[1])[:5]
    r.details["slowest_ops"] = {k: round(v, 2) for k, v in slow}
    r.seconds = time.monotonic() - started
    spec = h.data.pesdc_spec
    if spec.not_applicable:
        r.details["not_applicable"] = dict(spec.not_applicable)


def _run_phase(action: str, specs: list[HostSpec], access: Access, secrets: dict[str, str],
               progress: Any, deploy_name: str) -> RunResult:
    """PLAN (operations computed against the hosts' facts, nothing executed) or APPLY."""
    os.environ.setdefault("PYINFRA_PROGRESS", "off")
    from pyinfra.api import Config, Inventory, State

    from pesdc.provision.deploys import RunRecord

    plan = action == "plan"
    started = time.monotonic()
    results = {s.host: HostResult(s.host, ENGINE, ok=True) for s in specs}
    say = or_none(progress)
    say.note(T(N_("{deploy}: connecting to {count} hosts"), deploy=deploy_name,
               count=len(specs)))
    reachable = _probe_all(specs, access, results)
    for s in specs:
        if not results[s.host].ok:
            say.step(host_label(s.host), CONNECT, f"failed: {results[s.host].error}")
    say.note(f"{deploy_name}: {len(reachable)}/{len(specs)} hosts reachable")
    if not reachable:
        return RunResult(action, ENGINE, list(results.values()))
    record = RunRecord()
    tracker = _Tracker(record, _quiet_pyinfra_log(), say)
    inventory = Inventory(([(s.host, _host_data(s, user, access, secrets, plan, record))
                            for s, user in reachable], {}))
    state = State(check_for_changes=plan)
    state.init(inventory, Config(FAIL_PERCENT=None, CONNECT_TIMEOUT=5))
    state.add_callback_handler(_callback(tracker))
    _execute(state, plan, deploy_name, tracker)
    for h in state.inventory:
        _host_result(state, h, plan, tracker, results[h.name], started)
    return RunResult(action, ENGINE, [results[s.host] for s in specs])


def deploy_pubkeys(lab: str | None) -> list[str]:
    """Public keys for the deploy account: the lab's key, else the operator's."""
    if lab:
        from pesdc.lab.enter import access
        return [access(lab).identity.with_suffix(".pub").read_text().strip()]
    env = os.environ.get("PESDC_DEPLOY_PUBKEY")
    if env:
        return [env.strip()]
    for name in ("id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"):
        p = Path.home() / ".ssh" / name
        if p.is_file():
            return [p.read_text().strip()]
    raise ValueError("no public key for the deploy account: set PESDC_DEPLOY_PUBKEY")
