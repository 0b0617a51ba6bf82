"""What only the Cisco families derive for their templates (their ``Kind.context``
hook): the trunks toward switch peers and the ASCII form of the center's banner."""

from __future__ import annotations

import re
from typing import Any


def ios_banner(text: str) -> str:
    """The center's warning as IOS gets it: its ASCII runs that hold words, in order.
    Cisco documents no character set for `banner motd`, so Chinese text never reaches
    the device; the English sentences of a bilingual banner carry the warning. A banner
    with no ASCII word is a render error (RENDER005) asking for an English sentence:
    pesdc does not put words of its own in the center's warning."""
    runs = [r.strip(" ,;") for r in re.split(r"[^\x00-\x7f]+", text)]
    kept = " ".join(r for r in runs if re.search(r"[A-Za-z]", r))
    if not kept:
        from pesdc.render.engine import UnsafeValue

        raise UnsafeValue("security.banner", text, "holds no ASCII word; Cisco IOS "
                          "banners are written in ASCII (no character set is documented "
                          "for them): add the warning in English")
    return kept


def trunks(ctx: dict[str, Any]) -> None:
    """A switch port toward another switch (a peer, no address or segment of its own:
    the uplinks to the aggregation pair) is a trunk passing every zone VLAN of the
    center (`trunk_vlans`), and the switch holds those VLANs (IOS forwards a trunk's
    VLAN only when it exists on the switch). As the Comware and VRP families do."""
    for itf in ctx["interfaces"]:
        itf["trunk_vlans"] = []
    if not ctx["device"]["kind"].endswith("_switch"):
        return
    carried = [v["id"] for v in ctx["center_vlans"]]
    ports = [i for i in ctx["interfaces"] if i["peer"] and not i["address"]
             and not i["segment"] and not i["link"] and not i["uplink"]]
    for itf in ports:
        itf["trunk_vlans"] = carried
    if ports and carried:
        known = {v["id"] for v in ctx["vlans"]}
        ctx["vlans"] = sorted([*ctx["vlans"],
                               *(v for v in ctx["center_vlans"] if v["id"] not in known)],
                              key=lambda v: v["id"])


def add_context(ctx: dict[str, Any]) -> None:
    trunks(ctx)
    ctx["ios_banner"] = ios_banner
