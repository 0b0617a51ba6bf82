"""Render a validated topology into everything engines and devices need.

``render_tree`` is pure: topology in, a mapping of relative path -> text out, the same
bytes for the same input. Writing, diffing and remediation live in ``output``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pesdc.kinds import kind_of
from pesdc.model.diagnostics import Diagnostic
from pesdc.model.schema import DataCenter
from pesdc.model.tree import Topology
from pesdc.render.context import CenterFacts, device_context, required_features
from pesdc.render.engine import UnsafeValue, render_template, template_exists
from pesdc.render.inventory import (
    ansible_inventory_yaml,
    netmiko_devices,
    pyinfra_inventory,
)
from pesdc.render.readback import readback_diagnostics
from pesdc.render.servers import render_server


@dataclass
class Rendered:
    files: dict[str, str] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)


def select(topo: Topology, names: list[str] | None = None) -> list[DataCenter]:
    """The centers to render, in tier order; only those named when names are given."""
    dcs = topo.in_tier_order()
    if names:
        dcs = [d for d in dcs if d.name in names]
    return dcs


def render_device_files(facts: CenterFacts, dev_name: str,
                        problems: list[Diagnostic] | None = None,
                        contexts: dict[str, dict[str, Any]] | None = None
                        ) -> dict[str, str]:
    """The configuration files of one device, keyed by file name. ``contexts``: where
    to keep the context the templates were given (device name -> context), for a caller
    that compares the files with it again (the audit's AUD-AB-13); never edit it."""
    dev = facts.idx.devices[dev_name]
    kind = kind_of(dev)
    ctx = device_context(facts, dev, kind)
    if contexts is not None:
        contexts[dev_name] = ctx
    missing = [f for f in required_features(dev, ctx) if f not in kind.supports]
    if missing:
        if problems is not None:
            file, path = dev._src
            for feat in missing:
                problems.append(Diagnostic(
                    "RENDER001", f"device {dev.name}: platform {dev.platform.value} "
                    f"({kind.name}) cannot express {feat.value}", file, (*path, "platform"),
                    "choose a platform that supports it, or change the device's role"))
        return {}
    if ctx["relay_conflicts"]:
        if problems is not None:
            file, path = dev._src
            for text in ctx["relay_conflicts"]:
                problems.append(Diagnostic(
                    "RENDER003", f"gatekeeper {dev.name}: {text}", file, path,
                    "give the flows distinct ports or distinct source systems"))
        return {}
    out: dict[str, str] = {}
    for fname in kind.config_files:
        tpl = kind.template(fname)
        if not template_exists(tpl):
            if problems is not None:
                file, path = dev._src
                problems.append(Diagnostic(
                    "RENDER002", f"no template {tpl} for device {dev.name}", file,
                    (*path, "platform"), "this platform's generator is incomplete"))
            continue
        try:
            text = render_template(tpl, ctx)
        except UnsafeValue as exc:
            if problems is not None:
                problems.append(unsafe_value_problem(f"device {dev.name}", fname, exc,
                                                     dev._src))
            return {}
        if text.strip():  # an optional file (keepalived without VRRP) renders empty
            out[fname] = text
    # Round trip: what the text permits must be the policy, rule for rule (RENDER004).
    readback = readback_diagnostics(dev, kind.name, out, ctx)
    if readback:
        if problems is not None:
            problems.extend(readback)
        return {}
    return out


def unsafe_value_problem(node: str, fname: str, exc: UnsafeValue,
                         src: tuple[str, tuple[object, ...]]) -> Diagnostic:
    """RENDER005: a topology value that the file's syntax cannot carry as it is."""
    file, path = src
    return Diagnostic("RENDER005", f"{node}: {exc.field} {exc.reason} (in {fname}); "
                      "nothing was rendered for it", file, path,
                      "change the value in the topology; pesdc never shortens or rewrites "
                      "it to fit")


PARTS = ("inventory", "devices", "servers")


def render_tree(topo: Topology, names: list[str] | None = None,
                parts: tuple[str, ...] = PARTS) -> Rendered:
    result = Rendered()
    dcs = select(topo, names)
    files = result.files
    if "inventory" in parts:
        files["inventory/hosts.yml"] = ansible_inventory_yaml(topo, dcs)
        files["inventory/pyinfra_inventory.py"] = pyinfra_inventory(topo, dcs)
        files["inventory/netmiko.yml"] = netmiko_devices(topo, dcs)
    if parts == ("inventory",):
        return result
    for dc in dcs:
        if dc.hosted:
            continue
        facts = CenterFacts.of(topo, dc)
        for dev in dc.devices if "devices" in parts else ():
            for fname, text in render_device_files(facts, dev.name,
                                                   result.problems).items():
                files[f"devices/{dc.name}/{dev.name}/{fname}"] = text
        for srv in dc.servers if "servers" in parts else ():
            try:
                server_files = render_server(facts, srv)
            except UnsafeValue as exc:
                result.problems.append(unsafe_value_problem(f"server {srv.name}",
                                                            "its files", exc, srv._src))
                continue
            for rel, text in server_files.items():
                files[f"servers/{dc.name}/{srv.name}/{rel}"] = text
    return result
