"""Catalogs shipped as data with pesdc (``pesdc/data``), loaded and typed.

The service-function catalog is the source's Table 1: which application systems
support each of the seven public employment service functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from pesdc.model.schema import DataCenter, System, SystemKind


@dataclass(frozen=True)
class ServiceFunction:
    id: int
    zh: str
    en: str
    systems: tuple[SystemKind, ...]

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@lru_cache(maxsize=1)
def service_functions() -> tuple[ServiceFunction, ...]:
    """The seven functions of Table 1, in the source's order."""
    text = resources.files("pesdc").joinpath("data/service_functions.yaml").read_text("utf-8")
    doc = yaml.safe_load(text)
    out = []
    for item in doc["functions"]:
        out.append(ServiceFunction(
            id=int(item["id"]), zh=str(item["zh"]), en=str(item["en"]),
            systems=tuple(SystemKind(k) for k in item["systems"]),
        ))
    return tuple(out)


@dataclass(frozen=True)
class FunctionTrace:
    """One function traced in one center: for each required kind, the systems serving it."""

    function: ServiceFunction
    by_kind: tuple[tuple[SystemKind, tuple[System, ...]], ...]

    @property
    def missing(self) -> list[SystemKind]:
        return [kind for kind, systems in self.by_kind if not systems]

    @property
    def complete(self) -> bool:
        return not self.missing


def trace_functions(dc: DataCenter) -> list[FunctionTrace]:
    """Trace every Table 1 function to the systems of this center that serve it."""
    out = []
    for fn in service_functions():
        rows = tuple((kind, tuple(s for s in dc.systems if s.kind is kind))
                     for kind in fn.systems)
        out.append(FunctionTrace(fn, rows))
    return out
