"""Inventories from one topology: Ansible (YAML, for ansible-inventory and AWX),
pyinfra (a Python inventory module) and the netmiko device list.

Host names are ``NAME.CENTER`` (names repeat across centers); groups are per tier,
center, zone, server role, device kind and platform, and one per redundancy pair so
that pushes never touch both members of a pair at once.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import yaml

from pesdc.kinds import kind_of
from pesdc.model.schema import DataCenter
from pesdc.model.tree import Topology
from pesdc.render.context import hostname

# libyaml's emitter: the national inventory is ~500k nodes, 20x faster than pure Python.
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_STR, _NULL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null"


class _Dumper(_BaseDumper):
    """The safe dumper, with the Python half of its work on the inventory's ~1M scalars
    made cheaper, node for node the same: a string or None becomes the ScalarNode the
    safe representer makes of it (no aliases for scalars, no style), without its
    dispatch; and the implicit-tag check of a scalar (two per scalar while emitting) is
    looked up once per distinct value. Without path resolvers (the safe dumper has none)
    that check depends on the value alone."""

    _tags: ClassVar[dict[tuple[str, tuple[bool, bool]], str]] = {}

    def represent_data(self, data: Any) -> Any:
        if type(data) is str:
            return yaml.ScalarNode(_STR, data)
        if data is None:
            return yaml.ScalarNode(_NULL, "null")
        return super().represent_data(data)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not yaml.ScalarNode or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag


def group_name(*parts: str) -> str:
    """Ansible group names may not hold '-' or '.'; keep them readable anyway."""
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))


def _pair_name(dc: DataCenter, a: str, b: str | None) -> str:
    members = sorted(x for x in (a, b) if x)
    return group_name("pair", dc.name, *members)


def _server_vars(topo: Topology, dc: DataCenter, srv: Any) -> dict[str, Any]:
    return {
        "ansible_host": srv.address,
        "pesdc_center": dc.name,
        "pesdc_tier": dc.tier.value,
        "pesdc_node": srv.name,
        "pesdc_zone": srv.zone,
        "pesdc_roles": [r.value for r in srv.roles],
        "pesdc_os_family": srv.os.value,
        "pesdc_location": srv.location,
    }


def _device_vars(dc: DataCenter, dev: Any) -> dict[str, Any]:
    kind = kind_of(dev)
    out: dict[str, Any] = {
        "ansible_host": dev.mgmt,
        "ansible_connection": kind.ansible_connection,
        "pesdc_center": dc.name,
        "pesdc_tier": dc.tier.value,
        "pesdc_node": dev.name,
        "pesdc_device_kind": dev.kind.value,
        "pesdc_kind": kind.name,
        "pesdc_platform": dev.platform.value,
        "pesdc_model": dev.model,
        "netmiko_device_type": kind.netmiko_type,
    }
    if kind.ansible_network_os:
        out["ansible_network_os"] = kind.ansible_network_os
    if dev.redundancy:
        out["pesdc_redundancy"] = hostname(dc, dev.redundancy)
    return out


def ansible_inventory(topo: Topology, dcs: list[DataCenter]) -> dict[str, Any]:
    hosts: dict[str, dict[str, Any]] = {}
    groups: dict[str, set[str]] = {}

    def member(group: str, host: str) -> None:
        groups.setdefault(group, set()).add(host)

    for dc in dcs:
        for srv in dc.servers:
            h = hostname(dc, srv.name)
            hosts[h] = _server_vars(topo, dc, srv)
            for g in (group_name("tier", dc.tier.value), group_name("dc", dc.name),
                      group_name("zone", dc.name, srv.zone), "servers",
                      group_name("os", srv.os.value)):
                member(g, h)
            for role in srv.roles:
                member(group_name("role", role.value), h)
        for dev in dc.devices:
            h = hostname(dc, dev.name)
            hosts[h] = _device_vars(dc, dev)
            kind = kind_of(dev)
            for g in (group_name("tier", dc.tier.value), group_name("dc", dc.name),
                      "network", group_name("device", dev.kind.value),
                      group_name("platform", dev.platform.value),
                      group_name("kind", kind.name)):
                member(g, h)
            if dev.redundancy:
                member(_pair_name(dc, dev.name, dev.redundancy), h)
    children = {g: {"hosts": {h: None for h in sorted(members)}}
                for g, members in sorted(groups.items())}
    return {"all": {"hosts": {h: hosts[h] for h in sorted(hosts)}, "children": children}}


def ansible_inventory_yaml(topo: Topology, dcs: list[DataCenter]) -> str:
    inv = ansible_inventory(topo, dcs)
    head = "# Generated by pesdc render from the topology; do not edit.\n"
    return head + yaml.dump(inv, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                            width=100)


def pyinfra_inventory(topo: Topology, dcs: list[DataCenter]) -> str:
    """A pyinfra inventory module: each top-level list is a group of (host, data)."""
    inv = ansible_inventory(topo, dcs)
    hosts = inv["all"]["hosts"]
    servers = sorted(h for h, v in hosts.items() if "pesdc_roles" in v)
    lines = ["# Generated by pesdc render from the topology; do not edit.",
             "# Servers only: network gear is driven by netmiko (see netmiko.yml).", ""]

    def data(h: str) -> dict[str, Any]:
        v = dict(hosts[h])
        v["ssh_hostname"] = v.pop("ansible_host")
        return v

    lines.append("servers = [")
    for h in servers:
        lines.append(f"    ({h!r}, {data(h)!r}),")
    lines.append("]")
    is_server = set(servers)  # a group's members in the group's order, servers only
    for g, spec in inv["all"]["children"].items():
        members = [h for h in spec["hosts"] if h in is_server]
        if members and g != "servers":
            lines.append(f"{g} = [{', '.join(repr(h) for h in members)}]")
    return "\n".join(lines) + "\n"


def netmiko_devices(topo: Topology, dcs: list[DataCenter]) -> str:
    devices = []
    for dc in dcs:
        for dev in dc.devices:
            kind = kind_of(dev)
            devices.append({
                "name": hostname(dc, dev.name),
                "host": dev.mgmt,
                "device_type": kind.netmiko_type,
                "kind": kind.name,
                "center": dc.name,
                "device_kind": dev.kind.value,
                "pair": _pair_name(dc, dev.name, dev.redundancy) if dev.redundancy else None,
                "configs": [f"devices/{dc.name}/{dev.name}/{f}" for f in kind.config_files],
            })
    head = ("# Generated by pesdc render. Credentials are not here: the push step reads\n"
            "# PESDC_NET_USER / PESDC_NET_PASSWORD or a secrets file.\n")
    return head + yaml.dump({"devices": devices}, Dumper=_Dumper, sort_keys=False,
                            allow_unicode=True, width=100)
