"""A family's command reference: ``commands.yaml`` in its folder, next to its templates.

It lists every command pattern the family's templates may emit, the view (context) each
is valid in and the vendor document and section it was read in, so a rendered
configuration can be checked line by line against what the device accepts, a judge
that is data read from vendor documents rather than pesdc's own golden files.

Format (one file per family folder):

- ``indent``: spaces per level in the rendered configuration.
- ``views``: name -> ``enter`` (regex of the line that opens the view) and ``parent``
  (the view that line is typed in). A line belongs to the view opened by its nearest
  less-indented line; top-level lines are in ``system``.
- ``commands``: ``pattern`` (regex over the line without its leading spaces), ``view``
  (a view name, or ``any``), ``source`` (document and section), ``note``.
- ``inherits`` (another family folder) and ``drop_inherited`` (regexes over the
  inherited patterns' text): a family that differs from another in a few commands.
- ``banner_body``: present when the family has delimited banners (``banner motd D``
  ... ``D``); the lines between are text, not commands.
- ``sources``, ``commit_model``, ``rejects``: documentation for people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from pesdc.platforms.spec import PlatformError

REFERENCE_FILE = "commands.yaml"
ANY = "any"
SYSTEM = "system"
_BANNER = re.compile(r"^banner \S+ (\S)$")


@dataclass(frozen=True)
class Command:
    pattern: re.Pattern[str]
    view: str
    source: str


@dataclass(frozen=True)
class View:
    name: str
    enter: re.Pattern[str] | None
    parent: str | None


@dataclass(frozen=True)
class Unmatched:
    """A rendered line no pattern of its view accepts."""

    line_no: int
    line: str
    view: str

    def __str__(self) -> str:
        return f"line {self.line_no} (view {self.view}): {self.line.strip()!r}"


@dataclass
class Reference:
    family: str
    path: Path
    indent: int
    views: dict[str, View]
    commands: list[Command]
    banners: bool = False
    _by_view: dict[str, list[Command]] = field(default_factory=dict, repr=False)

    def accepts(self, view: str, text: str) -> bool:
        if view not in self._by_view:
            self._by_view[view] = [c for c in self.commands if c.view in (view, ANY)]
        return any(c.pattern.search(text) for c in self._by_view[view])

    def entered(self, view: str, text: str) -> str | None:
        """The view a line typed in ``view`` opens, if it opens one."""
        for v in self.views.values():
            if v.parent == view and v.enter is not None and v.enter.search(text):
                return v.name
        return None

    def check(self, config: str) -> list[Unmatched]:
        """Every line of a rendered configuration that no pattern of its view accepts."""
        out: list[Unmatched] = []
        stack: list[tuple[int, str]] = []  # (indent of the line that opened it, view)
        banner_end: str | None = None
        for no, raw in enumerate(config.splitlines(), 1):
            if banner_end is not None:  # banner text, up to its delimiter line
                if raw.strip().endswith(banner_end):
                    banner_end = None
                continue
            text = raw.strip()
            if not text:
                continue
            depth = len(raw) - len(raw.lstrip(" "))
            while stack and stack[-1][0] >= depth:
                stack.pop()
            view = stack[-1][1] if stack else SYSTEM
            opens = self.entered(view, text)
            if opens is None and not self.accepts(view, text):
                out.append(Unmatched(no, raw, view))
            if opens is not None:
                stack.append((depth, opens))
            if self.banners and (m := _BANNER.match(text)):
                banner_end = m.group(1)
        return out


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise PlatformError(f"{where}: pattern {pattern!r}: {exc}") from None


@cache
def reference(family: str) -> Reference:
    """The command reference of a family folder (PlatformError when it has none)."""
    from pesdc.platforms import platform

    return load(platform(family).folder / REFERENCE_FILE, family)


def load(path: Path, family: str = "") -> Reference:
    """A command reference file; ``inherits`` names another family folder."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PlatformError(f"family {family} has no readable command reference "
                            f"({path}): {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("commands"), list):
        raise PlatformError(f"{path}: a command reference lists `commands`")
    views: dict[str, View] = {SYSTEM: View(SYSTEM, None, None)}
    commands: list[Command] = []
    banners = "banner_body" in data
    if data.get("inherits"):
        base = reference(str(data["inherits"]))
        drop = [_compile(p, str(path)) for p in data.get("drop_inherited") or []]
        views.update(base.views)
        commands += [c for c in base.commands
                     if not any(d.search(c.pattern.pattern) for d in drop)]
        banners = banners or base.banners
    for name, v in (data.get("views") or {}).items():
        v = v or {}
        enter = _compile(v["enter"], f"{path} view {name}") if v.get("enter") else None
        views[name] = View(name, enter, v.get("parent"))
    for i, c in enumerate(data["commands"]):
        where = f"{path} commands[{i}]"
        if not isinstance(c, dict) or "pattern" not in c or "view" not in c:
            raise PlatformError(f"{where}: needs `pattern` and `view`")
        if c["view"] != ANY and c["view"] not in views:
            raise PlatformError(f"{where}: view {c['view']!r} is not under `views`")
        commands.append(Command(_compile(c["pattern"], where), c["view"],
                                str(c.get("source", ""))))
    return Reference(family, path, int(data.get("indent", 1)), views, commands, banners)
