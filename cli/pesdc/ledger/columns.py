"""The ledger's sheets and columns, written once: export writes them, import reads them.

A column names a key of a topology object (``("title", "zh")`` for a nested one); what
the cell holds (text, number, yes/no, a list, one of an enumeration) is read from the
field's annotation in :mod:`pesdc.model.schema`, so the allowed values of a kind or a
role are the schema's own and never a second list kept here.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from typing import Any

from openpyxl.utils import get_column_letter
from pydantic import BaseModel

from pesdc.model.schema import (
    Device,
    Interface,
    Link,
    Segment,
    Server,
    Site,
    StaticRoute,
    Strict,
    Zone,
)

Key = tuple[str, ...]


def _unwrap(annotation: Any) -> list[Any]:
    """The types an annotation allows (``X | None`` -> [X], ``list[X]`` -> [list, X])."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(annotation) if a is not type(None)
                for t in _unwrap(a)]
    if origin is list:
        return [list, *_unwrap(typing.get_args(annotation)[0])]
    if origin is typing.Literal:
        return [type(typing.get_args(annotation)[0])]
    return [annotation]


@dataclass(frozen=True)
class Column:
    key: Key
    zh: str  # the Chinese half of the header; the English half is the key itself

    @property
    def en(self) -> str:
        return ".".join(self.key)

    @property
    def header(self) -> str:
        return f"{self.zh} / {self.en}"


@dataclass(frozen=True)
class Sheet:
    """One sheet: the section it holds, its model and its columns, in order.

    A child sheet (``parent`` set) holds a list inside the items of another sheet
    (a device's interfaces): its first column names the item it belongs to."""

    name: str
    section: str
    model: type[Strict]
    columns: tuple[Column, ...]
    parent: str | None = None  # the sheet whose items hold this one's rows

    @cached_property
    def by_en(self) -> dict[str, Column]:
        return {c.en: c for c in self.columns}

    def letter(self, column: Column) -> str:
        return get_column_letter(self.columns.index(column) + 1)

    def kind(self, column: Column) -> CellKind:
        return cell_kind(self.model, column.key) if column.key != (PARENT,) \
            else CellKind(str)


PARENT = "device"  # the first column of a child sheet: the device the row belongs to


@dataclass(frozen=True)
class CellKind:
    """What a cell holds: the scalar type, whether it is a list, its enumeration."""

    scalar: type
    is_list: bool = False
    enum: type[Enum] | None = None

    @property
    def choices(self) -> list[str]:
        return [str(m.value) for m in self.enum] if self.enum else []


def cell_kind(model: type[BaseModel], key: Key) -> CellKind:
    """The kind of cell for ``key`` of ``model``, from the schema's annotation."""
    info = model.model_fields[key[0]]
    types_ = _unwrap(info.annotation)
    if len(key) > 1:
        inner = next(t for t in types_ if isinstance(t, type) and issubclass(t, BaseModel))
        return cell_kind(inner, key[1:])
    is_list = types_[0] is list
    rest = [t for t in types_ if t is not list]
    enum = next((t for t in rest if isinstance(t, type) and issubclass(t, Enum)), None)
    if enum is not None:
        return CellKind(str, is_list, enum)
    scalars = [t for t in rest if t in (bool, int, float, str)]
    return CellKind(scalars[0] if scalars else str, is_list)


def _c(key: str, zh: str) -> Column:
    return Column(tuple(key.split(".")), zh)


_TITLE = (_c("title.zh", "中文名称"), _c("title.en", "英文名称"))

SERVERS = Sheet("servers", "servers", Server, (
    _c("name", "名称"), _c("roles", "角色"), _c("zone", "安全区域"), _c("segment", "网段"),
    _c("address", "IP地址"), _c("os", "操作系统"), _c("os_release", "系统版本"),
    _c("location", "位置"), _c("group", "分组"), *_TITLE,
))

DEVICES = Sheet("devices", "devices", Device, (
    _c("name", "名称"), _c("kind", "设备类型"), _c("platform", "平台"), _c("model", "型号"),
    _c("mgmt", "管理地址"), *_TITLE, _c("group", "分组"), _c("location", "位置"),
    _c("redundancy", "冗余设备"), _c("loopback", "环回地址"), _c("ospf.area", "OSPF区域"),
    _c("ospf.router_id", "OSPF路由器ID"), _c("ospf.fast_timers", "OSPF快速计时"),
    _c("border", "边界设备"),
))

INTERFACES = Sheet("interfaces", "interfaces", Interface, (
    _c(PARENT, "所属设备"), _c("name", "接口名"), _c("description", "描述"),
    _c("segment", "网段"), _c("link", "市域链路"), _c("uplink", "上联链路"),
    _c("downlink", "下联链路"), _c("peer", "对端设备"), _c("address", "IP地址"),
    _c("vrrp_group", "VRRP组"), _c("vrrp_priority", "VRRP优先级"), _c("enabled", "启用"),
), parent="devices")

STATIC_ROUTES = Sheet("static_routes", "static_routes", StaticRoute, (
    _c(PARENT, "所属设备"), _c("prefix", "目的网段"), _c("next_hop", "下一跳"),
    _c("description", "描述"),
), parent="devices")

LINKS = Sheet("links", "links", Link, (
    _c("name", "名称"), _c("a", "A端"), _c("b", "B端"), _c("bandwidth_mbps", "带宽(Mbps)"),
    _c("latency_ms", "时延(ms)"), _c("subnet", "互联网段"), _c("a_address", "A端地址"),
    _c("b_address", "B端地址"), _c("redundant_with", "冗余链路"),
    _c("encryption", "加密方式"), _c("shared_with_social_insurance", "与社保共用线路"),
    _c("group", "分组"),
))

SITES = Sheet("sites", "sites", Site, (
    _c("name", "名称"), _c("kind", "站点类型"), *_TITLE, _c("parent", "上级站点"),
    _c("subnet", "网段"), _c("router", "路由器地址"), _c("group", "分组"),
    _c("owner", "归属单位"),
    _c("shares_premises_with_social_insurance", "与社保同址"),
))

# What the ledger owns in a center file, in the order the sheets are written.
SHEETS: tuple[Sheet, ...] = (SERVERS, DEVICES, INTERFACES, STATIC_ROUTES, LINKS, SITES)
SECTIONS: tuple[Sheet, ...] = tuple(s for s in SHEETS if s.parent is None)
CHILDREN: dict[str, tuple[Sheet, ...]] = {
    top.name: tuple(s for s in SHEETS if s.parent == top.name) for top in SECTIONS}

# Reference sheets: read only by an import that makes a new file (-o without --into);
# an import into a center file leaves its zones and header alone.
SEGMENT_COLUMNS: tuple[Column, ...] = (
    _c("zone", "安全区域"), _c("zone_kind", "区域类型"), _c("zone_title.zh", "区域中文名"),
    _c("zone_title.en", "区域英文名"), _c("name", "网段名"), _c("subnet", "子网"),
    _c("gateway", "网关"), _c("vlan", "VLAN"), _c("description", "描述"),
)
SEGMENTS_SHEET = "segments"
CENTER_SHEET = "center"
LISTS_SHEET = "lists"  # hidden: the enumerations the drop-down lists point at
# The header of a center that a new file needs, and the center sheet's rows.
CENTER_KEYS: tuple[Column, ...] = (
    _c("name", "名称"), _c("tier", "层级"), _c("division_code", "行政区划代码"),
    _c("parent", "上级中心"), _c("stage", "建设阶段"), _c("title.zh", "中文名称"),
    _c("title.en", "英文名称"),
)


def segment_kind(column: Column) -> CellKind:
    """Cell kinds of the segments sheet: zone columns from Zone, the rest from Segment."""
    if column.key[0] == "zone":
        return CellKind(str)
    if column.key[0] == "zone_kind":
        return cell_kind(Zone, ("kind",))
    if column.key[0] == "zone_title":
        return CellKind(str)
    return cell_kind(Segment, column.key)


def covered_fields(sheet: Sheet) -> set[str]:
    """The model fields a sheet's columns (and its child sheets) hold: a test keeps this
    equal to the model's fields, so a field added to the schema needs a column."""
    out = {c.key[0] for c in sheet.columns if c.key != (PARENT,)}
    return out | {child.section for child in CHILDREN.get(sheet.name, ())}
