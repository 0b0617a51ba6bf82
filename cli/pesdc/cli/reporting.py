"""The command line's :class:`pesdc.progress.Progress`: what a long command shows while
it works, always on stderr (stdout holds the report, the JSON).

- On a terminal: a rich bar (steps done of the total, elapsed time, the step that runs
  now), gone when the command ends.
- Otherwise (a pipe, a file, CI, a log collector): one line per step, written and
  flushed at once, ``[  12.4s] jinan/app-1: operation 3/17 apt packages ... ok``: a line
  when a step starts and when it ends, and while steps run without any line for
  ``heartbeat`` seconds (30), one saying what still runs and for how long
  (``[  60.3s] ... still running: apt packages on 4 hosts, 60 s``), so that a slow
  step is never silence.

:func:`reporter` chooses by whether stderr is a terminal.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any

from pesdc.i18n import N_, NC_, translator
from pesdc.model.diagnostics import printable
from pesdc.progress import NoProgress

HEARTBEAT = 30.0  # seconds without a line, while something runs, before one says so
# The status words of a step (msgctxt "progress": a bare "ok" or "failed" means other
# things elsewhere in the catalog).
STATUS_CONTEXT = "progress"
STATUS_WORDS = {"ok": NC_("progress", "ok"), "changed": NC_("progress", "changed"),
                "failed": NC_("progress", "failed"), "error": NC_("progress", "error"),
                "skipped": NC_("progress", "skipped"),
                "unreachable": NC_("progress", "unreachable")}


def _language() -> str:
    from pesdc.cli.language import cli_language

    return cli_language()


class _Base:
    """What both reporters share: the language, the clock, the count, a lock (steps are
    reported from the engines' threads)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 lang: str | None = None, origin: float | None = None) -> None:
        catalog = translator(lang or _language())
        self.tr = catalog.gettext
        self.trc = catalog.pgettext
        self.clock = clock
        self.t0 = clock() if origin is None else origin
        self.lock = threading.Lock()
        self.total: int | None = None
        self.count = 0
        self.what = ""
        self.failed = 0

    def status_text(self, status: str) -> str:
        """A status as shown: its first word translated, the cause after it as is."""
        word, sep, rest = status.partition(":")
        known = STATUS_WORDS.get(word.strip())
        if known is None:
            return printable(status)
        return self.trc(STATUS_CONTEXT, known) + (sep + printable(rest) if sep else "")

    def add_total(self, total: int | None, what: str) -> None:
        """A further phase's steps add to the earlier ones'."""
        if total is not None:
            self.total = (self.total or 0) + total
        self.what = what

    def counted(self, status: str) -> None:
        self.count += 1
        if status.split(":")[0].strip() in ("failed", "error", "unreachable"):
            self.failed += 1

    def __enter__(self) -> Any:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.done()

    def done(self) -> None:  # pragma: no cover - each reporter has its own
        raise NotImplementedError


class LineReporter(_Base):
    """One flushed line per event on ``stream`` (stderr), for whatever reads a pipe."""

    def __init__(self, stream: IO[str] | None = None, clock: Callable[[], float] =
                 time.monotonic, heartbeat: float = HEARTBEAT, lang: str | None = None,
                 tick: float = 1.0, origin: float | None = None) -> None:
        super().__init__(clock, lang, origin)
        self.stream = stream if stream is not None else sys.stderr
        self.heartbeat = heartbeat
        self.last_line = self.t0
        # (name, group) -> (what, since): the steps that run now
        self.running: dict[tuple[str, str], tuple[str, float]] = {}
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self.tick = tick
        self.ended = False

    def _line(self, text: str) -> None:
        """Write one line now (callers hold the lock)."""
        now = self.clock()
        self.last_line = now
        try:
            self.stream.write(f"[{now - self.t0:7.1f}s] {text}\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed pipe (the reader went away) must not stop the work

    def _watch(self) -> None:
        """The heartbeat, in a thread of its own while the run lasts."""
        while not self._stop.wait(self.tick):
            self.beat()

    def beat(self) -> None:
        """A heartbeat line when steps run and no line was written for ``heartbeat``
        seconds (called by the thread; the tests call it with their own clock)."""
        with self.lock:
            now = self.clock()
            if not self.running or now - self.last_line < self.heartbeat:
                return
            groups: dict[str, list[tuple[str, float]]] = {}
            for (name, group), (_what, since) in self.running.items():
                groups.setdefault(group, []).append((name, since))
            parts = []
            for group, names in sorted(groups.items(), key=lambda kv: min(s for _, s
                                                                          in kv[1])):
                seconds = int(now - min(s for _, s in names))
                where = (self.tr(N_("{group} on {count} hosts")).format(group=group,
                                                                    count=len(names))
                         if len(names) > 1 else
                         self.tr(N_("{group} on {name}")).format(group=group, name=names[0][0]))
                parts.append(self.tr(N_("{what}, {seconds} s")).format(what=where,
                                                                   seconds=seconds))
            self._line(self.tr(N_("... still running: {what}")).format(
                what="; ".join(printable(p) for p in parts[:4])))

    def start(self, total: int | None, what: str) -> None:
        with self.lock:
            self.add_total(total, what)
            self._line(printable(what) + (self.tr(N_(" ({total} steps)")).format(total=total)
                                          if total else ""))
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._watch, name="pesdc-heartbeat",
                                            daemon=True)
            self._ticker.start()

    def _count(self) -> str:
        return f"{self.count}/{self.total}" if self.total else str(self.count)

    def begin(self, name: str, what: str = "", group: str | None = None) -> None:
        with self.lock:
            self.running[(name, group or what)] = (what, self.clock())
            self._line(f"{printable(name)}: {printable(what)} ...")

    def step(self, name: str, what: str = "", status: str = "ok",
             group: str | None = None) -> None:
        with self.lock:
            self.running.pop((name, group or what), None)
            self.counted(status)
            self._line(f"{printable(name)}: {printable(what)} ... {self.status_text(status)}"
                       if what else f"{printable(name)}: {self.status_text(status)}")

    def note(self, text: str) -> None:
        with self.lock:
            self._line(printable(text))

    def done(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
            self._ticker = None
        with self.lock:
            if self.ended:
                return
            self.ended = True
            self.running.clear()
            self._line(self.tr(N_("done: {count} step(s), {failed} failed")).format(
                count=self._count(), failed=self.failed))


class BarReporter(_Base):
    """A rich bar on the terminal: steps done of the total, elapsed, what runs now."""

    def __init__(self, console: Any = None, clock: Callable[[], float] = time.monotonic,
                 lang: str | None = None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        from pesdc.cli.common import TerminalConsole

        super().__init__(clock, lang)
        self.console = console if console is not None else TerminalConsole(stderr=True)
        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(),
                            console=self.console, transient=True)
        self.task = self.bar.add_task("", total=None)
        self.bar.start()
        self.stopped = False

    def _show(self, now: str) -> None:
        text = f"{self.what}: {now}" if self.what and now else (self.what or now)
        self.bar.update(self.task, description=printable(text)[:100])

    def start(self, total: int | None, what: str) -> None:
        with self.lock:
            self.add_total(total, what)
            self.bar.update(self.task, total=self.total)
            self._show("")

    def begin(self, name: str, what: str = "", group: str | None = None) -> None:
        with self.lock:
            self._show(f"{name}: {what}")

    def step(self, name: str, what: str = "", status: str = "ok",
             group: str | None = None) -> None:
        with self.lock:
            self.counted(status)
            self.bar.advance(self.task)
            if status.split(":")[0] not in ("ok", "changed"):
                # A failure stays on the screen above the bar.
                self.bar.console.print(f"{printable(name)}: {printable(what)} ... "
                                       f"{self.status_text(status)}", markup=False,
                                       highlight=False)

    def note(self, text: str) -> None:
        with self.lock:
            self._show(text)

    def done(self) -> None:
        with self.lock:
            if not self.stopped:
                self.stopped = True
                self.bar.stop()


def is_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def reporter(stream: IO[str] | None = None, enabled: bool = True) -> Any:
    """The reporter for ``stream`` (stderr): a bar on a terminal, lines otherwise; one
    that says nothing when not ``enabled``. Use as a context manager (``done`` at the
    end, also on an error)."""
    if not enabled:
        return _Quiet()
    stream = stream if stream is not None else sys.stderr
    if is_terminal(stream):
        from pesdc.cli.common import TerminalConsole

        return BarReporter(TerminalConsole(file=stream))
    return LineReporter(stream, origin=command_started())


def command_started() -> float | None:
    """When the command started, on the monotonic clock: the process's start (a lab run
    re-executes itself inside the lab's namespace, keeping its process and so its start
    time), so that elapsed times count from the command line, not from the reporter.
    None where /proc does not say."""
    import os

    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        age = uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime
    except (OSError, ValueError, IndexError):
        return None
    return time.monotonic() - age if 0 <= age < 86400 else None


class _Quiet(NoProgress):
    """A reporter that says nothing, usable as a context manager."""

    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None
