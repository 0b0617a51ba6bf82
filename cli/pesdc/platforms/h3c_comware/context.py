"""What the Comware families derive for their templates (their ``Kind.context`` hooks):
facts only Comware needs, kept out of the shared context builder."""

from __future__ import annotations

from typing import Any

# As the Huawei templates: a recovered master waits 20 s for its routes before it takes
# the virtual address back. Comware counts this delay in centiseconds (VRRP guide
# example `vrrp vrid 1 preempt-mode timer delay 5000` = 5000 centiseconds).
PREEMPT_DELAY_SECONDS = 20
# No Comware page read documents which characters `header` text may hold: the banner
# goes out in ASCII; a banner with no ASCII part gets this notice.
ASCII_NOTICE = "Authorized use only. All activity is logged and audited."
_TRAILING = " ,;:-"


def ascii_banner(text: str) -> str:
    """The banner up to its first non-ASCII character (the default banner is English
    then Chinese), or the ASCII notice when nothing of it is ASCII."""
    cut = next((i for i, ch in enumerate(text) if not ch.isascii()), len(text))
    head = text[:cut].rstrip(_TRAILING)
    return head or ASCII_NOTICE


def common(ctx: dict[str, Any], secadmin_commands: list[str]) -> None:
    """Every Comware family: the ASCII banner, VRRP preemption in centiseconds, the
    commands the security administrator's role writes."""
    ctx["banner_ascii"] = ascii_banner(ctx["mgmt"]["banner"])
    ctx["vrrp_preempt_centiseconds"] = PREEMPT_DELAY_SECONDS * 100
    ctx["secadmin_commands"] = secadmin_commands
    for itf in ctx["interfaces"]:
        itf.setdefault("trunk_vlans", [])


def trunk_vlans(ctx: dict[str, Any]) -> None:
    """A switch port toward another switch (a peer and no address of its own) is a
    trunk carrying every zone VLAN of the center, so the servers behind an
    aggregation switch reach their gateways on the core pair; the switch holds those
    VLANs too (a trunk passes only VLANs that exist on it)."""
    if not ctx["device"]["kind"].endswith("_switch"):
        return
    carried = [v["id"] for v in ctx["center_vlans"]]
    trunks = [i for i in ctx["interfaces"]
              if i["peer"] and not i["address"] and not i["segment"]]
    for itf in trunks:
        itf["trunk_vlans"] = carried
    if trunks:
        known = {v["id"] for v in ctx["vlans"]}
        ctx["vlans"] = sorted([*ctx["vlans"],
                               *(v for v in ctx["center_vlans"] if v["id"] not in known)],
                              key=lambda v: v["id"])


def switch(ctx: dict[str, Any]) -> None:
    """A Comware 7 switch: the common facts and its trunks."""
    common(ctx, ["acl"])
    trunk_vlans(ctx)


def router(ctx: dict[str, Any]) -> None:
    """An MSR router: the common facts; its security administrator writes ACLs."""
    common(ctx, ["acl"])
