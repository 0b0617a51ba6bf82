"""How long-running library code says how far it got, without knowing who listens.

Library code (the provisioning engines, verify, audit, the lab, the network push, a
stage rehearsal) takes a :class:`Progress` and calls it; it never imports the command
line. The default, :data:`NONE`, does nothing. The command line passes its reporter
(:mod:`pesdc.cli.reporting`: a live bar on a terminal, one flushed line per step on
stderr otherwise).

The calls, in a run's order:

- ``start(total, what)``: the work (or a further phase of it) begins, ``total`` more
  steps (None: not known);
- ``begin(name, what, group)``: a step of ``name`` (a host, a device, a check)
  starts, so a reporter can say that it runs and, while it runs, for how long;
  ``group`` is what steps of several names running at once share (the operation
  ``apt packages`` of ``operation 3/17 apt packages`` on every host): a reporter names
  it once with their count ("apt packages on 4 hosts"); default ``what``;
- ``step(name, what, status, group)``: that step ended (``status``: ``ok``,
  ``changed``, ``failed: cause``...); it counts towards ``total``;
- ``note(text)``: a phase of the run without a count ("probing isolation");
- ``done()``: the work ended (the reporter prints its last line, stops its bar).

Every call may come from any thread: the engines run hosts in parallel.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Progress(Protocol):
    def start(self, total: int | None, what: str) -> None: ...

    def begin(self, name: str, what: str = "", group: str | None = None) -> None: ...

    def step(self, name: str, what: str = "", status: str = "ok",
             group: str | None = None) -> None: ...

    def note(self, text: str) -> None: ...

    def done(self) -> None: ...


class NoProgress:
    """Says nothing: the default of every library function taking a Progress."""

    def start(self, total: int | None, what: str) -> None:
        return None

    def begin(self, name: str, what: str = "", group: str | None = None) -> None:
        return None

    def step(self, name: str, what: str = "", status: str = "ok",
             group: str | None = None) -> None:
        return None

    def note(self, text: str) -> None:
        return None

    def done(self) -> None:
        return None


NONE: Progress = NoProgress()


def or_none(progress: Progress | None) -> Progress:
    """The progress given, else the one that says nothing."""
    return progress if progress is not None else NONE


def host_label(host: str) -> str:
    """A host as the reports name it, ``center/name`` (``app-1.jinan`` -> ``jinan/app-1``);
    a name without a center as it is."""
    name, dot, center = host.partition(".")
    return f"{center}/{name}" if dot and center else host
