"""Every device platform pesdc knows is one package here: ``pesdc/platforms/<name>/``.

A platform folder holds all of that platform's knowledge: its kinds (netmiko type,
Ansible network OS, features, configuration files), its templates, its push driver,
the audit dialect that reads its configuration, its policy readback and its
remediation. Its ``__init__`` exports ``PLATFORM`` (a ``spec.PlatformSpec``). The
folders are discovered, never listed: the schema's Platform enum is made of their
names, and the kind, driver and dialect lookups below are derived from them. Adding a
platform is adding a folder.

Folders outside the installed package are found through ``PESDC_PLATFORM_PATH`` (a
``os.pathsep``-separated list of directories whose sub-folders are platform packages):
they extend this package's ``__path__``, so they import as ``pesdc.platforms.<name>``.
Plain modules here (``spec``, ``driver``, ...) are shared code, not platforms.

Nothing is imported until a lookup needs it: the schema reads the folder names only.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from pesdc.platforms.spec import Feature, Kind, PlatformError, PlatformSpec

if TYPE_CHECKING:
    from pesdc.model.schema import Device
    from pesdc.platforms.dialect import Dialect

PATH_VARIABLE = "PESDC_PLATFORM_PATH"

__path__ = [*__path__, *(p for p in os.environ.get(PATH_VARIABLE, "").split(os.pathsep)
                         if p)]


def names() -> list[str]:
    """The platform folders' names, sorted, without importing any of them."""
    return sorted({m.name for m in pkgutil.iter_modules(__path__) if m.ispkg})


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
    """The kind of a device: its platform folder decides (one kind, or by its role)."""
    return platform(device.platform.value).kind_for(device)


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


__all__ = ["PATH_VARIABLE", "Feature", "Kind", "PlatformError", "PlatformSpec",
           "derived", "dialect_of", "drivers", "kind_of", "kinds", "names", "platform",
           "platforms", "template_folders"]
