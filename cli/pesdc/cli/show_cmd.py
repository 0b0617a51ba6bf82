"""pesdc show: every data center of a tree as tables, in tier order."""

from __future__ import annotations

import sys
from collections import Counter
from enum import Enum
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pesdc.cli.common import TerminalConsole, defaults_applied, load_or_exit, pick_center
from pesdc.formats import format_option
from pesdc.i18n import LANGS, label
from pesdc.model.schema import DataCenter, Encryption, Segment, SiteKind
from pesdc.model.tree import DCIndex, Topology


def _t(value: object, style: str | None = None) -> Text:
    """A cell as plain text (never rich markup: names may hold brackets)."""
    if value is None or value == "":
        return Text("-", style="dim")
    return Text(str(value), style=style or "")


class _Show:
    def __init__(self, console: Console, topology: Topology, lang: str,
                 defaults: dict[str, list[str]] | None = None):
        self.out = console
        self.topology = topology
        self.lang = lang
        # Per center, the defaults files applied to it, in order (from the loader).
        self.defaults = defaults or {}

    def L(self, key: Enum | str) -> str:
        return label(key, self.lang)

    def table(self, title: str, *columns: str) -> Table:
        t = Table(title=title, title_justify="left", title_style="bold",
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for col in columns:
            t.add_column(col, overflow="fold")
        return t

    def yes(self, flag: bool) -> Text:
        return _t(self.L("yes"), "bold") if flag else _t(self.L("no"), "dim")

    def empty(self, heading: str) -> None:
        self.out.print(Text(f"{heading}: {self.L('none')}", style="dim"))

    # ------------------------------------------------------------------ sections

    def center(self, dc: DataCenter) -> None:
        ix = self.topology.index(dc)
        self.header(dc)
        if dc.hosted:
            host = self.topology.datacenters.get(dc.hosted_by or "")
            where = str(dc.hosted_by)
            if host is not None:
                where += f" ({host.title.zh if self.lang == 'zh' else host.title.en})"
            note = (f"{self.L('hosted note')}: {where}" if self.lang == "zh" else
                    f"No center of its own: zones, servers and systems are in {where}.")
            self.out.print(Text(note, style="italic"))
        else:
            self.zones(dc)
            self.isolation(dc)
            self.devices(dc)
            self.servers(dc)
            self.databases(dc)
            self.systems(dc)
            self.functions(dc)
        self.sites(dc)
        self.links(dc)
        self.uplinks(dc)
        self.machine_rooms(dc, ix)
        self.out.print()

    def header(self, dc: DataCenter) -> None:
        title = dc.title.zh if self.lang == "zh" else dc.title.en
        self.out.rule(Text(f"{title}  ({dc.name})", style="bold cyan"), align="left")
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold")
        t.add_column()
        rows: list[tuple[str, object]] = [
            (self.L("name"), dc.name),
            ("中文 / zh", dc.title.zh),
            ("English / en", dc.title.en),
            (self.L("tier"), self.L(dc.tier)),
            (self.L("division code"), dc.division_code),
            (self.L("parent"), dc.parent),
            (self.L("stage"), dc.stage),
            (self.L("hosted by"), dc.hosted_by),
            ("默认值 / defaults", "\n".join(self.defaults.get(dc.name, []))),
        ]
        for key, value in rows:
            t.add_row(key, _t(value))
        self.out.print(t)

    def zones(self, dc: DataCenter) -> None:
        if not dc.zones:
            self.empty(self.L("zones"))
            return
        t = self.table(self.L("zones"), self.L("zone"), self.L("title"), self.L("kind"),
                       self.L("segments"), self.L("subnet"), self.L("gateway"), "VLAN")
        for zone in dc.zones:
            zt = (zone.title.zh if self.lang == "zh" else zone.title.en) if zone.title else None
            segs: list[Segment | None] = list(zone.segments) or [None]
            for i, seg in enumerate(segs):
                head = (_t(zone.name, "bold"), _t(zt), _t(self.L(zone.kind))) if i == 0 \
                    else (_t(""), _t(""), _t(""))
                if seg is None:
                    t.add_row(*head, _t(None), _t(None), _t(None), _t(None))
                else:
                    t.add_row(*head, _t(seg.name), _t(seg.subnet), _t(seg.gateway),
                              _t(seg.vlan))
        self.out.print(t)

    def isolation(self, dc: DataCenter) -> None:
        from pesdc.graph import isolation_cell

        if len(dc.zones) < 2:
            return
        names = [z.name for z in dc.zones]
        t = self.table(self.L("isolation"), "", *names)
        styles = {"physical": "bold red", "gatekeeper": "yellow", "firewall": "blue",
                  "none": "magenta", "denied": "dim", "self": "dim"}
        for a in names:
            cells = []
            for b in names:
                cell = isolation_cell(dc, a, b)
                cells.append(_t(cell.text(self.lang), styles.get(cell.kind)))
            t.add_row(_t(a, "bold"), *cells)
        self.out.print(t)

    def devices(self, dc: DataCenter) -> None:
        if not dc.devices:
            self.empty(self.L("devices"))
            return
        t = self.table(self.L("devices"), self.L("name"), self.L("kind"), self.L("platform"),
                       self.L("model"), self.L("mgmt"), self.L("redundancy"),
                       self.L("location"))
        for d in dc.devices:
            kind = self.L(d.kind) + (f" ({self.L('border')})" if d.border else "")
            t.add_row(_t(d.name, "bold"), _t(kind), _t(d.platform.value), _t(d.model),
                      _t(d.mgmt), _t(d.redundancy), _t(d.location))
        self.out.print(t)

    def servers(self, dc: DataCenter) -> None:
        if not dc.servers:
            self.empty(self.L("servers"))
            return
        t = self.table(self.L("servers"), self.L("name"), self.L("roles"), self.L("zone"),
                       self.L("segments"), self.L("address"), self.L("os"),
                       self.L("location"))
        for s in dc.servers:
            os_text = s.os.value + (f" {s.os_release}" if s.os_release else "")
            away = s.location != "datacenter"
            t.add_row(_t(s.name, "bold"), _t(", ".join(self.L(r) for r in s.roles)),
                      _t(s.zone), _t(s.segment), _t(s.address), _t(os_text),
                      _t(s.location, "yellow" if away else None))
        self.out.print(t)

    def databases(self, dc: DataCenter) -> None:
        if not dc.databases:
            self.empty(self.L("databases"))
            return
        t = self.table(self.L("databases"), self.L("name"), self.L("engine"),
                       self.L("primary"), self.L("standby"), self.L("backup"),
                       self.L("port"))
        for db in dc.databases:
            engine = db.engine.value + (f" {db.version}" if db.version else "")
            t.add_row(_t(db.name, "bold"), _t(engine), _t(db.primary), _t(db.standby),
                      _t(db.backup_target), _t(db.port))
        self.out.print(t)

    def systems(self, dc: DataCenter) -> None:
        if not dc.systems:
            self.empty(self.L("systems"))
            return
        t = self.table(self.L("systems"), self.L("name"), self.L("kind"), self.L("owner"),
                       self.L("servers"), self.L("ports"), self.L("public"))
        for s in dc.systems:
            ports = ", ".join(f"{p.port}/{p.protocol}" for p in s.ports)
            t.add_row(_t(s.name, "bold"), _t(self.L(s.kind)), _t(self.L(s.owner)),
                      _t(", ".join(s.servers)), _t(ports), self.yes(s.public))
        self.out.print(t)

    def functions(self, dc: DataCenter) -> None:
        from pesdc.catalog import trace_functions

        t = self.table(self.L("service functions"), "#", self.L("function"),
                       self.L("supporting systems"), self.L("status"))
        for trace in trace_functions(dc):
            fn = trace.function
            parts = Text()
            for i, (kind, systems) in enumerate(trace.by_kind):
                if i:
                    parts.append("\n")
                parts.append(f"{self.L(kind)}: ")
                if systems:
                    parts.append(", ".join(s.name for s in systems), style="green")
                else:
                    parts.append(self.L("missing"), style="bold red")
            other = fn.en if self.lang == "zh" else fn.zh
            status = (_t(self.L("complete"), "green") if trace.complete else
                      _t(f"{self.L('missing')} {len(trace.missing)}", "red"))
            t.add_row(_t(fn.id), _t(f"{fn.title(self.lang)} ({other})"), parts, status)
        self.out.print(t)

    def sites(self, dc: DataCenter) -> None:
        if not dc.sites:
            self.empty(self.L("sites"))
            return
        counts = Counter(s.kind for s in dc.sites)
        c = self.table(f"{self.L('sites')}: {self.L('count')}", self.L("kind"),
                       self.L("count"))
        for kind in SiteKind:
            if counts.get(kind):
                c.add_row(_t(self.L(kind)), _t(counts[kind]))
        self.out.print(c)
        t = self.table(self.L("sites"), self.L("name"), self.L("title"), self.L("kind"),
                       self.L("parent"), self.L("subnet"), "router", self.L("owner"))
        for s in dc.sites:
            st = (s.title.zh if self.lang == "zh" else s.title.en) if s.title else None
            room = s.kind is SiteKind.agency_machine_room
            t.add_row(_t(s.name, "bold"), _t(st), _t(self.L(s.kind), "yellow" if room else None),
                      _t(s.parent or self.L("center")), _t(s.subnet), _t(s.router),
                      _t(self.L(s.owner) if s.owner else None))
        self.out.print(t)

    def links(self, dc: DataCenter) -> None:
        if not dc.links:
            self.empty(self.L("links"))
            return
        t = self.table(self.L("links"), self.L("name"), "a", "b", self.L("bandwidth"),
                       self.L("latency"), self.L("encryption"),
                       self.L("shared with social insurance"), self.L("subnet"))
        for lk in dc.links:
            enc_style = "dim" if lk.encryption is Encryption.none else None
            t.add_row(_t(lk.name, "bold"), _t(lk.a), _t(lk.b), _t(f"{lk.bandwidth_mbps:g} Mbps"),
                      _t(f"{lk.latency_ms:g} ms"), _t(self.L(lk.encryption), enc_style),
                      self.yes(lk.shared_with_social_insurance), _t(lk.subnet))
        self.out.print(t)

    def uplinks(self, dc: DataCenter) -> None:
        if not dc.uplinks:
            self.empty(self.L("uplinks"))
            return
        t = self.table(self.L("uplinks"), self.L("name"), self.L("kind"), self.L("peer"),
                       self.L("bandwidth"), self.L("latency"), self.L("encryption"),
                       self.L("device"), self.L("subnet"))
        for up in dc.uplinks:
            t.add_row(_t(up.name, "bold"), _t(self.L(up.kind)), _t(up.peer),
                      _t(f"{up.bandwidth_mbps:g} Mbps"), _t(f"{up.latency_ms:g} ms"),
                      _t(self.L(up.encryption)), _t(up.device), _t(up.subnet))
        self.out.print(t)

    def machine_rooms(self, dc: DataCenter, ix: DCIndex) -> None:
        rooms = list(ix.machine_rooms.values())
        if not rooms:
            return
        t = self.table(self.L("machine rooms"), self.L("name"), self.L("owner"),
                       self.L("hosted servers"), self.L("links"))
        for room in rooms:
            hosts = [s.name for s in dc.servers if s.location == room.name]
            hosts += [d.name for d in dc.devices if d.location == room.name]
            links = ", ".join(f"{lk.name} {lk.bandwidth_mbps:g} Mbps"
                              for lk in ix.links_of(room.name))
            t.add_row(_t(room.name, "bold yellow"),
                      _t(self.L(room.owner) if room.owner else None),
                      _t(", ".join(hosts)), _t(links))
        self.out.print(t)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dc", "dc_name", metavar="NAME", default=None,
              help="Show only this data center.")
@click.option("--lang", type=click.Choice(LANGS), default="en", show_default=True,
              help="Language of headings and titles (zh: Chinese).")
@format_option()
def show(paths: tuple[Path, ...], dc_name: str | None, lang: str, fmt: str) -> None:
    """Show each data center as tables: zones, isolation, devices, servers, databases,
    systems and the service functions they serve, municipal sites, links, uplinks.

    Centers come in tier order (ministry, province, city). An invalid topology prints
    the same report as `pesdc validate` and exits 1.
    """
    loaded = load_or_exit(paths, fmt)
    topology = loaded.topology
    centers = topology.in_view() if dc_name is None else [
        pick_center(topology, dc_name)]
    if fmt == "json":
        from pesdc.formats import echo
        from pesdc.formats.show import build

        echo("show", build(topology, centers, {
            name: [str(f) for f in loaded.defaults_applied.get(name, [])]
            for name in topology.datacenters}))
        return
    width = None if sys.stdout.isatty() else 160
    console = TerminalConsole(width=width, highlight=False, soft_wrap=False)
    defaults = {name: defaults_applied(loaded, name) for name in topology.datacenters}
    view = _Show(console, topology, lang, defaults)
    for dc in centers:
        view.center(dc)
