"""Three centers of the example tree in one lab, joined by their real uplinks: Jinan (a
stage-3 city, all of it), Shandong (its province) and the ministry (MOHRSS), the two far
ones kept light with ``--servers``. One lab (``mct``) up for the module:

- packets between the centers: the cross-center flows (exchange to exchange, the
  decision zones reporting up, the province's pull of Jinan's databases) pass, and
  nothing else from another center opens a session into Jinan's production or decision
  zone (lab probe, and verify per center);
- the ministry reaches the city directly over the ministry-city uplink (its route, and
  a TCP handshake of about that uplink's 12 ms; through the province it takes longer);
- Jinan's databases are pulled off site to Shandong's backup server over the business
  private network, through both centers' firewalls, and verify restores every copy
  table by table against its source;
- each of Jinan's primaries streams to a standby in Shandong (异地实时备份, AUD-CE-22's
  evidence): verify sees each streaming and equal to its primary, and a row written in
  Jinan shows in Shandong within the replay lag;
- a fault: the city-province uplink cut (the pull goes round through the ministry), then
  both of Jinan's uplinks cut during a pull while rows are written: the pull fails and
  says so, verify fails the standbys, the copies already taken and the rows already
  streamed are kept, and after the uplinks are back the standbys catch up and the next
  pull does too;
- down leaves no namespace of the lab.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from pesdc.lab.paths import lab_dir
from tests.conftest import ROOT, require_lab
from tests.results import record

from .conftest import pesdc

pytestmark = pytest.mark.lab

TREE = str(ROOT / "topologies")
LAB = "mct"
CENTERS = ("jinan", "shandong", "mohrss")
# Two servers a zone at least (a probe source needs a neighbour to show it can send).
LIGHT = {"shandong": "dxp-1,dxp-2,mis-1,mis-2,stat-1,mon-1,misdb-1,xregdb-1,dw-1,jump-1,"
                     "log-1,ntp-1,backup-1,jn-misdb-dr,jn-xregdb-dr,jn-talentdb-dr,jn-dw-dr",
         "mohrss": "dxp-1,dxp-2,stat-1,mon-1,jump-1,log-1"}
JINAN_DBS = {"misdb": "misdb-1", "xregdb": "xregdb-1", "talentdb": "talentdb-1",
             "dw": "dw-1"}
OFFSITE = "/srv/backup/offsite/jinan"
ROWS = 500
# What the README quotes of this lab: written by the last test (tests/results.py).
MEASURED: dict[str, object] = {}


def member(center: str) -> str:
    return f"{LAB}-{center}"


def on(center: str, node: str, command: str, timeout: float = 300
       ) -> subprocess.CompletedProcess[str]:
    return pesdc("lab", "exec", "--name", member(center), node, "sh", "-c", command,
                 timeout=timeout)


def must(center: str, node: str, command: str, timeout: float = 300) -> str:
    res = on(center, node, command, timeout)
    assert res.returncode == 0, f"{center}/{node}: {command}: {res.stdout[-800:]}" \
                                f"{res.stderr[-800:]}"
    return res.stdout


def ok(res: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert res.returncode == 0, f"rc={res.returncode}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def junit(path: Path) -> list[tuple[str, str, str]]:
    """(classname, name, outcome: pass | failure | error | skipped) of every testcase."""
    out = []
    for case in ET.parse(path).getroot().iter("testcase"):
        kind = next((k for k in ("failure", "error", "skipped") if case.find(k) is not None),
                    "pass")
        out.append((case.get("classname") or "", case.get("name") or "", kind))
    return out


def namespaces() -> list[str]:
    res = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [n.split()[0] for n in res.stdout.splitlines()
            if n.startswith(f"pesdc-{LAB}-")]


@pytest.fixture(scope="module")
def mct():  # type: ignore[no-untyped-def]
    require_lab()
    pesdc("lab", "down", "--name", LAB)
    args = ["lab", "up", TREE, "--name", LAB]
    for c in CENTERS:
        args += ["--dc", c]
    for c, names in LIGHT.items():
        args += ["--servers", f"{c}:{names}"]
    up = ok(pesdc(*args, timeout=900))
    try:
        yield up.stdout
    finally:
        pesdc("lab", "down", "--name", LAB)


# ---------------------------------------------------------------- the lab itself
def test_status_names_the_centers_their_uplinks_and_who_is_left_out(mct: str) -> None:
    assert "jinan/up-shandong" in mct and "jinan/up-mohrss" in mct and \
        "shandong/up-mohrss" in mct
    status = json.loads(ok(pesdc("lab", "status", "--name", LAB, "--json")).stdout)
    assert status["centers"] == list(CENTERS)
    assert {r["center"] for r in status["nodes"] if r["center"]} == set(CENTERS)
    link = next(r for r in status["nodes"] if r["node"] == "uplinks")
    assert link["state"] == "up"
    notes = " ".join(status["notes"])
    assert "shandong: only servers" in notes and "mohrss: only servers" in notes
    assert "bus-1" in notes  # a server of the ministry kept out of the lab, named
    assert "keeps one server" not in notes  # every light zone can show its probes sent


# ---------------------------------------------------------------- packets between centers
def test_probes_between_the_centers(mct: str) -> None:
    res = pesdc("lab", "probe", TREE, "--name", LAB, "--json", timeout=900)
    report = json.loads(res.stdout)
    probes = report["probes"]
    bad = [p for p in probes if p["verdict"] != "pass"]
    assert res.returncode == 0 and not bad, json.dumps(bad[:5], indent=1)
    allowed = {(p["src_node"], p["dst_node"], p["port"]) for p in probes if p["expected"]}
    MEASURED["probes"] = {"total": len(probes), "allowed": sum(1 for p in probes
                                                               if p["expected"])}
    # exchange to exchange, both ways, with the province and directly with the ministry
    for far in ("shandong", "mohrss"):
        assert (f"{far}/dxp-1", "jinan/dxp-1", 8443) in allowed
        assert ("jinan/dxp-1", f"{far}/dxp-1", 8443) in allowed
    # 联网直报: Jinan's decision zone reports up to the province and the ministry
    assert ("jinan/mon-1", "shandong/stat-1", 8443) in allowed
    assert ("jinan/mon-1", "mohrss/stat-1", 8443) in allowed
    # the province's backup server pulls Jinan's databases, its standbys stream them
    # (a rule is probed from its first source, to each of its destinations)
    for db_host in JINAN_DBS.values():
        assert ("shandong/backup-1", f"jinan/{db_host}", 22) in allowed
        assert any(s.startswith("shandong/jn-") and d == f"jinan/{db_host}" and port == 5432
                   for s, d, port in allowed), db_host
    # Into Jinan's production and decision zones from another center: only the pull
    # and the standbys' streams.
    into = [p for p in probes if p["dst_zone"] in ("jinan/production", "jinan/decision")
            and not p["src_zone"].startswith("jinan/")]
    assert len(into) > 20
    opened = {(p["src_node"], p["port"]) for p in into if p["expected"]}
    standbys = {(f"shandong/jn-{db}-dr", 5432) for db in JINAN_DBS}
    assert ("shandong/backup-1", 22) in opened and opened - standbys == {
        ("shandong/backup-1", 22)}, opened
    assert all(not p["observed"] for p in into if not p["expected"])


def test_verify_probes_and_routes_between_centers(mct: str, tmp_path: Path) -> None:
    xml = tmp_path / "jinan.xml"
    ok(pesdc("verify", TREE, "--dc", "jinan", "--lab", LAB, "--only", "routing",
             "--only", "isolation", "--junit", str(xml), timeout=900))
    cases = junit(xml)
    assert all(kind == "pass" for _, _, kind in cases)
    assert sum(1 for c, _, _ in cases if ".centers." in c) > 100
    names = {n for c, n, _ in cases if ".routing." in c}
    assert {"routes to center shandong over up-shandong",
            "routes to center mohrss over up-mohrss"} <= names
    for center in ("shandong", "mohrss"):
        xml = tmp_path / f"{center}.xml"
        ok(pesdc("verify", TREE, "--dc", center, "--lab", LAB, "--only", "routing",
                 "--junit", str(xml), timeout=600))
        assert all(kind == "pass" for _, _, kind in junit(xml))
    assert ("mohrss.routing.rt-2.mohrss", "routes to center jinan over up-mohrss", "pass") \
        in junit(tmp_path / "mohrss.xml")


# ---------------------------------------------------------------- the ministry reaches the city
_HANDSHAKE = (
    "import socket, statistics, sys, time\n"
    "t = []\n"
    "for _ in range(7):\n"
    "    s = socket.socket(); s.settimeout(3); a = time.monotonic()\n"
    "    s.connect((sys.argv[1], int(sys.argv[2]))); t.append(time.monotonic() - a)\n"
    "    s.close(); time.sleep(0.05)\n"
    "print(round(statistics.median(t) * 1000, 2))\n")


def _handshake_ms() -> float:
    """The median TCP handshake from the ministry's exchange server to Jinan's, on the
    port the flow opens (a listener started on Jinan's dxp-1 for it)."""
    listen = subprocess.Popen(
        [*_exec_argv("jinan", "dxp-1"), "timeout", "40", "python3", "-c",
         "import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, "
         "socket.SO_REUSEADDR, 1); s.bind(('10.1.20.21', 8443)); s.listen(64)\n"
         "while True: s.accept()[0].close()"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        out = must("mohrss", "dxp-1", f"python3 -c '{_HANDSHAKE}' 10.1.20.21 8443")
        return float(out.strip().splitlines()[-1])
    finally:
        listen.kill()
        listen.wait(timeout=10)


def _exec_argv(center: str, node: str) -> list[str]:
    from pesdc.lab.runtime import Lab

    return Lab(member(center)).exec_argv(node, [])


def _route(center: str, node: str, addr: str) -> str:
    return subprocess.run(["ip", "netns", "exec", f"pesdc-{member(center)}-{node}", "ip",
                           "route", "get", addr], capture_output=True, text=True).stdout


def _wait_route(center: str, node: str, addr: str, via: str, timeout: float = 45) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if f"via {via} " in _route(center, node, addr):
            return
        time.sleep(1)
    raise AssertionError(f"{center}/{node}: no route to {addr} via {via} in {timeout} s: "
                         f"{_route(center, node, addr)}")


def test_the_ministry_reaches_the_city_directly(mct: str) -> None:
    assert "via 10.255.0.6 " in _route("mohrss", "rt-2", "10.1.20.21")  # up-jinan
    direct = _handshake_ms()
    assert 11.5 <= direct < 16, direct  # the ministry-city uplink: 12 ms round trip
    # Without it the ministry still reaches the city, through the province (15 + 2 ms).
    ok(pesdc("lab", "uplink", "--name", LAB, "jinan/up-mohrss", "down"))
    try:
        _wait_route("mohrss", "rt-2", "10.1.20.21", "10.0.99.4")  # to rt-1, up-mohrss
        around = _handshake_ms()
        MEASURED["handshake_ms"] = {"direct": direct, "through_the_province": around}
        print(f"ministry -> Jinan TCP handshake: direct {direct} ms, through the "
              f"province {around} ms")
        assert around >= 16.5 and around > direct + 3, (direct, around)
    finally:
        ok(pesdc("lab", "uplink", "--name", LAB, "jinan/up-mohrss", "up"))
    _wait_route("mohrss", "rt-2", "10.1.20.21", "10.255.0.6")


# ---------------------------------------------------------------- off-site backup
def _seed(db: str, host: str) -> None:
    must("jinan", host, "runuser -u postgres -- psql -XAtq -d " + db + " -c \""
         "CREATE TABLE IF NOT EXISTS jobseeker (id integer PRIMARY KEY, person text NOT NULL,"
         " district text NOT NULL); INSERT INTO jobseeker SELECT g, 'person-' || g, "
         f"'district-' || (g % 7) FROM generate_series(1, {ROWS}) g ON CONFLICT DO NOTHING\"")


def _copies() -> dict[str, str]:
    """Every off-site dump of Jinan on Shandong's backup server: path -> sha256."""
    out = must("shandong", "backup-1", f"find {OFFSITE} -name '*.dump' -type f -exec "
               "sha256sum {} +")
    return {line.split()[1]: line.split()[0] for line in out.splitlines() if line.strip()}


@functools.cache
def _tree():  # type: ignore[no-untyped-def]
    from pesdc.model import validate

    return validate([TREE]).topology


def _cut(ref: str) -> None:
    """An uplink cut at both ends at once, in this process (no command to start)."""
    from pesdc.lab.group import Group, find_link, set_uplink

    group = Group.load(LAB)
    assert group is not None
    set_uplink(group, find_link(_tree(), group, ref), up=False)


def _pull() -> subprocess.CompletedProcess[str]:
    return on("shandong", "backup-1", "runuser -u pesdc-backup -- "
              "/usr/local/sbin/pesdc-backup-pull", timeout=600)


def _offsite(tmp_path: Path, name: str) -> tuple[int, list[tuple[str, str, str]]]:
    xml = tmp_path / f"{name}.xml"
    res = pesdc("verify", TREE, "--dc", "shandong", "--lab", LAB, "--only", "offsite",
                "--junit", str(xml), timeout=600)
    assert "Traceback" not in res.stderr, res.stderr[-2000:]
    return res.returncode, junit(xml)


@pytest.fixture(scope="module")
def offsite(mct: str):  # type: ignore[no-untyped-def]
    """Jinan's database primaries applied (they authorize the province's pull key and
    admit its standbys) and seeded; then Shandong's databases (the standbys among them)
    and backup server, whose first backup pulls Jinan's over the uplink. The warehouse's
    two ends are applied by the Ansible engine first (the same roles), and the pyinfra
    run after it finds its standby already one."""
    limit = [a for h in JINAN_DBS.values() if h != "dw-1" for a in ("--limit", h)]
    ok(pesdc("apply", TREE, "--dc", "jinan", "--lab", LAB, *limit, timeout=1800))
    ok(pesdc("apply", TREE, "--dc", "jinan", "--lab", LAB, "--limit", "dw-1", "--engine",
             "ansible", timeout=1800))
    for db, host in JINAN_DBS.items():
        _seed(db, host)
    ok(pesdc("apply", TREE, "--dc", "shandong", "--lab", LAB, "--limit", "jn-dw-dr",
             "--engine", "ansible", timeout=1800))
    res = ok(pesdc("apply", TREE, "--dc", "shandong", "--lab", LAB, "--limit", "database",
                   "--limit", "backup-1", timeout=1800))
    # The standbys are not in the light member: said, and not run (nor counted).
    assert f"not in lab {member('shandong')} (kept light) and are not run" in res.stderr
    assert "misdb-2" in res.stderr
    ok(_pull())  # the next pull, as cron runs it (the apply took the first)


def test_jinans_databases_are_copied_off_site_and_restore(offsite, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rc, cases = _offsite(tmp_path, "offsite")
    assert rc == 0, cases
    # Per database: its dump (present, restores) and its standby (streaming, equal).
    assert len(cases) == 4 * len(JINAN_DBS) and all(k == "pass" for _, _, k in cases)
    for db in JINAN_DBS:
        assert any(n == f"off-site copy of jinan/{db} restores, table by table, equal to "
                   "its source" for _, n, _ in cases)
    # The copy holds the rows: read back on the backup server itself.
    out = must("shandong", "backup-1", f"ls -t {OFFSITE}/misdb/misdb-*.dump | head -1 | "
               "xargs pg_restore --data-only -f - | grep -c person-")
    assert int(out.strip()) == ROWS


def _count(center: str, host: str, db: str) -> int:
    return int(must(center, host, f"runuser -u postgres -- psql -XAtq -d {db} -c "
                    "'select count(*) from jobseeker'").strip())


def _write(db: str, first: int, n: int) -> None:
    must("jinan", JINAN_DBS[db], f"runuser -u postgres -- psql -XAtq -d {db} -c \""
         f"INSERT INTO jobseeker SELECT g, 'person-' || g, 'district-0' FROM "
         f"generate_series({first}, {first + n - 1}) g\"")


def _caught_up(db: str, timeout: float) -> float:
    """Seconds until the standby of ``db`` holds as many rows as its primary."""
    want, start = _count("jinan", JINAN_DBS[db], db), time.monotonic()
    while _count("shandong", f"jn-{db}-dr", db) != want:
        assert time.monotonic() - start < timeout, f"{db}: standby not caught up"
        time.sleep(0.2)
    return time.monotonic() - start


def test_jinans_primaries_stream_to_standbys_in_shandong(offsite, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rc, cases = _offsite(tmp_path, "standbys")
    assert rc == 0, cases
    seen = {n: k for _, n, k in cases}
    for db, host in JINAN_DBS.items():
        label = f"off-site standby of jinan/{host} ({db})"
        assert seen[f"{label} streaming"] == "pass"
        assert seen[f"{label} equal to its primary"] == "pass"
    # Real time: a row written in Jinan is in Shandong within the replay lag.
    for db in JINAN_DBS:
        assert _count("shandong", f"jn-{db}-dr", db) == ROWS
    _write("misdb", 10_000, 1)
    lag = _caught_up("misdb", 10)
    MEASURED["row_on_the_standby_s"] = round(lag, 2)
    print(f"a row written on jinan/misdb-1 is on shandong/jn-misdb-dr after {lag:.2f} s")
    # A standby is a copy: it takes no writes.
    res = on("shandong", "jn-misdb-dr", "runuser -u postgres -- psql -XAtq -d misdb -c "
             "\"INSERT INTO jobseeker VALUES (-1, 'x', 'y')\"")
    assert res.returncode != 0 and "read-only transaction" in res.stdout + res.stderr


def test_a_cut_uplink_goes_round_then_a_cut_city_fails_and_loses_nothing(  # type: ignore[no-untyped-def]
        offsite, tmp_path: Path) -> None:
    # The city-province uplink cut: the pull goes round through the ministry.
    ok(pesdc("lab", "uplink", "--name", LAB, "jinan/up-shandong", "down"))
    try:
        _wait_route("shandong", "rt-1", "10.1.11.11", "10.255.0.1")
        before = _copies()
        ok(_pull())
        assert len(_copies()) == len(before) + len(JINAN_DBS)
    finally:
        ok(pesdc("lab", "uplink", "--name", LAB, "jinan/up-shandong", "up"))
    _wait_route("shandong", "rt-2", "10.1.11.11", "10.255.0.10")

    # Both of the city's uplinks cut while a pull runs, the moment its first copy of
    # Jinan lands (watched from the host, in the server's overlay upper layer: a cut
    # made in a few milliseconds, before the next database's transfer is through).
    _tree()
    before = _copies()
    first = lab_dir(member("shandong")) / "nodes" / "backup-1" / "upper" / \
        OFFSITE.lstrip("/") / "misdb"
    seen = set(first.glob("misdb-*.dump"))
    run = subprocess.Popen(
        [*_exec_argv("shandong", "backup-1"), "runuser", "-u", "pesdc-backup", "--",
         "/usr/local/sbin/pesdc-backup-pull"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 120
        while time.monotonic() < end and run.poll() is None and \
                not set(first.glob("misdb-*.dump")) - seen:
            time.sleep(0.002)
        for up in ("jinan/up-shandong", "jinan/up-mohrss"):
            _cut(up)
        _out, err = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
    try:
        assert run.returncode == 1, err
        # Rows written in Jinan while it is cut off: its standbys keep what they had.
        kept = _count("shandong", "jn-misdb-dr", "misdb")
        _write("misdb", 20_000, 50)
        after = _copies()
        failed = [db for db in JINAN_DBS if f"{db} from {JINAN_DBS[db]}.jinan: FAILED" in err]
        assert failed, err  # the run says which copies it could not take, and why
        assert all("previous backup kept: " + db in err for db in failed), err
        # Nothing already copied is lost, nothing half-written is left.
        assert all(after.get(p) == h for p, h in before.items())
        parts = must("shandong", "backup-1", f"find {OFFSITE} -name '*.part' | wc -l")
        assert parts.strip() == "0"
        rc, cases = _offsite(tmp_path, "cut")
        assert rc == 1
        bad = {n for _, n, k in cases if k == "failure"}
        for db in failed:
            assert f"off-site copy of jinan/{db} present, current and its last run ok" in bad
        assert "off-site standby of jinan/misdb-1 (misdb) equal to its primary" in bad
        assert _count("shandong", "jn-misdb-dr", "misdb") == kept
    finally:
        for up in ("jinan/up-shandong", "jinan/up-mohrss"):
            ok(pesdc("lab", "uplink", "--name", LAB, up, "up"))
    _wait_route("shandong", "rt-2", "10.1.11.11", "10.255.0.10")
    # The standby catches up by itself (its WAL receiver reconnects), and so does the
    # next pull: a new copy of each, and verify passes again.
    took = _caught_up("misdb", 180)
    MEASURED["standby_caught_up_s"] = round(took, 1)
    print(f"jn-misdb-dr caught up {took:.1f} s after the uplinks came back")
    ok(_pull())
    final = _copies()
    for db in JINAN_DBS:
        assert sum(1 for p in final if p.startswith(f"{OFFSITE}/{db}/") and p not in after) \
            == 1, db
    rc, cases = _offsite(tmp_path, "caught-up")
    assert rc == 0 and all(k == "pass" for _, _, k in cases), cases


# ---------------------------------------------------------------- down
def test_zz_down_leaves_no_namespace(mct: str, tmp_path: Path) -> None:
    assert namespaces()
    ok(pesdc("lab", "down", "--name", LAB))
    assert namespaces() == []
    for name in (LAB, *(member(c) for c in CENTERS)):
        assert not lab_dir(name).exists(), name
    # The figures the README quotes, once the whole module measured them.
    if {"probes", "handshake_ms", "row_on_the_standby_s", "standby_caught_up_s"} <= \
            set(MEASURED):
        record("multicenter_lab.json", {
            "test": "tests/lab/test_multicenter.py", "lab": LAB, "centers": list(CENTERS),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "load_avg": round(os.getloadavg()[0], 2), **MEASURED,
            "figures": _figures()}, tmp_path)


def _figures() -> list[dict[str, object]]:
    """The rows of the README's table of figures (scripts/readme_figures.py) that the
    module measured; every one of them passed its test."""
    probes = MEASURED["probes"]
    shake = MEASURED["handshake_ms"]
    assert isinstance(probes, dict) and isinstance(shake, dict)
    return [
        {"what": "multi-center lab (jinan, shandong, mohrss): probes between the centers, "
                 "all as expected", "target": "",
         "measured": f"{probes['total']} probes, {probes['allowed']} allowed"},
        {"what": "mohrss to jinan, TCP handshake: direct (its 12 ms uplink) / through the "
                 "province", "target": "direct 11.5 to 16 ms",
         "measured": f"{shake['direct']} ms / {shake['through_the_province']} ms",
         "target_met": True},
        {"what": "a row written in jinan, on its standby in shandong", "target": "",
         "measured": f"{MEASURED['row_on_the_standby_s']} s"},
        {"what": "jinan's standby caught up once both uplinks are back", "target": "",
         "measured": f"{MEASURED['standby_caught_up_s']} s"}]
