"""The three administrators' duties (三权分立, GB/T 22239-2019 8.1.4.2 d), read from
data/admin_duties.yaml: the one place that says which commands each may run as root.

The sudoers template writes the file from :func:`sudoers_context`; verify and audit take
:func:`duties` (what ``sudo -l`` must show of each administrator, and what it must not:
the programs only the other two hold)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from pesdc.model.schema import Admins

DATA = "data/admin_duties.yaml"
ALIAS_LINE = 70  # columns of commands per sudoers continuation line


@dataclass(frozen=True)
class Duty:
    role: str  # system, audit, security (the fields of model.schema.Admins)
    summary: str
    must: tuple[str, ...]  # programs sudo must grant it
    must_not: tuple[str, ...]  # programs only the other administrators hold


@cache
def _data() -> dict[str, Any]:
    text = resources.files("pesdc").joinpath(DATA).read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    if set(data["roles"]) != set(Admins.model_fields):
        raise ValueError(f"{DATA}: roles {sorted(data['roles'])} are not the administrators "
                         f"of the schema {sorted(Admins.model_fields)}")
    return data


def _commands(alias: dict[str, Any], os_family: str) -> list[str]:
    cmds = alias["commands"]
    return list(cmds[os_family] if isinstance(cmds, dict) else cmds)


def _aliases(os_family: str) -> dict[str, list[str]]:
    return {name: _commands(a, os_family) for s in _data()["sections"]
            for name, a in s["aliases"].items()}


def granted(role: str, os_family: str) -> list[str]:
    """The commands (with their arguments) a role may run, in sudoers order."""
    aliases = _aliases(os_family)
    return [c for name in _data()["roles"][role]["grants"] for c in aliases[name]]


def _programs(commands: list[str]) -> list[str]:
    return list(dict.fromkeys(c.split()[0] for c in commands))


@cache
def duties(os_family: str) -> dict[str, Duty]:
    """Per administrator role, its duty as ``sudo -l`` shows it."""
    roles = _data()["roles"]
    progs = {r: _programs(granted(r, os_family)) for r in roles}
    out = {}
    for role, d in roles.items():
        others = [p for r in roles if r != role for p in progs[r] if p not in progs[role]]
        out[role] = Duty(role, d["summary"], tuple(progs[role]),
                         tuple(dict.fromkeys(others)))
    return out


def _lines(commands: list[str]) -> list[str]:
    """Commands joined by ", " in lines of at most ALIAS_LINE columns."""
    lines: list[str] = []
    for cmd in commands:
        if lines and len(lines[-1]) + len(cmd) + 2 <= ALIAS_LINE:
            lines[-1] += f", {cmd}"
        else:
            lines.append(cmd)
    return lines


def sudoers_context(os_family: str) -> dict[str, Any]:
    """What templates/linux/server/sudoers-admins.j2 writes, for one OS family (plain
    data: the Ansible roles render the same template from host_vars)."""
    data = _data()
    sections = [{"title": s["title"], "aliases": [
        {"name": name, "lines": _lines(_commands(a, os_family)),
         "note": textwrap.wrap(a.get("note", ""), 88)}
        for name, a in s["aliases"].items()]} for s in data["sections"]]
    roles = {}
    for role, d in data["roles"].items():
        rights = ", ".join([*d["grants"], *(f"!{n}" for n in d.get("denies", []))])
        roles[role] = {"label": f"{role:<8}", "header": d["header"],
                       "rights": f"{d['tag']}: {rights}" if d.get("tag") else rights}
    return {"sections": sections, "roles": roles}
