"""``ansible-runner transmit | ansible-runner worker | ansible-runner process``, for real.

Three processes joined by pipes, as a controller carries a job to an execution node:
transmit streams the private data directory and the job's arguments, the worker (its
argv given by the caller: on this machine, or inside a center's bastion) runs the job
and streams back its status, its events and, at the end, its artifact directory as a
zip, and process writes them on the controller's side. Each end's exit code is checked;
a job the worker did not bring back to the end (no status, no rc) is an error, never a
pass. ``ansible-runner process`` exits 0 whatever the job did: the job's verdict is the
status and rc that came back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pesdc.credentials import ENV_PREFIX, VAULT_PASSWORD_ENV
from pesdc.mesh.job import JobError

ENDS = ("transmit", "worker", "process")


@dataclass(frozen=True)
class Carried:
    """A job carried to a worker and back: what the controller's side holds."""

    ident: str
    status: str  # ansible-runner's final status: successful, failed, error, ...
    rc: int
    artifact_dir: Path  # the process side's artifacts/IDENT
    exits: dict[str, int]  # each end's exit code
    stream: Path | None  # the worker's stream as it passed, when recorded

    @property
    def passed(self) -> bool:
        return self.status == "successful" and self.rc == 0


def runner_bin() -> str:
    """The ansible-runner of this interpreter's environment (the one pesdc runs in)."""
    beside = Path(sys.executable).parent / "ansible-runner"
    found = str(beside) if beside.is_file() else shutil.which("ansible-runner")
    if not found:
        raise JobError("ansible-runner is not installed: pip install 'ansible-runner>=2.4' "
                       "(pesdc depends on it)")
    return found


def runner_env() -> dict[str, str]:
    """The environment of the three ends: ansible-runner finds ansible-playbook on PATH,
    so this interpreter's bin directory comes first. The worker writes its whole
    environment into the job's ``command`` artifact and streams it back: pesdc's
    secrets (``PESDC_SECRET_*``, the vault password file) are left out; a job needing
    one gets it as AWX injects credentials, not from the controller's environment."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(ENV_PREFIX) and k != VAULT_PASSWORD_ENV}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def worker_argv(private_data_dir: Path) -> list[str]:
    """A worker on this machine, keeping its private data directory (for comparison)."""
    return [runner_bin(), "worker", "--private-data-dir", str(private_data_dir)]


def carry(private_data_dir: Path, playbook: str, *, ident: str, process_dir: Path,
          worker: list[str], record: Path | None = None,
          timeout: float = 3600) -> Carried:
    """Run the job of ``private_data_dir`` through transmit | worker | process; with
    ``record``, the worker's stream is also written there as it passes."""
    runner, env = runner_bin(), runner_env()
    logs = process_dir / "pipe"
    logs.mkdir(parents=True, exist_ok=True)
    err = {end: (logs / f"{end}.stderr").open("wb") for end in ENDS}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    copier: threading.Thread | None = None
    try:
        procs["transmit"] = subprocess.Popen(
            [runner, "transmit", str(private_data_dir), "-p", playbook, "--ident", ident],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err["transmit"], env=env,
            start_new_session=True)
        procs["worker"] = subprocess.Popen(
            worker, stdin=procs["transmit"].stdout, stdout=subprocess.PIPE,
            stderr=err["worker"], env=env, start_new_session=True)
        _close(procs["transmit"].stdout)  # the worker holds it now: EOF reaches it
        out = (logs / "process.stdout").open("wb")
        procs["process"] = subprocess.Popen(
            [runner, "process", str(process_dir), "--ident", ident],
            stdin=subprocess.PIPE if record else procs["worker"].stdout,
            stdout=out, stderr=err["process"], env=env, start_new_session=True)
        out.close()
        if record is not None:
            copier = threading.Thread(target=_tee, daemon=True, args=(
                procs["worker"].stdout, procs["process"].stdin, record))
            copier.start()
        else:
            _close(procs["worker"].stdout)
        exits = _wait(procs, timeout)
    finally:
        for p in procs.values():  # a failure above: none of ours is left running
            if p.poll() is None:  # each end leads a session of its own: its children too
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        for fh in err.values():
            fh.close()
    if copier is not None:
        copier.join(timeout=30)
    return _result(ident, process_dir, exits, logs, record)


def _close(fh: IO[bytes] | None) -> None:
    if fh is not None:
        fh.close()


def _tee(src: IO[bytes] | None, dst: IO[bytes] | None, record: Path) -> None:
    """Copy the worker's stream to process, and to ``record``, line by line."""
    assert src is not None and dst is not None
    with record.open("wb") as rec, contextlib.suppress(BrokenPipeError):
        for chunk in iter(lambda: src.read1(65536), b""):  # type: ignore[attr-defined]
            rec.write(chunk)
            dst.write(chunk)
            dst.flush()
    with contextlib.suppress(BrokenPipeError):
        dst.close()
    src.close()


def _wait(procs: dict[str, subprocess.Popen[bytes]], timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    exits: dict[str, int] = {}
    for end in ENDS:
        try:
            exits[end] = procs[end].wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise JobError(f"the job did not finish in {timeout:.0f} s ({end} still "
                           "running): its ends were stopped") from None
    return exits


def _tail(path: Path, n: int = 1500) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    return text.strip()[-n:] or "(nothing on stderr)"


def _result(ident: str, process_dir: Path, exits: dict[str, int], logs: Path,
            record: Path | None) -> Carried:
    for end in ("transmit", "process"):
        if exits[end] != 0:
            raise JobError(f"ansible-runner {end} exited {exits[end]}: "
                           f"{_tail(logs / f'{end}.stderr')}")
    if exits["worker"] < 0:
        raise JobError(f"the worker was killed by signal {-exits['worker']}: "
                       f"{_tail(logs / 'worker.stderr')}")
    art = process_dir / "artifacts" / ident
    status_f, rc_f = art / "status", art / "rc"
    if not status_f.is_file() or not rc_f.is_file():
        raise JobError(f"the worker's results did not come back (no status or rc in {art}); "
                       f"worker exited {exits['worker']}: {_tail(logs / 'worker.stderr')} "
                       f"{_tail(process_dir / 'daemon.log')}")
    status = status_f.read_text().strip()
    try:
        rc = int(rc_f.read_text().strip())
    except ValueError:
        raise JobError(f"{rc_f}: not an exit code: {rc_f.read_text()[:80]!r}") from None
    if exits["worker"] != rc:
        raise JobError(f"the worker exited {exits['worker']} but its job reports rc={rc} "
                       f"({status}): {_tail(logs / 'worker.stderr')}")
    return Carried(ident, status, rc, art, exits, record)
