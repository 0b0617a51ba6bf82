"""The top-level group's subcommands, imported when one is used rather than at start-up.

Every `pesdc` run used to import all 22 commands' modules (render, verify, the lab, the
scaffold, ...) before doing anything: about 0.13 s of CPU, a tenth of what `validate`
of the national tree with one file changed is allowed (issue 19). Click looks a
subcommand up by name (``commands.get``) and lists names (``sorted(commands)``), so a
mapping that imports on lookup keeps every click path the same; help and the
translation code that walk every command (``commands.values()``) import them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping

import click


class LazyCommands(MutableMapping[str, click.Command]):
    """``name -> (module, attribute)``; the command is imported on first lookup."""

    def __init__(self, where: Mapping[str, tuple[str, str]]) -> None:
        self._where = dict(where)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, attribute = self._where[name]  # KeyError: no such command
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command) or command.name != name:
                raise TypeError(f"{module}.{attribute} is not the command {name!r}")
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command
        self._where.pop(name, None)

    def __delitem__(self, name: str) -> None:
        if name not in self._loaded and name not in self._where:
            raise KeyError(name)
        self._loaded.pop(name, None)
        self._where.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter([*self._where, *(n for n in self._loaded if n not in self._where)])

    def __len__(self) -> int:
        return len(set(self._where) | set(self._loaded))

    def __contains__(self, name: object) -> bool:  # without importing it
        return name in self._where or name in self._loaded
