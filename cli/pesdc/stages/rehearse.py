"""Rehearse a stage move in the lab, step by step, with a rollback that loses nothing.

1. the current topology up in the lab and applied; the moving databases seeded (a table
   of a few thousand rows when there is none) and their row counts/checksums recorded;
2. prepare: an intermediate topology with the flows opened first and a staging host for
   every moving server (``NAME-new``, at its target address in the production zone):
   ``lab up`` converges the firewalls, ``apply`` provisions the staging hosts;
3. migrate: the room database frozen (read-only), dumped on the room host (pg_dump -Fc),
   restored on the staging primary, row counts and checksums compared;
4. cut-over: the staging host takes the server's name (the lab's node identity moves to
   the new disk, the room host's disk is kept for the rollback), ``lab up`` with the
   target topology switches the firewall flows and removes the emptied room, ``apply``
   gives the moved hosts their final configuration (the standby re-streams from the new
   primary); counts/checksums compared again;
5. the end: ``pesdc verify`` (everything) and ``pesdc audit --static`` when available.

Each step is verified before the next (targeted checks, ``pesdc verify --only``). On a
failure the rollback puts the previous stage back: the room host's disk and identity,
the previous topology in the lab (firewalls converge back), the room database
read-write; then it proves the room data equal to what was recorded before the move.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pesdc.lab.errors import LabError
from pesdc.lab.paths import state_dir
from pesdc.lab.plan import build_plan
from pesdc.lab.runtime import Lab
from pesdc.model import validate
from pesdc.model.schema import DataCenter, Server
from pesdc.model.tree import Topology
from pesdc.progress import Progress, or_none
from pesdc.stages.target import DATACENTER, StagePlan, derive, dump_center, write_target_tree

SEED_TABLE = "pesdc_rehearsal"
SEED_ROWS = 5000
STAGING_SUFFIX = "-new"
INJECTIONS = ("restore-target-stopped", "checksum-corrupted")
Log = Callable[[str], None]


class StepFailed(Exception):
    pass


@dataclass
class StepResult:
    step: str
    ok: bool
    seconds: float
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class Rehearsal:
    dc: str
    lab: str
    from_stage: int | None
    to_stage: int
    workdir: str
    steps: list[StepResult] = field(default_factory=list)
    data: dict[str, dict[str, Any]] = field(default_factory=dict)  # db -> counts
    ok: bool = False
    rolled_back: bool = False
    rollback_ok: bool | None = None
    failure: str = ""
    audit: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in vars(self).items() if k != "steps"}
        d["steps"] = [s.as_dict() for s in self.steps]
        return d


def _pesdc(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PESDC_INSIDE_LAB"}
    return subprocess.run([sys.executable, "-m", "pesdc", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def _must(res: subprocess.CompletedProcess[str], what: str) -> str:
    if res.returncode != 0:
        tail = (res.stdout[-1500:] + "\n" + res.stderr[-1500:]).strip()
        raise StepFailed(f"{what} failed (rc {res.returncode}):\n{tail}")
    return res.stdout


class Runner:
    def __init__(self, topo: Topology, path: list[str], dc: str, lab: str, plan: StagePlan,
                 workdir: Path, log: Log, inject: str | None = None,
                 progress: Progress | None = None):
        self.progress = or_none(progress)
        self.topo, self.path, self.dc_name, self.lab = topo, path, dc, lab
        self.plan, self.workdir, self.log, self.inject = plan, workdir, log, inject
        self.dc: DataCenter = topo.datacenters[dc]
        self.res = Rehearsal(dc, lab, plan.from_stage, plan.to_stage, str(workdir))
        self.staging_tree = workdir / "staging"
        self.target_tree = workdir / "target"
        self.keep = workdir / "rollback"  # the room hosts' disks during the cut-over
        self.switched: list[str] = []
        self.frozen: list[str] = []
        self.touched: list[str] = []  # applied with the target at the cut-over

    # -- helpers ---------------------------------------------------------------------
    def step(self, name: str, fn: Callable[[], str]) -> None:
        """Run one step, timed and journaled; its start and end told to the progress."""
        self.progress.begin(f"{self.dc_name}/rehearse", name)
        t0 = time.monotonic()
        try:
            detail = fn()
        except (StepFailed, LabError, OSError, subprocess.SubprocessError) as exc:
            text = str(exc) or type(exc).__name__
            self.res.steps.append(StepResult(name, False, round(time.monotonic() - t0, 1),
                                             text[:3000]))
            self._journal(self.res.steps[-1])
            self.progress.step(f"{self.dc_name}/rehearse", name,
                               f"failed: {text.splitlines()[0][:200] if text else ''}")
            raise StepFailed(text) from exc
        self.res.steps.append(StepResult(name, True, round(time.monotonic() - t0, 1),
                                         detail))
        self._journal(self.res.steps[-1])
        self.progress.step(f"{self.dc_name}/rehearse", name,
                           f"ok: {round(time.monotonic() - t0, 1)} s")

    def _journal(self, r: StepResult) -> None:
        """Each step in the change journal (``stage step``, marked with the lab), sent
        to the lab's log server; a journal that cannot take it is said, not fatal."""
        from pesdc.durable import StateWriteError
        from pesdc.journal import record_step

        stage = f"stage {self.plan.from_stage} -> {self.plan.to_stage} rehearsal"
        try:
            done = record_step(self.dc_name, self.lab, r.step, r.ok, r.seconds, r.detail,
                               dc=self.dc, stage=stage)
        except StateWriteError as exc:
            self.log(f"journal: the step {r.step!r} was not journaled: {exc}")
            return
        for err in done.send_errors:
            self.log(f"journal: {err}")

    def sh(self, node: str, script: str, stdin: bytes | None = None,
           check: bool = True) -> str:
        argv = Lab(self.lab).exec_argv(node, ["sh", "-c", script])
        res = subprocess.run(argv, input=stdin, capture_output=True, timeout=600)
        if check and res.returncode != 0:
            raise StepFailed(f"on {node}: {script[:200]}: rc {res.returncode}: "
                             f"{res.stderr.decode(errors='replace')[-1500:]}")
        return res.stdout.decode(errors="replace")

    def psql(self, node: str, db: str, sql: str, check: bool = True) -> str:
        return self.sh(node, f"runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -d {db}",
                       stdin=sql.encode(), check=check)

    def counts(self, node: str, db: str) -> dict[str, Any]:
        sql = ("SELECT schemaname||'.'||tablename FROM pg_tables WHERE schemaname NOT IN "
               "('pg_catalog','information_schema') ORDER BY 1;")
        tables = [t for t in self.psql(node, db, sql).split() if t]
        out: dict[str, Any] = {}
        for table in tables:
            row = self.psql(node, db, f"SELECT count(*), md5(coalesce(string_agg(t::text, ',' "
                                      f"ORDER BY t::text), '')) FROM {table} t;").strip()
            n, h = row.split("|")
            out[table] = {"rows": int(n), "md5": h}
        return out

    def moving_dbs(self) -> list[Any]:
        moving = {m.server for m in self.plan.moves}
        return [d for d in self.dc.databases if d.primary in moving]

    def _pg_version(self, server: str) -> str:
        db = next((d for d in self.dc.databases if server in (d.primary, d.standby)), None)
        return (db.version if db and db.version else "15")

    # -- topologies ------------------------------------------------------------------
    def write_trees(self) -> str:
        assert self.plan.target is not None
        write_target_tree(self.topo, self.plan, self.target_tree)
        staging = self.dc.model_copy(deep=True)
        staging.isolation = list(self.plan.target.isolation)  # the flows opened first
        extra: list[Server] = []
        for m in self.plan.moves:
            srv = next(s for s in self.dc.servers if s.name == m.server)
            extra.append(srv.model_copy(update={"name": m.server + STAGING_SUFFIX,
                                                "location": DATACENTER, "segment": m.segment,
                                                "address": m.new_address}))
        staging.servers = [*staging.servers, *extra]
        tmp = StagePlan(self.plan.dc, self.plan.file, self.plan.from_stage,
                 self.dc.stage or 1, target=staging)
        write_target_tree(self.topo, tmp, self.staging_tree)
        problems = []
        for tree in (self.staging_tree, self.target_tree):
            v = validate([tree])
            problems += [d.format() for d in v.report.errors]
        if problems:
            raise StepFailed("the intermediate or target topology does not validate:\n"
                             + "\n".join(problems[:20]))
        return f"staging {self.staging_tree}, target {self.target_tree} (both validate)"

    # -- steps -----------------------------------------------------------------------
    def up(self, path: list[str] | Path) -> str:
        paths = [str(path)] if isinstance(path, Path) else path
        out = _must(_pesdc("lab", "up", *paths, "--dc", self.dc_name, "--name", self.lab),
                    "pesdc lab up")
        return out.strip().splitlines()[-1] if out.strip() else ""

    def apply(self, path: list[str] | Path, limit: list[str]) -> str:
        paths = [str(path)] if isinstance(path, Path) else path
        args = ["apply", *paths, "--dc", self.dc_name, "--lab", self.lab, "--json"]
        for name in limit:
            args += ["--limit", name]
        note = ""
        for attempt in (1, 2):
            # apply is idempotent: a host that failed once (a package install timing out
            # on a busy machine) is applied once more before the step fails.
            res = _pesdc(*args)
            try:
                doc = json.loads(res.stdout)
            except json.JSONDecodeError:
                _must(res, "pesdc apply")
                raise StepFailed("pesdc apply printed no result") from None
            bad = [f"{h['host']}: {h.get('error')} (last op: "
                   f"{(h.get('changes') or ['-'])[-1]})"
                   for h in doc.get("hosts", []) if not h["ok"]]
            if res.returncode == 0 and not bad:
                break
            if attempt == 2:
                raise StepFailed("pesdc apply failed: " + "; ".join(bad)[:2000])
            note = f" (second attempt; first: {'; '.join(bad)[:300]})"
        return (f"apply {len(doc['hosts'])} host(s) in {doc['seconds']} s, "
                f"{doc['changed']} change(s){note}")

    def verify(self, path: list[str] | Path, only: list[str]) -> str:
        paths = [str(path)] if isinstance(path, Path) else path
        args = ["verify", *paths, "--dc", self.dc_name, "--lab", self.lab]
        for part in only:
            args += ["--only", part]
        res = _pesdc(*args)
        _must(res, f"pesdc verify {' '.join(only) or '(all)'}")
        return res.stdout.strip().splitlines()[0] if res.stdout.strip() else "verified"

    def seed(self) -> str:
        out = []
        for db in self.moving_dbs():
            exists = self.psql(db.primary, db.name,
                               f"SELECT to_regclass('public.{SEED_TABLE}') IS NOT NULL;").strip()
            if exists != "t":
                self.psql(db.primary, db.name, (
                    f"CREATE TABLE {SEED_TABLE} (id integer PRIMARY KEY, person text NOT NULL,"
                    " district text NOT NULL, benefit numeric(10,2), registered date);"
                    f"INSERT INTO {SEED_TABLE} SELECT g, 'person-' || g, "
                    "(ARRAY['district-a','district-b','district-c'])[1 + g % 3], "
                    "round((g * 37 % 5000)::numeric / 3, 2), date '2020-01-01' + g % 1500 "
                    f"FROM generate_series(1, {SEED_ROWS}) g;"))
            before = self.counts(db.primary, db.name)
            self.res.data[db.name] = {"room_primary": db.primary, "before": before}
            out.append(f"{db.name} on {db.primary}: " + ", ".join(
                f"{t} {v['rows']} rows md5 {v['md5']}" for t, v in before.items()))
        return "; ".join(out) or "no database moves"

    def room_checks(self) -> str:
        for db in self.moving_dbs():
            got = self.counts(db.primary, db.name)
            if got != self.res.data[db.name]["before"]:
                raise StepFailed(f"{db.name} on {db.primary} changed: {got}")
        return "room databases answer with the recorded counts"

    def prepare(self) -> str:
        notes = [self.up(self.staging_tree)]
        notes.append(self.verify(self.staging_tree, ["policy"]))
        staging = [m.server + STAGING_SUFFIX for m in self.plan.moves]
        notes.append(self.apply(self.staging_tree, staging))
        for m in self.plan.moves:
            if "database" in m.roles and m.databases:
                v = self._pg_version(m.server)
                self.sh(m.server + STAGING_SUFFIX,
                        f"pg_ctlcluster {v} main status >/dev/null 2>&1 || "
                        f"pg_ctlcluster {v} main start")
        return " | ".join(notes)

    def migrate(self) -> str:
        out = []
        for db in self.moving_dbs():
            room, new = db.primary, db.primary + STAGING_SUFFIX
            self.psql(room, "postgres", (
                f"ALTER DATABASE {db.name} SET default_transaction_read_only = on;"
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{db.name}' AND pid <> pg_backend_pid();"))
            self.frozen.append(db.name)
            t0 = time.monotonic()
            argv = Lab(self.lab).exec_argv(room, ["runuser", "-u", "postgres", "--",
                                                  "pg_dump", "-Fc", "-d", db.name])
            dump = self.workdir / f"{db.name}.dump"
            with dump.open("wb") as fh:
                res = subprocess.run(argv, stdout=fh, stderr=subprocess.PIPE, timeout=600)
            if res.returncode != 0:
                raise StepFailed(f"pg_dump {db.name} on {room}: "
                                 f"{res.stderr.decode(errors='replace')[-800:]}")
            if self.inject == "restore-target-stopped":
                self.sh(new, f"pg_ctlcluster {self._pg_version(db.primary)} main stop")
            self.sh(new, f"runuser -u postgres -- dropdb --if-exists {db.name} && "
                         f"runuser -u postgres -- createdb {db.name}")
            self.sh(new, f"runuser -u postgres -- pg_restore --no-owner -d {db.name}",
                    stdin=dump.read_bytes())
            if self.inject == "checksum-corrupted":
                self.psql(new, db.name, f"UPDATE {SEED_TABLE} SET benefit = benefit + 1 "
                                        "WHERE id = 42;")
            after = self.counts(new, db.name)
            before = self.res.data[db.name]["before"]
            self.res.data[db.name].update({"dump_bytes": dump.stat().st_size,
                                           "migrate_seconds": round(time.monotonic() - t0, 1),
                                           "restored": after})
            if after != before:
                bad = [t for t in set(before) | set(after) if before.get(t) != after.get(t)]
                raise StepFailed(f"{db.name}: row counts or checksums differ after the "
                                 f"restore on {new}: {', '.join(sorted(bad))} (before "
                                 f"{[before.get(t) for t in bad]}, after "
                                 f"{[after.get(t) for t in bad]})")
            out.append(f"{db.name}: {dump.stat().st_size} byte dump {room} -> {new}, "
                       f"counts and checksums equal")
        return "; ".join(out) or "no database to migrate"

    def cutover(self) -> str:
        lab = Lab(self.lab)
        for m in self.plan.moves:
            for node in (m.server, m.server + STAGING_SUFFIX):
                if "database" in m.roles:
                    self.sh(node, f"pg_ctlcluster {self._pg_version(m.server)} main stop "
                                  "-m fast || true", check=False)
        self.keep.mkdir(parents=True, exist_ok=True)
        for m in self.plan.moves:
            lab.stop_nodes([m.server, m.server + STAGING_SUFFIX])
            node_dir, new_dir = lab.dir / "nodes" / m.server, lab.dir / "nodes" / (
                m.server + STAGING_SUFFIX)
            shutil.rmtree(self.keep / m.server, ignore_errors=True)
            shutil.move(str(node_dir), str(self.keep / m.server))
            shutil.move(str(new_dir), str(node_dir))
            self.switched.append(m.server)
        notes = [self.up(self.target_tree)]
        target_topo = validate([self.target_tree]).topology
        target = build_plan(target_topo, self.dc_name, self.lab)
        pruned = _prune(lab, set(target.nodes))
        notes.append(f"removed from the lab: {', '.join(pruned) or 'nothing'}")
        self.touched = sorted({m.server for m in self.plan.moves}
                              | set(changed_hosts(self.topo, target_topo, self.dc_name)))
        notes.append(self.apply(self.target_tree, self.touched))
        for db in self.moving_dbs():
            got = self.counts(db.primary, db.name)
            self.res.data[db.name]["after_cutover"] = got
            self.res.data[db.name]["new_primary"] = db.primary
            if got != self.res.data[db.name]["before"]:
                raise StepFailed(f"{db.name} on the moved {db.primary} differs: {got}")
        # The hosts are checked by the final verify, right after this step.
        notes.append(self.verify(self.target_tree, ["policy", "isolation"]))
        return " | ".join(notes)

    def final(self) -> str:
        # Every part of verify; the link-latency part alone is retried: the delay line is
        # a userspace process and a busy machine adds milliseconds to its round trips.
        parts = ["hosts", "isolation", "policy", "drift", "routing"]
        notes = [self.verify(self.target_tree, parts)]
        for attempt in range(1, 4):
            try:
                notes.append(self.verify(self.target_tree, ["links"]))
                break
            except StepFailed:
                if attempt == 3:
                    raise
                time.sleep(3)
        helpres = _pesdc("audit", "--help")
        if helpres.returncode == 0 and "--static" in helpres.stdout:
            res = _pesdc("audit", str(self.target_tree), "--dc", self.dc_name, "--static",
                         "--format", "json")
            if res.returncode == 2:
                notes.append("pesdc audit --static could not run: "
                             + (res.stderr.strip().splitlines() or ["usage error"])[-1])
            else:
                _must(res, "pesdc audit --static")
                try:
                    doc = json.loads(res.stdout)
                    self.res.audit = {"overall": doc.get("overall"),
                                      "counts": doc.get("counts")}
                    notes.append(f"audit --static passed: overall {doc.get('overall')}, "
                                 f"{doc.get('counts')}")
                except json.JSONDecodeError:
                    notes.append("audit --static passed")
        else:
            notes.append("pesdc audit is not available in this build: skipped")
        return " | ".join(notes)

    # -- rollback --------------------------------------------------------------------
    def rollback(self) -> None:
        self.res.rolled_back = True
        lab = Lab(self.lab)
        t0 = time.monotonic()
        notes = []
        self.progress.begin(f"{self.dc_name}/rehearse", "rollback")
        try:
            for server in list(self.switched):
                lab.stop_nodes([server])
                node_dir = lab.dir / "nodes" / server
                shutil.rmtree(node_dir, ignore_errors=True)  # the new host's copy
                shutil.move(str(self.keep / server), str(node_dir))
                self.switched.remove(server)
            # The staging hosts leave the lab. Their disks stay (a retry finds them
            # provisioned); the copy restored there is dropped before the next restore.
            lab.stop_nodes([m.server + STAGING_SUFFIX for m in self.plan.moves])
            notes.append(self.up(self.path))
            # Restarted room hosts have no services yet (a lab host runs only sshd until
            # apply starts them); hosts the cut-over re-applied get the previous state.
            back = sorted({m.server for m in self.plan.moves} | set(self.touched))
            notes.append(self.apply(self.path, back))
            for db in self.moving_dbs():
                if db.name in self.frozen:
                    self.psql(db.primary, "postgres", f"ALTER DATABASE {db.name} SET "
                                                      "default_transaction_read_only = off;")
                got = self.counts(db.primary, db.name)
                self.res.data[db.name]["after_rollback"] = got
                if got != self.res.data[db.name]["before"]:
                    raise StepFailed(f"{db.name} on {db.primary} differs after rollback")
                probe = self.psql(db.primary, db.name, "SHOW default_transaction_read_only;")
                notes.append(f"{db.name} on {db.primary}: counts and checksums equal, "
                             f"read-only {probe.strip()}")
            notes.append(self.verify(self.path, ["hosts", "policy"]))
            self.res.rollback_ok = True
            self.res.steps.append(StepResult("rollback", True, round(time.monotonic() - t0, 1),
                                             " | ".join(notes)))
            self.progress.step(f"{self.dc_name}/rehearse", "rollback",
                               f"ok: {round(time.monotonic() - t0, 1)} s")
        except (StepFailed, LabError, OSError, subprocess.SubprocessError) as exc:
            self.progress.step(f"{self.dc_name}/rehearse", "rollback", f"failed: {exc}"[:200])
            self.res.rollback_ok = False
            self.res.steps.append(StepResult("rollback", False,
                                             round(time.monotonic() - t0, 1),
                                             (" | ".join(notes) + f" | {exc}")[:3000]))

    def run(self) -> Rehearsal:
        paths = self.path
        self.progress.start(9, f"stage rehearse {self.dc_name}: stage {self.plan.from_stage}"
                               f" -> {self.plan.to_stage} in lab {self.lab}")
        try:
            self.step("write intermediate and target topologies", self.write_trees)
            self.step("lab up (current stage)", lambda: self.up(paths))
            self.step("apply (current stage)", lambda: self.apply(paths, []))
            self.step("seed and record the room databases", self.seed)
        except StepFailed as exc:
            self.res.failure = str(exc).splitlines()[0]
            return self.res  # nothing moved yet: nothing to roll back
        try:
            self.step("open flows first, provision staging hosts", self.prepare)
            self.step("room databases unchanged", self.room_checks)
            self.step("migrate databases (dump, restore, compare)", self.migrate)
            self.step("cut-over (identity, firewall flows, apply)", self.cutover)
        except (StepFailed, OSError, subprocess.SubprocessError) as exc:
            self.res.failure = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.rollback()
            return self.res
        try:
            self.step("verify and audit the target stage", self.final)
        except StepFailed as exc:
            self.res.failure = str(exc).splitlines()[0]
            return self.res
        self.res.ok = True
        return self.res


def changed_hosts(old: Topology, new: Topology, dc: str) -> list[str]:
    """Servers present in both whose desired files differ (e.g. the log server's and time
    source's client lists lose an emptied room): they are applied at the cut-over."""
    from pesdc.provision.desired import desired_state

    a, b = old.datacenters[dc], new.datacenters[dc]
    both = sorted({s.name for s in a.servers} & {s.name for s in b.servers})
    out = []
    for name in both:
        fa = {f.path: f.content for f in desired_state(old, dc, name, True).files}
        fb = {f.path: f.content for f in desired_state(new, dc, name, True).files}
        if fa != fb:
            out.append(name)
    return out


def _prune(lab: Lab, keep: set[str]) -> list[str]:
    """Nodes the current plan no longer has (an emptied room's site): stopped."""
    state = lab.load_state()
    gone = sorted(n for n in state.get("nodes", {}) if n not in keep)
    lab.stop_nodes(gone)
    for name in gone:
        if not name.startswith("site:"):
            shutil.rmtree(lab.dir / "nodes" / name, ignore_errors=True)
    return gone


def workdir_for(lab: str) -> Path:
    return state_dir() / "stages" / lab


def rehearse(topo: Topology, paths: list[str], dc: str, to_stage: int, lab: str,
             log: Log, inject: str | None = None, progress: Progress | None = None
             ) -> Rehearsal:
    """Rehearse the move; ``progress`` hears of each step as it starts and ends."""
    plan = derive(topo, dc, to_stage)
    work = workdir_for(lab)
    work.mkdir(parents=True, exist_ok=True)
    runner = Runner(topo, paths, dc, lab, plan, work, log, inject, progress)
    if plan.problems or not plan.moves:
        runner.res.failure = ("; ".join(plan.problems) if plan.problems else
                              f"nothing moves: {dc} already meets stage {to_stage}")
        return runner.res
    res = runner.run()
    (work / "rehearsal.json").write_text(json.dumps(res.as_dict(), indent=1,
                                                    ensure_ascii=False))
    return res


__all__ = ["INJECTIONS", "Rehearsal", "dump_center", "rehearse", "workdir_for"]
