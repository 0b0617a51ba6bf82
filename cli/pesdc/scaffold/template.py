"""The center file's text: the bundled template (templates/scaffold/center.yaml.j2)
filled with a plan, for a city or a province.

Everything put into the text is an identifier (checked first), a number or an address
computed here; the free-text titles go through ``q``, a JSON string, which YAML reads
back as the same text (and SCH005 judges it like any other title).
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from jinja2 import Environment, StrictUndefined

from pesdc.scaffold.allocate import Net, host
from pesdc.scaffold.conventions import Conventions, LinkHabit

# (segment key, third octet of its /24 in the block, VLAN): the example tree's layout.
SEGMENTS = [("dmz", 0, 5), ("app", 10, 10), ("db", 11, 11), ("exch", 20, 20),
            ("dec", 30, 30), ("mgmt", 90, 90), ("transit", 99, 99)]
DISTRICTS = 2  # placeholder district agencies of the municipal network


@dataclass
class UplinkPlan:
    name: str
    kind: str  # city_province or province_ministry
    subnet: Net
    bandwidth_mbps: float
    latency_ms: float
    encryption: str

    @property
    def peer_address(self) -> str:
        return host(self.subnet, 1)  # the upper center takes the first host

    @property
    def local_address(self) -> str:
        return host(self.subnet, 2)


@dataclass
class CenterPlan:
    tier: str  # city or province
    name: str
    code: str
    parent: str
    stage: int | None
    title_zh: str
    title_en: str
    block: Net
    uplink: UplinkPlan
    conv: Conventions
    sites: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    # A province's flows name its ministry's systems: exchange and report (联网直报).
    remote: dict[str, list[str]] = field(default_factory=dict)
    router_group: str | None = None
    # Gear the tree's defaults give no platform and model: written as Linux appliances.
    explicit: set[str] = field(default_factory=set)

    @property
    def zone_keys(self) -> list[str]:
        """The zones of the tier: a province serves no internet area here."""
        keys = ["internet", "production", "exchange", "decision", "mgmt", "pn"]
        return keys if self.tier == "city" else keys[1:]

    @property
    def segments(self) -> list[tuple[str, int, int]]:
        return [s for s in SEGMENTS if self.tier == "city" or s[0] != "dmz"]

    def ip(self, third: int, fourth: int) -> str:
        return host(self.block, third * 256 + fourth)


def municipal(plan: CenterPlan) -> None:
    """Placeholder district agencies (router rt-1) and the social insurance agency
    (rt-2), each on a /30 of the links /24, as the example's cities number them."""
    links_net = ipaddress.IPv4Network(f"{plan.ip(250, 0)}/24")
    rows: list[tuple[str, str, str, str, str, str, LinkHabit]] = []
    for k in range(1, DISTRICTS + 1):
        rows.append((f"district-{k}", "district_agency", f"区县公共就业服务机构{k}(待命名)",
                     f"District agency {k} (to be named)", f"{plan.ip(100 + k, 0)}/26",
                     "rt-1", plan.conv.district_link))
    rows.append(("social-insurance", "social_insurance_agency", "社会保险经办机构(待命名)",
                 "Social insurance agency (to be named)", f"{plan.ip(120, 0)}/27", "rt-2",
                 plan.conv.horizontal_link))
    for i, (name, kind, zh, en, subnet, router, habit) in enumerate(rows):
        lan = ipaddress.IPv4Network(subnet)
        plan.sites.append({"name": name, "kind": kind, "zh": zh, "en": en,
                           "subnet": subnet, "router": host(lan, 1)})
        p2p = list(links_net.subnets(new_prefix=30))[i]
        plan.links.append({"name": f"l-{name}", "site": name, "attrs": habit.attrs,
                           "subnet": str(p2p), "a_address": host(p2p, 1),
                           "b_address": host(p2p, 2), "router": router})


def _env() -> Environment:
    env = Environment(undefined=StrictUndefined, keep_trailing_newline=True,
                      autoescape=False)
    env.filters["q"] = lambda s: json.dumps(str(s), ensure_ascii=False)
    return env


def center_text(plan: CenterPlan) -> str:
    source = (files("pesdc") / "templates" / "scaffold" / "center.yaml.j2").read_text(
        encoding="utf-8")
    return _env().from_string(source).render(
        tier=plan.tier, zone_keys=plan.zone_keys, remote=plan.remote,
        router_group=plan.router_group, explicit=plan.explicit,
        name=plan.name, code=plan.code, parent=plan.parent, stage=plan.stage,
        title_zh=plan.title_zh, title_en=plan.title_en, block=plan.block, ip=plan.ip,
        zone=plan.conv.zone, seg=plan.conv.seg, segments=plan.segments, port=plan.conv.port(),
        up=plan.uplink, sites=plan.sites, links=plan.links)
