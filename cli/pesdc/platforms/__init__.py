"""Every OS family pesdc knows is one package here: ``pesdc/platforms/<name>/``.

A topology names a device's ``platform`` (the vendor's OS line: ``huawei_vrp``,
``h3c_comware``, ...) and its ``model``; the two resolve to one OS family (VRP5 campus
switch, VRP8 CloudEngine, Comware 7 switch, ...), and a family is a folder. The
folder's ``family.yaml`` says which devices it takes (the platform value it serves and
the model patterns it claims); it is data, read without importing anything, so the
schema's Platform enum is the set of platform values the folders serve. A model no
family claims is a validation error (rule PLAT001) listing the platform's families.

A family folder holds all of that family's knowledge: its kinds (netmiko type, Ansible
network OS, features, configuration files), its templates, its command reference
(``commands.yaml``), its push driver and commit model, the audit dialect that reads its
configuration, its policy readback and its remediation. Its ``__init__`` exports
``PLATFORM`` (a ``spec.PlatformSpec``). The folders are discovered, never listed: the
kind, driver and dialect lookups below are derived from them. Adding a family is adding
a folder.

Folders outside the installed package are found through ``PESDC_PLATFORM_PATH`` (a
``os.pathsep``-separated list of directories whose sub-folders are platform packages):
they extend this package's ``__path__``, so they import as ``pesdc.platforms.<name>``.
Plain modules here (``spec``, ``driver``, ...) are shared code, not platforms.

Nothing is imported until a lookup needs it: the schema reads the ``family.yaml`` files
only.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from pesdc.platforms.spec import Feature, Kind, PlatformError, PlatformSpec

if TYPE_CHECKING:
    from pesdc.model.schema import Device
    from pesdc.platforms.dialect import Dialect

PATH_VARIABLE = "PESDC_PLATFORM_PATH"
CLAIMS_FILE = "family.yaml"

__path__ = [*__path__, *(p for p in os.environ.get(PATH_VARIABLE, "").split(os.pathsep)
                         if p)]


def names() -> list[str]:
    """The family folders' names, sorted, without importing any of them."""
    return sorted({m.name for m in pkgutil.iter_modules(__path__) if m.ispkg})


@dataclass(frozen=True)
class Claim:
    """A family folder's ``family.yaml``: the devices the family takes."""

    family: str  # the folder's name
    title: str  # what an engineer calls it: "Huawei VRP8 CloudEngine switches"
    platform: str  # the topology's `platform:` value it serves
    models: tuple[str, ...]  # regexes searched in the model, case-insensitively

    def takes(self, model: str) -> bool:
        return any(re.search(p, model, re.IGNORECASE) for p in self.models)

    def describe(self) -> str:
        return f"{self.family} ({self.title}; models matching {' or '.join(self.models)})"


def _folder(name: str) -> Path:
    for base in __path__:
        if (Path(base) / name / "__init__.py").is_file():
            return Path(base) / name
    raise PlatformError(f"no platform folder {name!r} (known: {', '.join(names())})")


def _read_claim(name: str) -> Claim:
    path = _folder(name) / CLAIMS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PlatformError(f"family folder {name}: {path} cannot be read: {exc}") from None
    ok = (isinstance(data, dict) and isinstance(data.get("platform"), str)
          and isinstance(data.get("title"), str) and isinstance(data.get("models"), list)
          and data["models"] and all(isinstance(m, str) for m in data["models"]))
    if not ok:
        raise PlatformError(f"{path}: must give `title` (text), `platform` (the topology "
                            "value it serves) and `models` (a list of model regexes)")
    for pattern in data["models"]:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise PlatformError(f"{path}: model pattern {pattern!r}: {exc}") from None
    return Claim(name, data["title"], data["platform"], tuple(data["models"]))


@cache
def claims() -> dict[str, Claim]:
    """Every family folder's claim, by family, read from the YAML alone."""
    return {name: _read_claim(name) for name in names()}


def platform_values() -> list[str]:
    """The topology's `platform:` values: those the family folders serve."""
    return sorted({c.platform for c in claims().values()})


def families_of(platform_value: str) -> list[Claim]:
    return [c for c in claims().values() if c.platform == platform_value]


def family_of(platform_value: str, model: str) -> str:
    """The family folder that takes a device of this platform and model. None or
    several is a PlatformError naming the platform's families."""
    serving = families_of(platform_value)
    taking = [c for c in serving if c.takes(model)]
    if len(taking) == 1:
        return taking[0].family
    listed = "; ".join(c.describe() for c in serving) or "none"
    if not taking:
        raise PlatformError(f"no {platform_value} family takes model {model!r}; the "
                            f"{platform_value} families are: {listed}")
    raise PlatformError(f"model {model!r} is claimed by several {platform_value} "
                        f"families: {', '.join(c.family for c in taking)}")


@cache
def platforms() -> dict[str, PlatformSpec]:
    """Every platform folder, imported and checked once."""
    return {name: _load(name) for name in names()}


def _load(name: str) -> PlatformSpec:
    module = importlib.import_module(f"{__name__}.{name}")
    spec = getattr(module, "PLATFORM", None)
    where = getattr(module, "__file__", None) or name
    if not isinstance(spec, PlatformSpec):
        raise PlatformError(f"platform folder {where} exports no PLATFORM "
                            "(a pesdc.platforms.spec.PlatformSpec)")
    if spec.name != name:
        raise PlatformError(f"platform folder {name} ({where}) calls itself {spec.name!r}")
    foreign = [k.name for k in spec.kinds if k.platform != name]
    if foreign:
        raise PlatformError(f"platform {name}: kinds {', '.join(foreign)} name another "
                            "platform")
    return spec


def platform(name: str) -> PlatformSpec:
    found = platforms().get(name)
    if found is None:
        raise PlatformError(f"no platform folder {name!r} (known: {', '.join(names())})")
    return found


@cache
def kinds() -> dict[str, Kind]:
    """Every kind of every platform, by kind name (which must be unique)."""
    out: dict[str, Kind] = {}
    for spec in platforms().values():
        for kind in spec.kinds:
            if kind.name in out:
                raise PlatformError(f"kind {kind.name} is defined by platforms "
                                    f"{out[kind.name].platform} and {spec.name}")
            out[kind.name] = kind
    return out


def kind_of(device: Device) -> Kind:
    """The kind of a device: its family (platform + model) decides, then the family's
    folder (one kind, or by its role)."""
    return platform(family_of(device.platform.value, device.model)).kind_for(device)


@cache
def drivers() -> dict[str, type[Any]]:
    """Driver key (a kind name, or a variant such as huawei_vrpv8) -> driver class."""
    out: dict[str, type[Any]] = {}
    for spec in platforms().values():
        for key, cls in spec.drivers.items():
            if key in out:
                raise PlatformError(f"driver {key} is defined twice (platform {spec.name})")
            out[key] = cls
    return out


def dialect_of(name: str) -> Dialect:
    """How the audit reads a platform's configuration. A platform without one is an
    error the audit reports on each of its devices, never read in another's syntax."""
    spec = platform(name)
    if spec.dialect is None:
        raise PlatformError(f"platform {name} has no audit dialect: its folder "
                            f"({spec.folder}) must give PLATFORM a dialect before its "
                            "devices can be audited")
    return spec.dialect


V = TypeVar("V")


class _Derived(Mapping[str, V]):
    """A read-only mapping built from the platform folders on first use, so a module
    can name it at import time (``DRIVERS``, ``KINDS``) without discovering anything."""

    def __init__(self, build: Callable[[], Mapping[str, V]]):
        self._build = build

    @cached_property
    def _data(self) -> Mapping[str, V]:
        return self._build()

    def __getitem__(self, key: str) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def derived(build: Callable[[], Mapping[str, V]]) -> Mapping[str, V]:
    return _Derived(build)


def template_folders() -> dict[str, str]:
    """Jinja prefix (the platform's name) -> the folder that holds its templates."""
    return {name: str(spec.folder) for name, spec in platforms().items()}


__all__ = ["CLAIMS_FILE", "PATH_VARIABLE", "Claim", "Feature", "Kind", "PlatformError",
           "PlatformSpec", "claims", "derived", "dialect_of", "drivers", "families_of",
           "family_of", "kind_of", "kinds", "names", "platform", "platform_values",
           "platforms", "template_folders"]
