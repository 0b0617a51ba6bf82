"""The Ansible engine: the same desired state as the pyinfra engine (the HostSpecs it
builds), applied by the Ansible roles (cli/pesdc/roles/) through host_vars exported from
those HostSpecs and ansible-playbook.

plan = ``ansible-playbook --check --diff``; apply = ``ansible-playbook``. For a lab the
playbook runs inside the lab's controller namespace (its routes lead only into the lab),
and the exported ansible.cfg reaches every host with the lab's key and known_hosts,
host keys checked. Per-host results come from the pesdc_json callback (ansible-core
ships no JSON callback): changed tasks, failures, unreachable hosts. A failing or
unreachable host fails alone; the others finish.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pesdc.model.schema import Tier
from pesdc.model.tree import Topology
from pesdc.progress import Progress, host_label, or_none
from pesdc.provision.ansible_export import SECRET_ENV, export_ansible
from pesdc.provision.engine import deploy_pubkeys
from pesdc.provision.spec import HostSpec
from pesdc.results import HostResult, RunResult

ENGINE = "ansible"


def ansible_playbook() -> str:
    local = Path(sys.executable).parent / "ansible-playbook"
    if local.is_file():
        return str(local)
    found = shutil.which("ansible-playbook")
    if not found:
        raise FileNotFoundError("ansible-playbook not found (pip install ansible-core)")
    return found


def export_dir(dc_name: str, lab: str | None) -> Path:
    from pesdc.lab.paths import state_dir
    return state_dir() / "ansible" / (f"lab-{lab}" if lab else dc_name)


def _load(paths: list[Path] | list[str]) -> Topology:
    from pesdc.model import validate
    res = validate([str(p) for p in paths])
    if not res.report.ok:
        raise ValueError("the topology does not validate: run `pesdc validate`")
    return res.topology


def host_specs(topo: Topology, dc_name: str, lab: str | None,
               limit: list[str] | None = None) -> list[HostSpec]:
    """The HostSpecs of the servers --limit picks, built as the pyinfra engine builds
    them (the same selection, deploy keys and backup key): both engines apply one
    desired state."""
    from pesdc.provision.engine import build_specs, select
    from pesdc.provision.secrets import backup_keypair

    names = select(topo, dc_name, limit)
    if not names:
        raise ValueError(f"--limit {' '.join(limit or [])} matches no server of {dc_name}")
    return build_specs(topo, dc_name, names, lab is not None, deploy_pubkeys(lab),
                       backup_keypair(dc_name)[1])


def _secrets_env(dc_name: str) -> dict[str, str]:
    """Secrets for the roles' environment lookups (never written to the export)."""
    env = {v: os.environ[v] for v in SECRET_ENV.values() if os.environ.get(v)}
    if len(env) == len(SECRET_ENV):
        return env
    from pesdc.provision.secrets import provisioning_secrets
    found = provisioning_secrets(dc_name)
    for key, var in SECRET_ENV.items():
        env.setdefault(var, found.get(key, ""))
    return env


def parse_results(data: dict[str, Any], hosts: list[str], started: float) -> list[HostResult]:
    """HostResults from the pesdc_json callback's file, in the order of ``hosts``."""
    out = []
    per = data.get("hosts", {})
    for h in hosts:
        r = per.get(h)
        res = HostResult(h, ENGINE, ok=True, seconds=round(time.monotonic() - started, 2))
        if r is None:
            res.ok = False
            res.error = "not reached by the playbook"
        else:
            res.changed = int(r.get("changed", 0))
            res.changes = list(r.get("changes", []))
            res.ok = not r.get("failed")
            res.error = r.get("error") if not res.ok else None
            if r.get("unreachable"):
                res.details["unreachable"] = True
            if r.get("diffs"):
                res.details["diffs"] = r["diffs"]
        out.append(res)
    return out


class EventFollower:
    """Follows the events file the pesdc_json callback appends to while the play runs
    (a thread of its own), telling ``progress`` each task's start and end per host."""

    def __init__(self, path: Path, progress: Progress, poll: float = 0.2) -> None:
        self.path, self.progress, self.poll = path, progress, poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="pesdc-ansible-events",
                                        daemon=True)
        self.events = 0

    def __enter__(self) -> EventFollower:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # read to the end of what was written, then stop
        self._thread.join(timeout=10)

    def _follow(self) -> None:
        while not self.path.exists():
            if self._stop.wait(self.poll) and not self.path.exists():
                return
        with self.path.open(encoding="utf-8", errors="replace") as fh:
            pending = ""
            while True:
                chunk = fh.readline()
                if chunk:
                    pending += chunk
                    if pending.endswith("\n"):
                        self.handle(pending)
                        pending = ""
                    continue
                if self._stop.is_set():
                    return
                time.sleep(self.poll)

    def handle(self, line: str) -> None:
        """One event line (a line that does not parse is passed over)."""
        try:
            ev = json.loads(line)
        except ValueError:
            return
        kind = ev.get("ev")
        if kind not in ("start", "ok", "changed", "failed", "unreachable", "skipped"):
            return
        self.events += 1
        host, task = host_label(str(ev.get("host", "?"))), str(ev.get("task", ""))
        what = f"task {ev.get('n', 0)} {task}"
        if kind == "start":
            self.progress.begin(host, what, task)
            return
        status = kind + (f": {ev['error']}" if ev.get("error") else "")
        self.progress.step(host, what, status, task)


def run(action: str, topo: Topology, dc_name: str, specs: list[HostSpec], lab: str | None,
        target: Any = None, out: Path | None = None, extra_args: list[str] | None = None,
        progress: Progress | None = None) -> RunResult:
    """PLAN or APPLY the HostSpecs (built by :func:`host_specs`, as for the pyinfra
    engine) with the roles: exported as host_vars, then ansible-playbook. A live
    ``target`` (pesdc.targets): through its bastion, from this machine; a host whose
    key is not the pinned one is failed before the playbook starts."""
    live = target is not None and target.live
    refused: dict[str, str] = {}
    if live:
        by_name = {s.host.split(".")[0]: s.host for s in specs}
        bad = target.check_keys(target.endpoints[n] for n in by_name if n in target.endpoints)
        refused = {by_name[n]: why for n, why in bad.items()}
        specs = [s for s in specs if s.host not in refused]
    failed = [HostResult(h, ENGINE, ok=False, error=why) for h, why in refused.items()]
    if not specs:
        return RunResult(action, ENGINE, failed)
    hosts = [s.host for s in specs]
    out = out or export_dir(dc_name, lab)
    # The folder is the engine's working directory (its logs and results live there
    # too): pesdc's own, also when an older version left it without a MANIFEST.
    export_ansible(topo, [topo.datacenters[dc_name]], out, lab, force=True, specs=specs,
                   ssh_config=target.ssh_config if live else None)
    results = out / f"results-{action}.json"
    events = out / f"events-{action}.jsonl"
    log = out / f"{action}.log"
    results.unlink(missing_ok=True)
    events.unlink(missing_ok=True)
    argv = [ansible_playbook(), "site.yml", "--limit", ",".join(hosts)]
    if action == "plan":
        argv += ["--check", "--diff"]
    argv += list(extra_args or [])
    env = {"ANSIBLE_CONFIG": str(out / "ansible.cfg"),
           "ANSIBLE_CALLBACKS_ENABLED": "pesdc_json",
           "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_HOST_KEY_CHECKING": "True",
           "PESDC_ANSIBLE_RESULTS": str(results),
           "PESDC_ANSIBLE_EVENTS": str(events),
           **_secrets_env(dc_name)}
    started = time.monotonic()
    say = or_none(progress)
    say.start(None, f"ansible-playbook site.yml ({action}) on {len(hosts)} hosts")
    with log.open("w") as fh, EventFollower(events, say):
        if lab and not live:
            from pesdc.lab.enter import inside, run_inside
            if inside(lab):
                proc = subprocess.run(argv, cwd=out, env={**os.environ, **env}, stdout=fh,
                                      stderr=subprocess.STDOUT, text=True, check=False)
            else:
                proc = run_inside(lab, argv, cwd=out, env=env, stdout=fh,
                                  stderr=subprocess.STDOUT)
        else:
            proc = subprocess.run(argv, cwd=out, env={**os.environ, **env}, stdout=fh,
                                  stderr=subprocess.STDOUT, text=True, check=False)
    elapsed = time.monotonic() - started
    if results.is_file():
        host_results = parse_results(json.loads(results.read_text()), hosts, started)
    else:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        host_results = [HostResult(h, ENGINE, ok=False, seconds=round(elapsed, 2),
                                   error=f"ansible-playbook exited {proc.returncode}: "
                                         + " | ".join(tail))
                        for h in hosts]
    for r in host_results:
        r.details.setdefault("log", str(log))
        r.details["playbook_seconds"] = round(elapsed, 2)
    if proc.returncode not in (0, 2, 4) and all(r.ok for r in host_results):
        for r in host_results:
            r.ok = False
            r.error = f"ansible-playbook exited {proc.returncode} (see {log})"
    return RunResult(action, ENGINE, failed + host_results)


def _args(topo: Topology | None, dc_name: str | None, paths: Any, dc: str | None
          ) -> tuple[Topology, str]:
    if topo is None:
        if not paths:
            raise ValueError("give a topology or its paths")
        topo = _load([str(p) for p in paths])
    return topo, topo.pick_center(dc_name or dc, Tier.city).name


def plan(topo: Topology | None = None, dc_name: str | None = None, lab: str | None = None,
         limit: list[str] | None = None, *, paths: Any = None, dc: str | None = None,
         out: Path | None = None) -> RunResult:
    """What an apply would change, per host (ansible-playbook --check --diff)."""
    t, name = _args(topo, dc_name, paths, dc)
    return run("plan", t, name, host_specs(t, name, lab, limit), lab, out)


def apply(topo: Topology | None = None, dc_name: str | None = None, lab: str | None = None,
          limit: list[str] | None = None, *, paths: Any = None, dc: str | None = None,
          out: Path | None = None) -> RunResult:
    """Apply the roles (ansible-playbook), per-host results; nothing raised per host."""
    t, name = _args(topo, dc_name, paths, dc)
    return run("apply", t, name, host_specs(t, name, lab, limit), lab, out)
