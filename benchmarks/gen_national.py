#!/usr/bin/env python3
"""Generate a national-scale pesdc topology tree (deterministic, validates clean).

    python benchmarks/gen_national.py --out benchmarks/out/national [--scale 1.0] [--seed 1]

Shape at --scale 1.0: 1 ministry, 31 provinces, 333 cities (about 10 of them hosted by
their province, the rest full city centers at stage 1, 2 or 3), about 2,800 district
agencies and about 40,000 street and community stations, plus horizontal institutions
and machine rooms. --scale multiplies the number of districts per city (and so every
site below them); the centers stay 1 + 31 + 333.

Layout: OUT/defaults.yaml (tree defaults), OUT/mohrss/mohrss.yaml, and per province
OUT/<province>/<province>.yaml plus one file per city (some provinces add a folder
defaults.yaml for another switch vendor).

Address plan (nothing overlaps anywhere in the tree, which ADDR001 checks):
    10.0.0.0/16        ministry segments (10.0.S.0/24)
    10.P.0.0/16        province P (1..31) center segments (10.P.S.0/24)
    10.64.0.0/10       city center segments: one /21 per city (8 x /24)
    100.64.0.0/10      site LANs (district/street/room /26, community/institution /27),
                       overflowing into 10.128.0.0/10 at large scales
    172.16.0.0/12      municipal links, one /30 each, overflowing into 10.192.0.0/10
    198.18.0.0/15      uplinks (/30 each; not part of ADDR001, kept apart anyway)
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import re
import shutil
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# (name, zh, division code prefix, number of cities). 333 cities in all; the four
# municipalities get one city center each (their urban districts).
PROVINCES: list[tuple[str, str, str, int]] = [
    ("beijing", "北京市", "11", 1), ("tianjin", "天津市", "12", 1),
    ("hebei", "河北省", "13", 11), ("shanxi", "山西省", "14", 11),
    ("neimenggu", "内蒙古自治区", "15", 12), ("liaoning", "辽宁省", "21", 14),
    ("jilin", "吉林省", "22", 9), ("heilongjiang", "黑龙江省", "23", 13),
    ("shanghai", "上海市", "31", 1), ("jiangsu", "江苏省", "32", 13),
    ("zhejiang", "浙江省", "33", 11), ("anhui", "安徽省", "34", 15),
    ("fujian", "福建省", "35", 9), ("jiangxi", "江西省", "36", 11),
    ("shandong", "山东省", "37", 16), ("henan", "河南省", "41", 16),
    ("hubei", "湖北省", "42", 13), ("hunan", "湖南省", "43", 14),
    ("guangdong", "广东省", "44", 20), ("guangxi", "广西壮族自治区", "45", 14),
    ("hainan", "海南省", "46", 4), ("chongqing", "重庆市", "50", 1),
    ("sichuan", "四川省", "51", 20), ("guizhou", "贵州省", "52", 9),
    ("yunnan", "云南省", "53", 16), ("xizang", "西藏自治区", "54", 7),
    ("shaanxi", "陕西省", "61", 10), ("gansu", "甘肃省", "62", 14),
    ("qinghai", "青海省", "63", 8), ("ningxia", "宁夏回族自治区", "64", 5),
    ("xinjiang", "新疆维吾尔自治区", "65", 14),
]
assert sum(p[3] for p in PROVINCES) == 333
H3C_PROVINCES = {"zhejiang", "fujian", "gansu", "xinjiang"}  # folder defaults.yaml
HOSTED_CITIES = 10

# Center segments: (name, zone, vlan); index = third octet offset inside the block.
SEGMENTS = [
    ("dmz", "internet", 5), ("prod-app", "production", 10), ("prod-db", "production", 11),
    ("exch", "exchange", 20), ("dec", "decision", 30), ("mgmt", "secmgmt", 90),
    ("transit", "private", 100),
]
ZONES = [
    ("internet", "internet", "互联网接入区", "Internet access area"),
    ("production", "production", "生产区", "Production zone"),
    ("exchange", "exchange", "交换区", "Exchange zone"),
    ("decision", "decision", "决策区", "Decision zone"),
    ("secmgmt", "security_management", "安全管理中心", "Security management center"),
    ("private", "private_network", "业务专网接入区", "Business private network access"),
]
HORIZONTAL = ["job_agency", "training_institution", "entrepreneurship_agency",
              "skill_appraisal_center", "social_insurance_agency", "labor_inspection"]


# --------------------------------------------------------------------------- YAML out

_PLAIN = re.compile(r"^(?:[A-Za-z][A-Za-z0-9_.\-]*|[0-9]+(?:\.[0-9]+){3}(?:/[0-9]+)?)$")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return f"{v:g}" if isinstance(v, float) else str(v)
    if v is None:
        return "null"
    s = str(v)
    if _PLAIN.match(s) and s.lower() not in _RESERVED:
        return s
    return json.dumps(s, ensure_ascii=False)


def flow(v: Any) -> str:
    """A YAML flow-style rendering (one line) of plain data."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(flow(x) for x in v) + "]"
    return scalar(v)


def block_list(key: str, items: Iterable[dict[str, Any]], indent: str = "  ") -> list[str]:
    rows = [f"{indent}- {flow(it)}" for it in items]
    if not rows:
        return []
    return [f"{indent}{key}:", *rows]


# --------------------------------------------------------------------------- addresses

class Pool:
    """Bump allocator of aligned blocks over a list of address ranges."""

    def __init__(self, *nets: str):
        self.ranges = [ipaddress.ip_network(n) for n in nets]
        self.i = 0
        self.cur = int(self.ranges[0].network_address)

    def take(self, prefixlen: int) -> ipaddress.IPv4Network:
        size = 1 << (32 - prefixlen)
        while True:
            r = self.ranges[self.i]
            start = (self.cur + size - 1) // size * size
            if start + size <= int(r.broadcast_address) + 1:
                self.cur = start + size
                return ipaddress.IPv4Network((start, prefixlen))
            self.i += 1
            if self.i >= len(self.ranges):
                raise SystemExit("address pool exhausted: lower --scale")
            self.cur = int(self.ranges[self.i].network_address)


def host(net: ipaddress.IPv4Network, n: int) -> str:
    return str(net.network_address + n)


# --------------------------------------------------------------------------- centers

@dataclass
class Counts:
    centers: int = 0
    hosted: int = 0
    sites: dict[str, int] = field(default_factory=dict)
    links: int = 0
    servers: int = 0
    devices: int = 0
    files: int = 0
    bytes: int = 0

    def site(self, kind: str) -> None:
        self.sites[kind] = self.sites.get(kind, 0) + 1


def center_body(base: ipaddress.IPv4Address, tier: str, uplink: dict[str, Any] | None,
                counts: Counts, room: tuple[str, ipaddress.IPv4Network] | None = None,
                stage: int | None = None, downlinks: Iterable[str] = ()) -> list[str]:
    """Zones, isolation, devices, servers, databases, systems of one full center.

    ``base`` is the first address of the center's 8 x /24 block; ``downlinks`` are the
    ``lower/uplink`` references of the centers below that uplink to this one: rt-1 gets
    an interface for each (the upper end NET005 looks for).
    """
    seg = {name: ipaddress.IPv4Network((int(base) + 256 * i, 24))
           for i, (name, _, _) in enumerate(SEGMENTS)}
    out: list[str] = ["  zones:"]
    for zname, kind, zh, en in ZONES:
        out.append(f"    - name: {zname}")
        out.append(f"      kind: {kind}")
        out.append(f"      title: {flow({'zh': zh, 'en': en})}")
        out.append("      segments:")
        for sname, z, vlan in SEGMENTS:
            if z == zname:
                n = seg[sname]
                out.append("        - " + flow({"name": sname, "subnet": str(n),
                                                "gateway": host(n, 1), "vlan": vlan}))

    fws = ["fw-1", "fw-2"]
    city_like = tier != "ministry"
    iso: list[dict[str, Any]] = [
        {"between": ["internet", "exchange"], "type": "firewall", "enforced_by": fws,
         "flows": [{"src": "internet", "dst": "exchange", "protocol": "tcp", "ports": [443],
                    "dst_systems": ["website"]},
                   {"src": "internet", "dst": "exchange", "protocol": "udp", "ports": [5060],
                    "dst_systems": ["phone"]}]},
        {"between": ["exchange", "production"], "type": "gatekeeper",
         "direction": "exchange->production", "enforced_by": ["gk-1"],
         "flows": [{"src": "exchange", "dst": "production", "protocol": "tcp",
                    "ports": [8080], "src_systems": ["exchange"],
                    "dst_systems": ["pes-mis" if city_like else "xregion"]}]},
        {"between": ["production", "decision"], "type": "firewall", "enforced_by": fws,
         "flows": [{"src": "decision", "dst": "production", "protocol": "tcp",
                    "ports": [5432]}]},
        {"between": ["exchange", "decision"], "type": "firewall", "enforced_by": fws,
         "flows": [{"src": "exchange", "dst": "decision", "protocol": "tcp",
                    "ports": [5236]}]},
        {"between": ["internet", "production"], "type": "physical"},
        {"between": ["internet", "decision"], "type": "physical"},
        {"between": ["internet", "secmgmt"], "type": "physical"},
        {"between": ["private", "production"], "type": "firewall", "enforced_by": fws,
         "flows": [{"src": "private", "dst": "production", "protocol": "tcp",
                    "ports": [8080], "dst_systems": ["pes-mis" if city_like else "xregion"]}]},
        {"between": ["private", "exchange"], "type": "firewall", "enforced_by": fws,
         "flows": [{"src": "private", "dst": "exchange", "protocol": "tcp", "ports": [9000],
                    "dst_systems": ["exchange"]}]},
    ]
    for z in ("production", "exchange", "decision"):
        iso.append({"between": ["secmgmt", z], "type": "firewall", "enforced_by": fws,
                    "flows": [{"src": "secmgmt", "dst": z, "protocol": "tcp",
                               "ports": [22, 161]},
                              {"src": z, "dst": "secmgmt", "protocol": "udp",
                               "ports": [514, 123]}]})
    out.append("  isolation:")
    for it in iso:
        out.append("    - " + flow(it))

    mg = seg["mgmt"]
    devices: list[dict[str, Any]] = []
    for i, name in enumerate(("core-1", "core-2")):
        devices.append({"name": name, "kind": "core_switch", "mgmt": host(mg, 20 + i),
                        "redundancy": "core-2" if i == 0 else "core-1",
                        "interfaces": [{"name": f"Vlanif{v}", "segment": s}
                                       for s, _, v in SEGMENTS]})
    for i, name in enumerate(fws):
        itfs: list[dict[str, Any]] = [
            {"name": f"GE1/0/{j}", "segment": s, "address": host(seg[s], 2 + i),
             "vrrp_group": j + 1, "vrrp_priority": 120 - 20 * i}
            for j, (s, _, _) in enumerate(SEGMENTS)]
        itfs.append({"name": "GE1/0/9", "peer": fws[1 - i]})
        devices.append({"name": name, "kind": "firewall", "border": True,
                        "mgmt": host(mg, 22 + i), "redundancy": fws[1 - i],
                        "interfaces": itfs})
    for i, name in enumerate(("rt-1", "rt-2")):
        itfs = [{"name": "GE0/0/0", "segment": "transit",
                 "address": host(seg["transit"], 4 + i)}]
        if uplink is not None and i == 0:
            itfs.append({"name": "GE0/0/1", "uplink": uplink["name"],
                         "address": uplink["local_address"]})
        if i == 0:
            itfs += [{"name": f"GE0/1/{k}", "downlink": ref}
                     for k, ref in enumerate(downlinks)]
        devices.append({"name": name, "kind": "router", "mgmt": host(mg, 24 + i),
                        "interfaces": itfs, "ospf": {"router_id": host(mg, 24 + i)}})
    devices.append({"name": "gk-1", "kind": "gatekeeper", "mgmt": host(mg, 26),
                    "interfaces": [
                        {"name": "eth0", "segment": "exch", "address": host(seg["exch"], 4)},
                        {"name": "eth1", "segment": "prod-app",
                         "address": host(seg["prod-app"], 4)}]})
    devices.append({"name": "ids-1", "kind": "ids", "mgmt": host(mg, 27)})
    devices.append({"name": "audit-1", "kind": "log_audit", "mgmt": host(mg, 28)})
    devices.append({"name": "dbaudit-1", "kind": "db_audit", "mgmt": host(mg, 29)})
    counts.devices += len(devices)
    out += block_list("devices", devices)

    servers: list[dict[str, Any]] = []
    nxt: dict[str, int] = {}

    def srv(name: str, roles: list[str], segment: str, **extra: Any) -> None:
        n = nxt.get(segment, 100 if segment == "mgmt" else 10)
        nxt[segment] = n + 1
        zone = next(z for s, z, _ in SEGMENTS if s == segment)
        servers.append({"name": name, "roles": roles, "zone": zone, "segment": segment,
                        "address": host(seg[segment], n), **extra})

    srv("rproxy-1", ["web"], "dmz")
    for name in ("web-1", "web-2"):
        srv(name, ["web"], "exch")
    srv("phone-1", ["appserver"], "exch")
    for name in ("xchg-1", "xchg-2"):
        srv(name, ["appserver"], "exch")
    if city_like:
        for name in ("mis-1", "mis-2", "mis-3"):
            srv(name, ["appserver"], "prod-app")
        srv("fund-1", ["appserver"], "prod-app")
    srv("xreg-1", ["appserver"], "prod-app")
    for name in ("db-1", "db-2", "db-3"):
        srv(name, ["database"], "prod-db")
    for name in ("dss-1", "dss-2"):
        srv(name, ["appserver"], "dec")
    for name in ("dw-1", "dw-2"):
        srv(name, ["database"], "dec")
    srv("stat-1", ["appserver"], "dec")
    srv("log-1", ["logserver"], "mgmt")
    srv("ntp-1", ["timesource"], "mgmt")
    srv("bastion-1", ["bastion"], "mgmt")
    srv("backup-1", ["backup"], "mgmt")
    srv("av-1", ["antivirus"], "mgmt")
    srv("mon-1", ["monitoring"], "mgmt")
    if tier == "city" and stage == 3:
        srv("talent-1", ["appserver"], "prod-app")
    if room is not None:
        name = "room-app-1" if stage == 1 else "talent-1"
        servers.append({"name": name, "roles": ["appserver"], "zone": "production",
                        "location": room[0], "address": host(room[1], 10)})
    counts.servers += len(servers)
    out += block_list("servers", servers)

    dbs: list[dict[str, Any]] = [
        {"name": "misdb", "primary": "db-1", "standby": "db-2", "backup_target": "backup-1"},
        {"name": "funddb", "primary": "db-3", "standby": "db-2", "backup_target": "backup-1",
         "engine": "kingbase", "port": 54321},
        {"name": "dwdb", "primary": "dw-1", "standby": "dw-2", "backup_target": "backup-1",
         "engine": "dameng", "port": 5236},
    ]
    out += block_list("databases", dbs)

    systems: list[dict[str, Any]] = [
        {"name": "website", "kind": "employment_website", "public": True,
         "servers": ["rproxy-1", "web-1", "web-2"], "ports": [{"port": 443}]},
        {"name": "phone", "kind": "phone_consultation", "public": True,
         "servers": ["phone-1"], "ports": [{"port": 5060, "protocol": "udp"}]},
        {"name": "exchange", "kind": "data_exchange", "servers": ["xchg-1", "xchg-2"],
         "ports": [{"port": 9000}]},
        {"name": "xregion", "kind": "cross_region_service" if city_like
         else "cross_region_bus", "servers": ["xreg-1"], "ports": [{"port": 8080}]},
        {"name": "dss", "kind": "decision_support", "servers": ["dss-1", "dss-2"],
         "database": "dwdb", "ports": [{"port": 8443}]},
        {"name": "stats", "kind": "statistics_reports", "servers": ["stat-1"],
         "ports": [{"port": 8080}]},
        {"name": "netmon", "kind": "network_monitoring", "servers": ["mon-1"],
         "ports": [{"port": 443}]},
    ]
    if city_like:
        systems[3:3] = [
            {"name": "pes-mis", "kind": "pes_mis", "servers": ["mis-1", "mis-2", "mis-3"],
             "database": "misdb", "ports": [{"port": 8080}]},
            {"name": "fund", "kind": "fund_supervision", "servers": ["fund-1"],
             "database": "funddb", "ports": [{"port": 8443}]},
        ]
    if tier == "city" and stage == 3:
        systems.append({"name": "talent", "kind": "talent_legacy", "owner": "talent_center",
                        "servers": ["talent-1"], "ports": [{"port": 8080}]})
    elif room is not None:
        if stage == 1:
            systems.append({"name": "district-mis", "kind": "other",
                            "servers": ["room-app-1"], "ports": [{"port": 8080}]})
        else:
            systems.append({"name": "talent", "kind": "talent_legacy",
                            "owner": "talent_center", "servers": ["talent-1"],
                            "ports": [{"port": 8080}]})
    out += block_list("systems", systems)
    return out


def municipal(rng: random.Random, scale: float, sites_pool: Pool, links_pool: Pool,
              counts: Counts, room: tuple[str, str] | None
              ) -> tuple[list[str], ipaddress.IPv4Network | None]:
    """Sites and links of one city: districts, streets, communities, institutions.

    Returns the YAML lines and the subnet of the machine room (if asked for one).
    """
    sites: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []

    def add(name: str, kind: str | None, prefix: int, parent: str | None,
            bw: float | None, **extra: Any) -> ipaddress.IPv4Network:
        net = sites_pool.take(prefix)
        s: dict[str, Any] = {"name": name}
        if kind is not None:  # None: the file's default kind (community_station)
            s["kind"] = kind
        if parent:
            s["parent"] = parent
        s["subnet"] = str(net)
        s["router"] = host(net, 1)
        share = extra.pop("share", False)
        if share:
            s["shares_premises_with_social_insurance"] = True
        s.update(extra)
        sites.append(s)
        counts.site(kind or "community_station")
        lk: dict[str, Any] = {"name": f"l-{name}", "a": parent or "center", "b": name}
        if bw is not None:
            lk["bandwidth_mbps"] = bw
        lk["subnet"] = str(links_pool.take(30))
        if share:
            lk["shared_with_social_insurance"] = True
        links.append(lk)
        return net

    n_districts = max(1, round(rng.randint(5, 12) * scale))
    for d in range(1, n_districts + 1):
        dn = f"d{d}"
        add(dn, "district_agency", 26, None, 100, share=rng.random() < 0.2)
        for s in range(1, rng.randint(2, 4) + 1):
            sn = f"{dn}-s{s}"
            add(sn, "street_station", 26, dn, 50)
            for c in range(1, rng.choice((3, 3, 4, 4, 5)) + 1):
                add(f"{sn}-c{c}", None, 27, sn, None)
    for kind in rng.sample(HORIZONTAL, rng.randint(3, 5)):
        add(kind.replace("_", "-"), kind, 27, None, 50)
    room_net = None
    if room is not None:
        name, owner = room
        room_net = add(name, "agency_machine_room", 26, None, 1000, owner=owner)
    counts.links += len(links)
    return block_list("sites", sites) + block_list("links", links), room_net


def header(name: str, tier: str, code: str, zh: str, en: str, parent: str | None = None,
           hosted_by: str | None = None, stage: int | None = None) -> list[str]:
    out = ["datacenter:", f"  name: {name}", f"  tier: {tier}",
           f'  division_code: "{code}"']
    if parent:
        out.append(f"  parent: {parent}")
    if hosted_by:
        out.append(f"  hosted_by: {hosted_by}")
    if stage is not None:
        out.append(f"  stage: {stage}")
    out.append(f"  title: {flow({'zh': zh, 'en': en})}")
    return out


TREE_DEFAULTS = """\
# Tree-level defaults: what every center of the national tree shares.
defaults:
  devices:
    all: {location: datacenter}
    kinds:
      core_switch: {platform: huawei_vrp, model: CE12808}
      firewall: {platform: huawei_usg, model: USG6650E}
      router: {platform: huawei_vrp, model: NE40E-X8}
      gatekeeper: {platform: linux, model: NetGap-2000}
      ids: {platform: linux, model: NIP6000}
      log_audit: {platform: linux, model: LA-3000}
      db_audit: {platform: linux, model: DBA-3000}
  servers:
    all: {os: debian, os_release: bookworm}
    roles:
      database: {os: rhel, os_release: openEuler-22.03}
  links:
    all: {bandwidth_mbps: 20, latency_ms: 3, encryption: sm_vpn}
"""

PROVINCE_DEFAULTS = """\
# This province buys H3C switching: applies to every center in this folder.
defaults:
  devices:
    kinds:
      core_switch: {platform: h3c_comware, model: S12508G-AF}
      router: {platform: h3c_comware, model: MSR5680}
"""

CITY_DEFAULTS = """\
defaults:
  sites:
    all: {kind: community_station}
  links:
    all: {bandwidth_mbps: 10, latency_ms: LAT}
"""


def generate(out: Path, scale: float = 1.0, seed: int = 1) -> Counts:
    rng = random.Random(seed)
    counts = Counts()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    sites_pool = Pool("100.64.0.0/10", "10.128.0.0/10")
    links_pool = Pool("172.16.0.0/12", "10.192.0.0/10")
    uplink_pool = Pool("198.18.0.0/15")

    def write(path: Path, lines: list[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = ("\n".join(lines) + "\n").encode("utf-8")
        path.write_bytes(data)
        counts.files += 1
        counts.bytes += len(data)

    write(out / "defaults.yaml", TREE_DEFAULTS.splitlines())

    # Which cities are hosted by their province: never a province's first city. Drawn
    # before the ministry is written (it draws nothing) so the upper ends are known.
    candidates = [(p, c) for p, (_, _, _, n) in enumerate(PROVINCES) for c in range(2, n + 1)]
    hosted = set(rng.sample(candidates, HOSTED_CITIES))

    lines = header("mohrss", "ministry", "100000", "人力资源社会保障部数据中心",
                   "MOHRSS data center")
    lines += center_body(ipaddress.IPv4Address("10.0.0.0"), "ministry", None, counts,
                         downlinks=[f"{p[0]}/to-ministry" for p in PROVINCES])
    write(out / "mohrss" / "mohrss.yaml", lines)
    counts.centers += 1

    city_index = 0
    for p, (pname, pzh, pcode, n_cities) in enumerate(PROVINCES):
        folder = out / pname
        if pname in H3C_PROVINCES:
            write(folder / "defaults.yaml", PROVINCE_DEFAULTS.splitlines())
        up = uplink_pool.take(30)
        uplink = {"name": "to-ministry", "kind": "province_ministry", "peer": "mohrss",
                  "bandwidth_mbps": 1000, "subnet": str(up), "local_address": host(up, 1),
                  "peer_address": host(up, 2), "device": "rt-1"}
        lines = header(pname, "province", f"{pcode}0000", f"{pzh}人社数据中心",
                       f"{pname.capitalize()} provincial HRSS data center", parent="mohrss")
        lines += center_body(ipaddress.IPv4Address(f"10.{p + 1}.0.0"), "province", uplink,
                             counts, downlinks=[f"{pname}-{c:02d}/to-province"
                                                for c in range(1, n_cities + 1)
                                                if (p, c) not in hosted])
        lines += block_list("uplinks", [uplink])
        write(folder / f"{pname}.yaml", lines)
        counts.centers += 1

        for c in range(1, n_cities + 1):
            cname = f"{pname}-{c:02d}"
            code = f"{pcode}{c:02d}00"
            zh, en = f"{pzh}第{c}市人社数据中心", f"{pname.capitalize()} city {c}"
            lat = rng.choice((3, 4, 5, 6))
            lines = CITY_DEFAULTS.replace("LAT", str(lat)).splitlines()
            if (p, c) in hosted:
                lines += header(cname, "city", code, zh, en + " (hosted by the province)",
                                parent=pname, hosted_by=pname)
                lines += municipal(rng, scale, sites_pool, links_pool, counts, None)[0]
                counts.hosted += 1
            else:
                stage = rng.choices((1, 2, 3), weights=(25, 45, 30))[0]
                room = None
                if stage == 1:
                    room = ("room-emp", "employment_center")
                elif stage == 2:
                    room = ("room-talent", "talent_center")
                lines += header(cname, "city", code, zh, en + " HRSS data center",
                                parent=pname, stage=stage)
                muni, room_net = municipal(rng, scale, sites_pool, links_pool, counts, room)
                up = uplink_pool.take(30)
                uplink = {"name": "to-province", "kind": "city_province", "peer": pname,
                          "bandwidth_mbps": rng.choice((100, 200, 500)), "subnet": str(up),
                          "local_address": host(up, 1), "peer_address": host(up, 2),
                          "device": "rt-1"}
                base = ipaddress.IPv4Address(int(ipaddress.IPv4Address("10.64.0.0"))
                                             + city_index * 2048)
                lines += center_body(base, "city", uplink, counts,
                                     (room[0], room_net) if room and room_net else None, stage)
                lines += muni
                lines += block_list("uplinks", [uplink])
            city_index += 1
            write(folder / f"{cname}.yaml", lines)
            counts.centers += 1
    manifest = {"scale": scale, "seed": seed, **asdict(counts),
                "sites_total": sum(counts.sites.values())}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return counts


def summary(counts: Counts) -> str:
    sites = sum(counts.sites.values())
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(counts.sites.items()))
    return (f"{counts.centers} centers ({counts.hosted} hosted cities), {sites} sites "
            f"({kinds}), {counts.links} links, {counts.servers} servers, "
            f"{counts.devices} devices, {counts.files} files, "
            f"{counts.bytes / 1e6:.1f} MB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder to (re)create")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiplies the districts (and sites) per city (default 1.0)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = ap.parse_args(argv)
    if args.scale <= 0:
        ap.error("--scale must be positive")
    counts = generate(args.out, args.scale, args.seed)
    print(summary(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
