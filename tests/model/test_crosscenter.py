"""Between centers, on the example tree: an upper center's downlink is the far end of a
lower center's uplink; flows name servers of other centers; Jinan's misdb has its
off-site copy on Shandong's backup server and its off-site standby on a database server
there; and what does not hold is reported with the line to fix (NET005, XC001-XC003)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pesdc.backbone import neighbours, reachable
from pesdc.crosscenter import offsite_backups, offsite_standbys
from pesdc.model import validate
from pesdc.model.tree import Topology
from pesdc.policy import build
from tests.conftest import ROOT

TREE = ROOT / "topologies"


@pytest.fixture(scope="module")
def topo() -> Topology:
    res = validate([TREE])
    assert res.report.ok and not res.report.warnings, [d.format() for d in
                                                       res.report.diagnostics]
    return res.topology


def _edited(tmp_path: Path, file: str, old: str, new: str) -> Path:
    tree = tmp_path / "topologies"
    shutil.copytree(TREE, tree)
    p = tree / file
    text = p.read_text("utf-8")
    assert text.count(old) == 1, old
    p.write_text(text.replace(old, new), "utf-8")
    return tree


def test_a_downlink_is_the_far_end_of_the_citys_uplink(topo: Topology) -> None:
    shandong = topo.datacenters["shandong"]
    mirror = next(u for u in shandong.uplinks if u.downlink_of == "jinan/up-shandong")
    city = next(u for u in topo.datacenters["jinan"].uplinks if u.name == "up-shandong")
    assert (mirror.peer, mirror.kind, mirror.subnet) == ("jinan", city.kind, city.subnet)
    assert (mirror.local_address, mirror.peer_address) == (city.peer_address,
                                                           city.local_address)
    assert mirror.latency_ms == city.latency_ms and mirror.device == "rt-2"
    rt2 = next(d for d in shandong.devices if d.name == "rt-2")
    port = next(i for i in rt2.interfaces if i.downlink == "jinan/up-shandong")
    assert port.uplink == mirror.name and port.address == city.peer_address
    near = {n.center: (n.device.name, n.uplink, n.lower) for n in neighbours(topo, shandong)}
    assert near["jinan"] == ("rt-2", "up-shandong", "jinan")
    assert near["mohrss"] == ("rt-1", "up-mohrss", "shandong")


def test_the_ministry_reaches_a_city_directly_and_others_through_the_province(
        topo: Topology) -> None:
    assert reachable(topo, "mohrss", "jinan") == ["mohrss", "jinan"]  # 部-市直连
    assert reachable(topo, "zibo", "mohrss") == ["zibo", "shandong", "mohrss"]
    assert reachable(topo, "zibo", "heze") == ["zibo", "shandong", "heze"]


def test_an_uplink_without_its_upper_end_carries_nothing_and_is_named(tmp_path: Path
                                                                       ) -> None:
    tree = _edited(tmp_path, "shandong/shandong.yaml",
                   "        - {name: GigabitEthernet0/0/3, downlink: zibo/up-shandong}\n", "")
    res = validate([tree])
    assert reachable(res.topology, "zibo", "shandong") is None
    warn = [d for d in res.report.warnings if d.rule == "NET005"]
    assert len(warn) == 1 and warn[0].file.endswith("zibo.yaml") and warn[0].line > 0
    assert "downlink: zibo/up-shandong" in warn[0].hint
    # Shandong's flows still name Zibo's exchange platform: no path, so an error there.
    errors = [d for d in res.report.errors if d.rule == "XC001"]
    assert errors and all((d.file.endswith("shandong.yaml") and "zibo" in d.message + d.hint)
                          or "not joined" in d.message for d in errors)


def test_a_cross_center_flow_opens_the_far_servers_only(topo: Topology) -> None:
    jinan = build(topo, topo.datacenters["jinan"])
    rule = next(r for r in jinan.rules if r.name == "exchange-in")
    far = {s.address for c in ("shandong", "mohrss") for s in topo.datacenters[c].servers
           if s.zone == "exchange" and s.name.startswith(("dxp", "bus"))}
    assert {n.removesuffix("/32") for n in rule.src_nets} == far
    assert jinan.allows("private_network", "exchange", "tcp", 8443, "10.37.20.21", "10.1.20.21")
    # Another server of the province, or the province's whole zone, does not get in.
    assert not jinan.allows("private_network", "exchange", "tcp", 8443, "10.37.20.99",
                            "10.1.20.21")
    report = next(r for r in jinan.rules if r.name == "direct-report")
    assert "10.37.30.41/32" in report.dst_nets  # Shandong's statistics server (stat-1)


def test_jinans_databases_are_copied_off_site_to_shandong(topo: Topology) -> None:
    copies = offsite_backups(topo)
    assert [(c.db_center, c.database, c.primary, c.backup_center, c.backup_server, c.path)
            for c in copies] == [("jinan", db, f"{db}-1", "shandong", "backup-1",
                                  ("shandong", "jinan"))
                                 for db in ("misdb", "xregdb", "talentdb", "dw")]
    province = build(topo, topo.datacenters["shandong"])
    city = build(topo, topo.datacenters["jinan"])
    for c in copies:
        assert province.allows("mgmt", "private_network", "tcp", 22, c.backup_address,
                               c.primary_address)
        assert city.allows("private_network", c.primary_zone, "tcp", 22, c.backup_address,
                           c.primary_address)
        # Another server of the province may not: only the backup server pulls.
        assert not city.allows("private_network", c.primary_zone, "tcp", 22, "10.37.90.103",
                               c.primary_address)


def test_an_offsite_copy_that_a_center_does_not_admit_is_an_error_at_its_line(
        tmp_path: Path) -> None:
    tree = _edited(tmp_path, "shandong/shandong.yaml",
                   "           dst_remote: [jinan/misdb-1, jinan/xregdb-1, jinan/talentdb-1, "
                   "jinan/dw-1],",
                   "           dst_remote: [jinan/misdb-2, jinan/xregdb-1, jinan/talentdb-1, "
                   "jinan/dw-1],")
    res = validate([tree])
    errors = [d for d in res.report.errors if d.rule == "XC002"]
    assert len(errors) == 1, [d.format() for d in res.report.diagnostics]
    d = errors[0]
    assert d.file.endswith("jinan.yaml") and d.line > 0
    assert "shandong's isolation" in d.message and "tcp/22" in d.message
    assert "jinan/misdb" in d.hint and offsite_backups(res.topology)  # still resolves


def test_a_remote_side_that_is_not_the_private_network_is_an_error(tmp_path: Path) -> None:
    tree = _edited(tmp_path, "shandong/jinan.yaml",
                   "           src_systems: [statistics, market-monitoring], protocol: tcp, "
                   "ports: [8443],\n           dst_remote:",
                   "           src_systems: [statistics, market-monitoring], protocol: tcp, "
                   "ports: [8443],\n           src_remote: [shandong/stat-1],\n"
                   "           dst_remote:")
    res = validate([tree])
    errors = [d for d in res.report.errors if d.rule == "XC001"]
    assert len(errors) == 1 and "not jinan's private-network zone" in errors[0].message
    assert errors[0].file.endswith("jinan.yaml") and errors[0].line > 0


def test_jinans_primaries_stream_to_standbys_in_shandong(topo: Topology) -> None:
    standbys = offsite_standbys(topo)
    assert [(s.db_center, s.primary, s.databases, s.standby_center, s.standby_server,
             s.port, s.path) for s in standbys] == [
        ("jinan", f"{db}-1", (db,), "shandong", f"jn-{db}-dr", 5432, ("shandong", "jinan"))
        for db in ("misdb", "xregdb", "talentdb", "dw")]
    province = build(topo, topo.datacenters["shandong"])
    city = build(topo, topo.datacenters["jinan"])
    for s in standbys:
        assert province.allows(s.standby_zone, "private_network", "tcp", 5432,
                               s.standby_address, s.primary_address)
        assert city.allows("private_network", s.primary_zone, "tcp", 5432,
                           s.standby_address, s.primary_address)
        # Not another primary: the warehouse's standby does not reach misdb-1.
        other = next(o for o in standbys if o is not s)
        assert not city.allows("private_network", s.primary_zone, "tcp", 5432,
                               "10.37.11.11", s.primary_address)
        assert other.standby_address != s.standby_address


def test_an_offsite_standby_a_center_does_not_admit_is_an_error_at_its_line(
        tmp_path: Path) -> None:
    tree = _edited(tmp_path, "shandong/jinan.yaml",
                   "src_remote: [shandong/jn-dw-dr], protocol: tcp, ports: [5432],",
                   "src_remote: [shandong/jn-misdb-dr], protocol: tcp, ports: [5432],")
    res = validate([tree])
    errors = [d for d in res.report.errors if d.rule == "XC003"]
    assert len(errors) == 1, [d.format() for d in res.report.diagnostics]
    d = errors[0]
    assert d.file.endswith("jinan.yaml") and d.line > 0
    assert "jinan's isolation" in d.message and "tcp/5432 into zone decision" in d.message
    assert "shandong/jn-dw-dr and jinan/dw-1" in d.hint


@pytest.mark.parametrize(("old", "new", "says", "left"), [
    # a standby that serves the province's own database
    ("offsite_standby: {center: shandong, server: jn-dw-dr}",
     "offsite_standby: {center: shandong, server: dw-2}", "serves shandong's own dw", 3),
    # two primaries streaming to one server
    ("offsite_standby: {center: shandong, server: jn-xregdb-dr}",
     "offsite_standby: {center: shandong, server: jn-misdb-dr}", "already streams misdb-1", 2),
    # not PostgreSQL
    ('{name: dw, engine: postgresql, version: "15"', '{name: dw, engine: oracle, version: "15"',
     "streams PostgreSQL", 3),
])
def test_an_offsite_standby_that_cannot_stream_is_an_error(tmp_path: Path, old: str,
                                                           new: str, says: str, left: int
                                                           ) -> None:
    res = validate([_edited(tmp_path, "shandong/jinan.yaml", old, new)])
    errors = [d for d in res.report.errors if d.rule == "XC003"]
    assert len(errors) == 1 and says in errors[0].message, \
        [d.format() for d in res.report.diagnostics]
    assert errors[0].file.endswith("jinan.yaml") and errors[0].line > 0
    # The others still resolve (a server two primaries name streams neither).
    assert len(offsite_standbys(res.topology)) == left
