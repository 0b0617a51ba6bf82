"""The off-site copies a center holds for other centers (GB/T 22239-2019 8.1.4.9),
checked where they are held.

Dumps its backup servers pull (异地备份), on the backup server:

- present, current and its last pull ok: the same reading as the center's own backups
  (pesdc.verify.hosts: the newest dump within the schedule, no failure marker);
- restores: the newest dump is read back in full with pg_restore on the backup server,
  table by table (row count and an order-independent MD5 of the rows), and compared
  with the source database's tables read the same way (``COPY ... TO STDOUT``, the form
  pg_dump stores). The source is read where this run can reach it: in a multi-center
  lab, in the source center's member; otherwise the comparison is an error (not
  observed), never a pass.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from pesdc.backbone import offsite_copies, offsite_replicas
from pesdc.lab.plan import LabPlan
from pesdc.model.tree import Topology
from pesdc.verify.checks import Check
from pesdc.verify.hosts import Via, backup_check, connect

# Rows of each table of a pg_dump archive: pg_restore writes the data as COPY blocks.
_RESTORE = r"""
import glob, hashlib, json, os, subprocess, sys
d, db = sys.argv[1], sys.argv[2]
files = sorted(glob.glob(os.path.join(d, db + "-*.dump")), key=os.path.getmtime)
if not files:
    print(json.dumps({"error": "no dump in " + d})); sys.exit(0)
f = files[-1]
p = subprocess.run(["pg_restore", "--data-only", "-f", "-", f], capture_output=True)
if p.returncode:
    print(json.dumps({"file": f, "error": "pg_restore: " +
                      p.stderr.decode(errors="replace").strip()[-400:]})); sys.exit(0)
tables, cur, rows = {}, None, []
for line in p.stdout.split(b"\n"):
    if cur is None:
        if line.startswith(b"COPY ") and line.endswith(b" FROM stdin;"):
            cur, rows = line.split(b" ")[1].decode(), []
    elif line == b"\\.":
        rows.sort()
        tables[cur] = {"rows": len(rows), "md5": hashlib.md5(b"\n".join(rows)).hexdigest()}
        cur = None
    else:
        rows.append(line)
print(json.dumps({"file": f, "bytes": os.path.getsize(f), "tables": tables}))
"""

# The same reading of the source database's tables (run as root on its host).
_SOURCE = r"""
import hashlib, json, subprocess, sys
db, tables = sys.argv[1], json.loads(sys.argv[2])
out = {}
for t in tables:
    p = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-XAtq", "-d", db, "-c",
                        "COPY " + t + " TO STDOUT"], capture_output=True)
    if p.returncode:
        out[t] = {"error": p.stderr.decode(errors="replace").strip()[-300:]}
        continue
    rows = p.stdout.split(b"\n")
    if rows and rows[-1] == b"":
        rows.pop()
    rows.sort()
    out[t] = {"rows": len(rows), "md5": hashlib.md5(b"\n".join(rows)).hexdigest()}
print(json.dumps(out))
"""


def check_offsite(topo: Topology, dc_name: str, ssh_config: Via,
                  plan: LabPlan | None = None, servers: list[str] | None = None
                  ) -> list[Check]:
    """Per off-site copy this center holds: present and current, and it restores; per
    off-site standby among ``servers`` (all when None): streaming, and equal."""
    from pesdc.provision.desired import offsite_dir

    out: list[Check] = []
    for c in offsite_copies(topo):
        if c.backup_center != dc_name:
            continue
        host = f"{c.backup_server}.{dc_name}"
        d = offsite_dir(c.db_center, c.database)
        label = f"off-site copy of {c.db_center}/{c.database}"
        out.append(backup_check(host, d, c.database, ssh_config, label))
        out.append(_restores(c, host, d, ssh_config, plan, label))
    for st in offsite_replicas(topo):
        if st.standby_center == dc_name and (servers is None or st.standby_server in servers):
            out += _standby_checks(st, ssh_config, plan)
    return out


# The tables of each database (user schemas), read as _SOURCE reads them.
_TABLES = r"""
import hashlib, json, subprocess, sys
port, dbs = sys.argv[1], json.loads(sys.argv[2])
def psql(db, sql):
    return subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-p", port, "-XAtq",
                           "-d", db, "-c", sql], capture_output=True)
out = {}
for db in dbs:
    p = psql(db, "select schemaname || '.' || tablename from pg_tables where schemaname "
                 "not in ('pg_catalog', 'information_schema') order by 1")
    if p.returncode:
        out[db] = {"error": p.stderr.decode(errors="replace").strip()[-300:]}
        continue
    tables = {}
    for t in p.stdout.decode().split():
        c = psql(db, "COPY " + t + " TO STDOUT")
        rows = c.stdout.split(b"\n")
        if rows and rows[-1] == b"":
            rows.pop()
        rows.sort()
        tables[t] = ({"rows": len(rows), "md5": hashlib.md5(b"\n".join(rows)).hexdigest()}
                     if c.returncode == 0 else
                     {"error": c.stderr.decode(errors="replace").strip()[-300:]})
    out[db] = tables
print(json.dumps(out))
"""
REPLAY_WAIT = 15.0  # seconds a standby may take to replay what the primary has


def _standby_checks(st: Any, ssh_config: Via, plan: LabPlan | None) -> list[Check]:
    host = f"{st.standby_server}.{st.standby_center}"
    label = f"off-site standby of {st.db_center}/{st.primary} ({', '.join(st.databases)})"
    want = f"in recovery, streaming from {st.primary_address}"
    try:
        h = connect(host, ssh_config)
        res = h.run(f"runuser -u postgres -- psql -p {int(st.port)} -AtXc \"select "
                    "pg_is_in_recovery(), (select status || ' ' || sender_host from "
                    "pg_stat_wal_receiver)\"")
    except Exception as exc:
        why = f"cannot read the standby {host}: {exc}"[:500]
        return [Check.errored(host, "replication", f"{label} streaming", why, want),
                Check.errored(host, "replication", f"{label} equal to its primary", why,
                              "every table equal to the primary's")]
    text = (res.stdout or res.stderr).strip()
    if res.rc != 0:
        streaming = Check.errored(host, "replication", f"{label} streaming",
                                  f"psql on {host} exit {res.rc}: {text[-300:]}", want, text)
    else:
        ok = text == f"t|streaming {st.primary_address}"
        seen = "not in recovery: not a standby" if text.startswith("f|") else \
            (f"in recovery, {text.partition('|')[2] or 'no WAL receiver (not streaming)'}")
        streaming = Check(host, "replication", f"{label} streaming", ok, want,
                          want if ok else seen, text)
    return [streaming, _standby_equal(st, host, h, plan, label)]


def _standby_equal(st: Any, host: str, h: Any, plan: LabPlan | None, label: str) -> Check:
    """The standby's tables against the primary's, read the same way; read again while
    the standby may still be replaying (``REPLAY_WAIT``)."""
    import time

    name = f"{label} equal to its primary"
    expected = f"every table of {', '.join(st.databases)} equal to {st.primary}." \
               f"{st.db_center}'s"
    end = time.monotonic() + REPLAY_WAIT
    while True:
        try:
            res = h.run("python3 -c " + _quote(_TABLES) + f" {int(st.port)} "
                        + _quote(json.dumps(list(st.databases))))
            copy = json.loads(res.stdout.strip().splitlines()[-1])
        except Exception as exc:
            return Check.errored(host, "replication", name,
                                 f"cannot read the standby's tables: {exc}"[:500], expected)
        source, why = _source_read(st.db_center, st.primary, _TABLES,
                                   [str(int(st.port)), json.dumps(list(st.databases))], plan)
        if source is None:
            return Check.errored(host, "replication", name, f"not compared with the "
                                 f"primary: {why}", expected, json.dumps(copy)[:2000])
        if source == copy or time.monotonic() > end:
            break
        time.sleep(1.0)
    evidence = "; ".join(f"{db}: " + ", ".join(f"{t} {v.get('rows')} rows md5 {v.get('md5')}"
                                               for t, v in sorted(tables.items()))
                         for db, tables in sorted(copy.items()))
    n = sum(len(t) for t in copy.values())
    bad = "" if source == copy else "differs from the primary: standby " + \
        json.dumps(copy)[:300] + ", primary " + json.dumps(source)[:300]
    return Check(host, "replication", name, not bad, expected,
                 bad or f"{n} tables equal to the primary", evidence[:2000])


def _restores(c: Any, host: str, d: str, ssh_config: Via, plan: LabPlan | None,
              label: str) -> Check:
    name = f"{label} restores, table by table, equal to its source"
    expected = f"every table of the newest dump equal to {c.primary}.{c.db_center}'s"
    try:
        res = connect(host, ssh_config).run(
            "python3 -c " + _quote(_RESTORE) + f" {_quote(d)} {_quote(c.database)}")
        got = json.loads(res.stdout.strip().splitlines()[-1])
    except Exception as exc:  # the backup server could not be read: nothing is shown
        why = f"cannot read the copy on {host}: {exc}"[:500]
        return Check.errored(host, "backups", name, why, expected)
    if "error" in got:
        return Check(host, "backups", name, False, expected,
                     f"does not restore: {got['error']}"[:500], json.dumps(got)[:2000])
    restored: dict[str, dict[str, Any]] = got["tables"]
    evidence = f"{got['file']} ({got['bytes']} bytes): " + ", ".join(
        f"{t} {v['rows']} rows md5 {v['md5']}" for t, v in sorted(restored.items()))
    if not restored:
        return Check(host, "backups", name, False, expected, "the dump holds no table data",
                     evidence)
    source, why = _source_tables(c, sorted(restored), plan)
    if source is None:
        return Check.errored(host, "backups", name, f"restored {len(restored)} tables; "
                             f"not compared with the source: {why}", expected, evidence)
    bad = [t for t in restored if source.get(t) != restored[t]]
    observed = (f"{len(restored)} tables equal to the source" if not bad else
                "differs from the source: " + "; ".join(
                    f"{t}: copy {restored[t]}, source {source.get(t)}" for t in bad))
    return Check(host, "backups", name, not bad, expected, observed[:500],
                 evidence + "\nsource: " + json.dumps(source)[:1500])


def _source_tables(c: Any, tables: list[str], plan: LabPlan | None
                   ) -> tuple[dict[str, Any] | None, str]:
    """The source database's tables read the way the copy was."""
    return _source_read(c.db_center, c.primary, _SOURCE, [c.database, json.dumps(tables)],
                        plan)


def _source_read(center: str, server: str, script: str, args: list[str],
                 plan: LabPlan | None) -> tuple[dict[str, Any] | None, str]:
    """A script's JSON answer from a server of another center: in a multi-center lab,
    inside that center's member (the server's namespace); else not observed."""
    from pesdc.lab.group import Group
    from pesdc.lab.runtime import Lab

    group = Group.load(plan.group) if plan is not None and plan.group else None
    if group is None or center not in group.centers:
        return None, (f"the source center {center} is not reachable from this run "
                      "(a run reads its own center; a multi-center lab holding both reads "
                      "both)")
    argv = Lab(group.member(center)).exec_argv(server, ["python3", "-c", script, *args])
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        data = json.loads(res.stdout.strip().splitlines()[-1])
    except Exception as exc:
        return None, f"the source {server}.{center} could not be read: {exc}"
    return data, ""


def _quote(s: str) -> str:
    import shlex

    return shlex.quote(s)
