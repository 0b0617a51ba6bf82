"""Shared helpers for the vendor generator tests: fixture cases, rendering, golden
files and the hier_config view of a rendered (or running) vendor configuration."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from hier_config import HConfig

from pesdc.kinds import kind_of
from pesdc.model import validate
from pesdc.model.diagnostics import Diagnostic
from pesdc.netpush.drivers import DRIVERS
from pesdc.platforms.h3c_comware.syntax import comware_normalise
from pesdc.render import render_device_files
from pesdc.render.context import CenterFacts, device_context

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "fixtures" / "vendor"
RUNNING = VENDOR / "running"
GOLDEN = HERE / "golden"
REFRESH = os.environ.get("PESDC_REFRESH_GOLDEN") == "1"

# case -> the fixture folder (one small center per platform case)
CASES = {
    "vrp_core": VENDOR / "vrp_core",  # VRP5 core switch pair: VLANs, VRRP, OSPF, trunk
    # CloudEngine pair, NetEngine router (dot1q sub-interface), AR router
    "vrp_families": VENDOR / "vrp_families",
    "usg_fw": VENDOR / "usg_fw",  # USG firewall pair + USG gatekeeper
    "comware": VENDOR / "comware",  # Comware switch pair, firewall pair, gatekeeper
    # IOS-XE access switch (Catalyst 3850), classic IOS router (ISR G2) with ZBF
    "ios": VENDOR / "ios",
    "iosxe": VENDOR / "iosxe",  # Catalyst 9300 pair (VRRPv3, trunk), ISR 4331 with ZBF
}

SECRET_RE = re.compile(r"%%PESDC_SECRET:[A-Za-z0-9_.-]+%%")


@cache
def render_case(case: str) -> tuple[dict[str, tuple[str, str]], list[Diagnostic]]:
    """device name -> (kind name, device.cfg text) for every vendor device of a case.
    The kind is the device's family (platform + model), not its topology platform value:
    one value (h3c_comware, huawei_vrp) serves several families."""
    result = validate([CASES[case]])
    assert not result.report.errors, [d.format() for d in result.report.errors]
    topo = result.topology
    out: dict[str, tuple[str, str]] = {}
    problems: list[Diagnostic] = []
    for dc in topo.datacenters.values():
        facts = CenterFacts.of(topo, dc)
        for dev in dc.devices:
            files = render_device_files(facts, dev.name, problems)
            if "device.cfg" in files:
                out[dev.name] = (kind_of(dev).name, files["device.cfg"])
    return out, problems


def hconfig(kind_name: str, text: str) -> HConfig:
    """The hier_config tree of a vendor configuration, as its driver's diff reads it."""
    syntax = DRIVERS[kind_name].syntax
    assert syntax is not None
    return syntax.hconfig(text)


__all__ = ["comware_normalise"]  # the vendor tests take it from here


def golden_path(case: str, device: str) -> Path:
    return GOLDEN / case / f"{device}.cfg"


@cache
def contexts(case: str) -> dict[str, dict[str, Any]]:
    """device name -> the context its template saw."""
    topo = validate([CASES[case]]).topology
    out = {}
    for dc in topo.datacenters.values():
        facts = CenterFacts.of(topo, dc)
        for dev in dc.devices:
            out[dev.name] = device_context(facts, dev)
    return out
