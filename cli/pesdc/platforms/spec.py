"""What a platform folder declares: its kinds, its drivers, its audit dialect.

A kind is one way pesdc renders and pushes a device (as containerlab's kinds are): a
platform has one, or several chosen by the device's role (Linux gear) or, later, by
its OS family. Everything here is plain data and functions; the registry in
``pesdc.platforms`` discovers the folders and derives every lookup from them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pesdc.model.schema import Device
    from pesdc.platforms.dialect import Dialect
    from pesdc.render.readback import Reader

Diff = Callable[[str, str], list[str]]  # (running, intended) -> the lines to send


class PlatformError(Exception):
    """A platform folder is missing, incomplete or inconsistent; the message names it."""


class Feature(StrEnum):
    """What a device's intended configuration may need a platform to express."""

    interfaces = "interfaces"
    vlans = "vlans"
    static_routes = "static_routes"
    ospf = "ospf"
    vrrp = "vrrp"
    zone_policy = "zone_policy"  # zones + explicit allow rules, default deny
    one_way_policy = "one_way_policy"  # gatekeeper: one direction only
    mgmt_hardening = "mgmt_hardening"  # SSHv2 only, 3 admin roles, lockout, syslog, ...


ALL_FEATURES = frozenset(Feature)
# What a vendor switch expresses: no zone policy of its own.
SWITCH_FEATURES = frozenset({Feature.interfaces, Feature.vlans, Feature.static_routes,
                             Feature.ospf, Feature.vrrp, Feature.mgmt_hardening})


def whole_file(running: str, intended: str) -> list[str]:
    """The remediation of a file that is replaced as a whole: all of it, or nothing."""
    return [] if running.strip() == intended.strip() else intended.splitlines()


@dataclass(frozen=True)
class Kind:
    name: str
    platform: str  # the platform folder that defines it
    netmiko_type: str
    ansible_network_os: str | None  # None: a Linux host managed by plain SSH
    ansible_connection: str
    config_files: tuple[str, ...]  # file names rendered per device, from its templates
    supports: frozenset[Feature]
    # The rendered file that is the device's configuration, pushed by its driver (None:
    # the device is provisioned as a host, not pushed), and the diff that takes a
    # running configuration of that file to the intended one: the one remediation of
    # both `pesdc render --against` and `pesdc net plan`.
    config_file: str | None = None
    diff: Diff | None = None
    # The readback of the policy the configuration permits (firewalls, gatekeepers).
    reader: Reader | None = None
    # What only this family derives for its templates (an HA peer, trunk VLANs, ...):
    # called with the device's template context once it is built, it adds its keys.
    context: Callable[[dict[str, Any]], None] | None = None

    def template(self, fname: str) -> str:
        """The Jinja name of a file's template: the platform folder is its prefix."""
        return f"{self.platform}/{fname}.j2"

    def remediation(self, fname: str, running: str, intended: str) -> list[str]:
        """The lines that take ``fname`` from running to intended: the platform's diff
        for the configuration it pushes, the whole file for any other file."""
        if fname == self.config_file and self.diff is not None:
            return self.diff(running, intended)
        return whole_file(running, intended)


@dataclass(frozen=True)
class PlatformSpec:
    """One platform folder: ``PLATFORM = PlatformSpec(...)`` in its ``__init__``."""

    name: str  # the folder's name, and the topology's `platform:` value
    folder: Path  # where its templates are
    kinds: tuple[Kind, ...]
    # driver key -> driver class (pesdc.platforms.driver.Driver); a kind that is pushed
    # has a driver under its own name, a variant (huawei_vrpv8) under another key.
    drivers: Mapping[str, type[Any]] = field(default_factory=dict)
    # How the audit reads its configuration; None is an audit error on its devices.
    dialect: Dialect | None = None
    # Which of its kinds a device is (by role, model, ...); default: its only kind.
    choose: Callable[[Device], str] | None = None

    def kind_for(self, device: Device) -> Kind:
        if self.choose is None and len(self.kinds) == 1:
            return self.kinds[0]
        if self.choose is None:
            raise PlatformError(f"platform {self.name} defines {len(self.kinds)} kinds "
                                "and no `choose` to pick one for a device")
        name = self.choose(device)
        for kind in self.kinds:
            if kind.name == name:
                return kind
        raise PlatformError(f"platform {self.name} chose kind {name!r} for device "
                            f"{device.name}, which it does not define")
