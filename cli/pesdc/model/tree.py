"""The loaded national tree, fast lookups into each data center, the tier order and
the one way a command picks the center it works on (``Topology.pick_center``).

Every later stage (render, lab, provision, verify, audit, stages) reads a Topology; none
reads topology data from YAML again (a Locator only finds the lines diagnostics point at).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pesdc.model.diagnostics import N_, Diagnostic, Report, localized
from pesdc.model.netparse import network
from pesdc.model.schema import (
    DataCenter,
    Device,
    Link,
    Segment,
    Server,
    Site,
    SiteKind,
    System,
    Tier,
    Zone,
    ZoneKind,
)

CENTER = "center"  # the name a link uses for the data center end
# The tiers from the top of the tree down: listings follow it, a parent is one tier up.
TIERS = (Tier.ministry, Tier.province, Tier.city)


def parent_tier(tier: Tier) -> Tier | None:
    """The tier of a center's parent (none for the ministry)."""
    i = TIERS.index(tier)
    return TIERS[i - 1] if i else None


class CenterError(ValueError):
    """The center asked for cannot be chosen (the message lists the centers): ``str()``
    is English, :meth:`text` the message in another language of the catalog."""

    def __init__(self, template: str, **args: Any):
        super().__init__(template.format(**args))
        self.template, self.fields = template, args

    def text(self, lang: str = "en") -> str:
        return localized(lang, self.template, self.fields)


class DCIndex:
    """Name lookups for one data center, built once on first use."""

    def __init__(self, dc: DataCenter):
        self.dc = dc

    @cached_property
    def zones(self) -> dict[str, Zone]:
        return {z.name: z for z in self.dc.zones}

    @cached_property
    def segments(self) -> dict[str, Segment]:
        return {s.name: s for z in self.dc.zones for s in z.segments}

    @cached_property
    def segment_zone(self) -> dict[str, Zone]:
        return {s.name: z for z in self.dc.zones for s in z.segments}

    @cached_property
    def devices(self) -> dict[str, Device]:
        return {d.name: d for d in self.dc.devices}

    @cached_property
    def servers(self) -> dict[str, Server]:
        return {s.name: s for s in self.dc.servers}

    @cached_property
    def systems(self) -> dict[str, System]:
        return {s.name: s for s in self.dc.systems}

    @cached_property
    def sites(self) -> dict[str, Site]:
        return {s.name: s for s in self.dc.sites}

    @cached_property
    def links(self) -> dict[str, Link]:
        return {lk.name: lk for lk in self.dc.links}

    @cached_property
    def databases(self) -> dict[str, object]:
        return {d.name: d for d in self.dc.databases}

    @cached_property
    def uplinks(self) -> dict[str, object]:
        return {u.name: u for u in self.dc.uplinks}

    @cached_property
    def machine_rooms(self) -> dict[str, Site]:
        return {s.name: s for s in self.dc.sites if s.kind is SiteKind.agency_machine_room}

    def zones_of_kind(self, kind: ZoneKind) -> list[Zone]:
        return [z for z in self.dc.zones if z.kind is kind]

    def links_of(self, site_or_center: str) -> list[Link]:
        return [lk for lk in self.dc.links if site_or_center in (lk.a, lk.b)]

    def site_path_to_center(self, site: str) -> list[str]:
        """Site names from this site up its parent chain (stops at a loop)."""
        out: list[str] = []
        cur: str | None = site
        while cur is not None and cur in self.sites and cur not in out:
            out.append(cur)
            cur = self.sites[cur].parent
        return out

    def segment_network(self, name: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return network(self.segments[name].subnet)


@dataclass
class Topology:
    files: dict[str, Path] = field(default_factory=dict)
    datacenters: dict[str, DataCenter] = field(default_factory=dict)
    dc_file: dict[str, str] = field(default_factory=dict)
    # Names whose definitions failed the schema: references to them are not dangling.
    invalid_datacenters: set[str] = field(default_factory=set)
    invalid_items: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    # The centers of the file or folder a command was given when pesdc opened the whole
    # tree around it (empty: every center is in view). Only these are checked and
    # reported, and one of them alone is the center a command works on.
    focus: tuple[str, ...] = ()
    # Per center: the validated-model key (pesdc.model.modelcache) of the model it holds,
    # for a center whose file validated without a problem; the rule cache's key builds on it.
    cache_keys: dict[str, str] = field(default_factory=dict)
    _index: dict[str, DCIndex] = field(default_factory=dict, repr=False)

    def add(self, dc: DataCenter, file: str, report: Report) -> None:
        if dc.name in self.datacenters:
            report.add(Diagnostic.marked(
                "SCH004", N_("data center {name!r} is defined twice (also in {other})"), file,
                ("datacenter", "name"), N_("give each center a unique name"), name=dc.name,
                other=self.dc_file[dc.name]))
            return
        self.datacenters[dc.name] = dc
        self.dc_file[dc.name] = file

    def index(self, dc: DataCenter | str) -> DCIndex:
        name = dc if isinstance(dc, str) else dc.name
        if name not in self._index:
            self._index[name] = DCIndex(self.datacenters[name])
        return self._index[name]

    def is_invalid(self, dc: str, section: str, name: str) -> bool:
        return name in self.invalid_items.get(dc, {}).get(section, set())

    def in_tier_order(self) -> list[DataCenter]:
        """Every center in tier order (ministry, province, city), then by name."""
        return sorted(self.datacenters.values(), key=lambda dc: (TIERS.index(dc.tier), dc.name))

    def in_view(self) -> list[DataCenter]:
        """The centers in view (``focus``, else every one), in tier order."""
        return [dc for dc in self.in_tier_order() if not self.focus or dc.name in self.focus]

    def pick_center(self, name: str | None = None, tier: Tier | None = None) -> DataCenter:
        """The center a command works on: the one named; without a name, the center
        of the path when it names one (``focus``), else the only center of its own (not
        hosted), of ``tier`` when one is given.

        Raises :class:`CenterError`, listing the centers, when the name is unknown or
        when no name is given and not exactly one center is left to choose from."""
        in_view = self.in_view()
        names = ", ".join(dc.name for dc in in_view) or "(none)"
        if name is not None:
            if name not in self.datacenters:
                raise CenterError(N_("unknown data center: no data center named {name!r}; "
                                     "the path holds: {names}"), name=name, names=names)
            if self.focus and name not in self.focus:
                raise CenterError(N_("data center {name!r} is in the tree but not in the "
                                     "path given, which holds: {names}; give the tree's "
                                     "root to work on another center"),
                                  name=name, names=names)
            return self.datacenters[name]
        if len(self.focus) == 1 and in_view:
            return in_view[0]  # the path names this center: the command checks its tier
        own = [dc for dc in in_view if not dc.hosted and (tier is None or dc.tier is tier)]
        if len(own) == 1:
            return own[0]
        if own:
            raise CenterError(N_("the path holds several {tier} centers of their own; "
                                 "choose one with --dc NAME: {names}") if tier else
                              N_("the path holds several data centers of their own; "
                                 "choose one with --dc NAME: {names}"),
                              tier=tier.value if tier else "", names=names)
        raise CenterError(N_("the path holds no {tier} center of its own; choose one with "
                             "--dc NAME: {names}") if tier else
                          N_("the path holds no data center of its own; choose one with "
                             "--dc NAME: {names}"), tier=tier.value if tier else "", names=names)
