"""What the Huawei VRP templates derive from a device's context (Kind.context hooks).

Every VRP family's template reads ``vrp``: the VLAN batches, the interfaces toward
peers (trunks passing the device's zone VLANs), the ASCII banner, the family's VRRP
preempt keyword, the administrator roles. Each family's hook is ``hook(...)`` with its
own choices, so the template text stays one shared file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# `vlan batch { vlan-id1 [ to vlan-id2 ] } &<1-10>` (CE6800 V300R023C00 Command
# Reference `vlan batch`); the S-series limit was not read, so every family keeps it.
BATCH_ITEMS = 10
# The login banner when a family's character set for Chinese text is not documented.
ASCII_BANNER = "Authorized use only. All activity is logged and audited."
ROLES = ("system", "audit", "security")


def batches(ids: list[int], per_line: int = BATCH_ITEMS) -> list[str]:
    """VLAN ids as `vlan batch` arguments: runs of consecutive ids as `A to B`, at most
    ``per_line`` items per line."""
    items: list[str] = []
    for vid in sorted(set(ids)):
        if items and (m := re.fullmatch(r"(\d+)(?: to (\d+))?", items[-1])) and \
                int(m.group(2) or m.group(1)) == vid - 1:
            items[-1] = f"{m.group(1)} to {vid}"
        else:
            items.append(str(vid))
    return [" ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]


def ascii_banner(text: str) -> str:
    """The banner's ASCII sentences (the Chinese ones dropped), or a fixed English
    warning when it has none: for families whose character set is undocumented."""
    if text.isascii():
        return text
    runs = [r.strip(" ,;") for r in re.split(r"[^\x00-\x7f]+", text)]
    kept = " ".join(r for r in runs if re.search(r"[A-Za-z]", r))
    return kept or ASCII_BANNER


def _is_peer_port(itf: dict[str, Any]) -> bool:
    return bool(itf["peer"]) and not (itf["segment"] or itf["link"] or itf["uplink"]
                                      or itf["address"])


def trunks(ctx: dict[str, Any]) -> None:
    """Switch ports toward a peer device (no segment, no address): trunks passing every
    zone VLAN of the switch (`port link-type trunk`, `port trunk allow-pass vlan`)."""
    ids = [v["id"] for v in ctx["vlans"]]
    for itf in ctx["interfaces"]:
        itf["trunk_vlans"] = batches(ids) if _is_peer_port(itf) and ids else []


def dot1q(ctx: dict[str, Any]) -> None:
    """Routers (NetEngine): a segment's VLAN is a dot1q sub-interface of the port the
    topology names (`interface GE0/1/0.99` + `vlan-type dot1q 99`), no VLAN object.
    The port itself is listed in ``vrp.parents`` (brought up, no address); OSPF and
    routes name the sub-interface."""
    renamed: dict[str, str] = {}
    for itf in ctx["interfaces"]:
        if itf["vlan"] and "." not in itf["name"]:
            renamed[itf["name"]] = f"{itf['name']}.{itf['vlan']}"
            itf["name"], itf["dot1q"] = renamed[itf["name"]], itf["vlan"]
    for item in [*(ctx["ospf"]["networks"] if ctx["ospf"] else []), *ctx["static_routes"]]:
        item["interface"] = renamed.get(item.get("interface") or "", item.get("interface"))
    ctx["vrp"]["parents"] = list(renamed)


# VTY lines: 0-4 everywhere; 16-20 (S-series' lines for NMS sessions) only where read.
VTY_CAMPUS = ((0, 4), (16, 20))
VTY = ((0, 4),)


def hook(*, preempt: str, vlan_objects: bool = True, subinterfaces: bool = False,
         ascii_only: bool = True, vty: tuple[tuple[int, int], ...] = VTY,
         write: str = "") -> Callable[[dict[str, Any]], None]:
    """A family's Kind.context: ``preempt`` is its VRRP keyword (`preempt-mode` on VRP5,
    AR and NetEngine; `preempt` on CloudEngine); routers render no VLAN objects
    (``vlan_objects``), NetEngine its segments as dot1q ``subinterfaces``; ``vty`` the
    user-interface ranges; ``write`` the VRP8 task rights that allow changes."""
    def add(ctx: dict[str, Any]) -> None:
        m = ctx["mgmt"]
        ctx["vrp"] = {"preempt": preempt, "parents": [], "vty": vty, "write": write,
                      "vlan_batches": batches([v["id"] for v in ctx["vlans"]])
                      if vlan_objects else [],
                      "banner": ascii_banner(m["banner"]) if ascii_only else m["banner"],
                      "admins": [(role, m["admins"][role]) for role in ROLES]}
        for itf in ctx["interfaces"]:
            itf["trunk_vlans"], itf["dot1q"] = [], None
        if subinterfaces:
            dot1q(ctx)
        if vlan_objects:
            trunks(ctx)
        ctx["vrp"]["mgmt_itf"] = next((i["name"] for i in ctx["interfaces"]
                                       if i["zone_kind"] == "security_management"), None)
        ctx["vrp"]["ospf_itfs"] = [n["interface"] for n in ctx["ospf"]["networks"]] \
            if ctx["ospf"] else []
    return add
