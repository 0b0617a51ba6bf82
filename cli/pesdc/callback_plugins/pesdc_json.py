"""Ansible callback: per-host results of a pesdc run as one JSON file.

ansible-core ships no JSON callback (ansible.posix.json is a collection), so pesdc
brings this small aggregate callback. It leaves the screen output to the stdout
callback and writes, when the play ends, the file named by PESDC_ANSIBLE_RESULTS:

    {"hosts": {HOST: {"ok": n, "changed": n, "changes": [task, ...],
                      "failed": bool, "unreachable": bool, "error": str|null,
                      "diffs": [...]}}, "stats": {...}}

While the play runs it also appends one JSON line per event, flushed at once, to the
file named by PESDC_ANSIBLE_EVENTS (when set), which pesdc follows to show progress:

    {"ev": "start", "host": HOST, "task": NAME, "n": TASK_NUMBER}
    {"ev": "ok" | "changed" | "failed" | "unreachable" | "skipped", "host": HOST,
     "task": NAME, "n": TASK_NUMBER, "error": str (failed, unreachable)}
    {"ev": "end"}

Enable with ANSIBLE_CALLBACKS_ENABLED=pesdc_json and ANSIBLE_CALLBACK_PLUGINS=<this dir>.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: pesdc_json
    type: aggregate
    short_description: per-host results of a pesdc run as JSON
    description:
      - Writes changed task names, failures and unreachable hosts per host to the file
        named by the PESDC_ANSIBLE_RESULTS environment variable.
    requirements:
      - enable in the callbacks_enabled setting
"""

RESULTS_ENV = "PESDC_ANSIBLE_RESULTS"
EVENTS_ENV = "PESDC_ANSIBLE_EVENTS"


def _label(result: Any) -> str:
    task = result._task
    name = task.get_name().strip()
    role = getattr(task, "_role", None)
    if role is not None and not name.startswith(f"{role.get_name()} :"):
        name = f"{role.get_name()} : {name}"
    item = result._result.get("item") if isinstance(result._result, dict) else None
    if item is not None:
        label = item.get("path") or item.get("name") if isinstance(item, dict) else item
        name = f"{name} ({label})"
    return str(name)


def _error(res: dict[str, Any]) -> str:
    msg = res.get("msg") or res.get("stderr") or res.get("module_stderr") or ""
    if not msg and res.get("results"):
        msg = "; ".join(str(r.get("msg", "")) for r in res["results"]
                        if isinstance(r, dict) and r.get("failed"))
    return str(msg).strip()[:2000]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "pesdc_json"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.hosts: dict[str, dict[str, Any]] = {}
        self.timings: list[list[Any]] = []  # [task name, seconds]
        self._task_started: float | None = None
        self._tasks = 0  # tasks started so far: the number of the current one
        path = os.environ.get(EVENTS_ENV)
        self._events = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115

    def _event(self, ev: str, result: Any = None, **kw: Any) -> None:
        """One line of the events file, flushed: pesdc reads it while the play runs."""
        if self._events is None:
            return
        line: dict[str, Any] = {"ev": ev, "n": self._tasks, **kw}
        if result is not None:
            line["host"] = result._host.get_name()
            line["task"] = result._task.get_name().strip()
        try:
            self._events.write(json.dumps(line, default=str) + "\n")
            self._events.flush()
        except (OSError, ValueError):
            self._events = None  # progress is a courtesy: never fail the play for it

    def v2_runner_on_start(self, host: Any, task: Any) -> None:
        if self._events is not None:
            self._event("start", host=host.get_name(), task=task.get_name().strip())

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._event("skipped", result)

    def _close_task(self) -> None:
        if self._task_started is not None and self.timings:
            self.timings[-1][1] = round(time.monotonic() - self._task_started, 3)
        self._task_started = None

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._close_task()
        self.timings.append([task.get_name().strip(), 0.0])
        self._tasks += 1
        self._task_started = time.monotonic()

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self.v2_playbook_on_task_start(task, False)

    def _host(self, result: Any) -> dict[str, Any]:
        name = result._host.get_name()
        return self.hosts.setdefault(name, {
            "ok": 0, "changed": 0, "changes": [], "failed": False, "unreachable": False,
            "error": None, "diffs": []})

    def v2_runner_on_ok(self, result: Any) -> None:
        h = self._host(result)
        h["ok"] += 1
        res = result._result
        self._event("changed" if res.get("changed") else "ok", result)
        if res.get("changed") and not res.get("results"):
            h["changed"] += 1
            h["changes"].append(_label(result))
            if res.get("diff"):
                h["diffs"].append({"task": _label(result), "diff": _plain(res["diff"])})

    def v2_runner_item_on_ok(self, result: Any) -> None:
        if result._result.get("changed"):
            h = self._host(result)
            h["changed"] += 1
            h["changes"].append(_label(result))
            if result._result.get("diff"):
                h["diffs"].append({"task": _label(result),
                                   "diff": _plain(result._result["diff"])})

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        if ignore_errors:
            self._event("ok", result)
            return
        self._event("failed", result, error=_error(result._result)[:300])
        h = self._host(result)
        h["failed"] = True
        h["error"] = h["error"] or f"{_label(result)}: {_error(result._result)}"

    def v2_runner_item_on_failed(self, result: Any) -> None:
        return  # reported once by v2_runner_on_failed for the whole loop

    def v2_runner_on_unreachable(self, result: Any) -> None:
        if getattr(result._task, "ignore_unreachable", False):
            self._event("ok", result)
            return  # a probe (the login account), not a failure
        self._event("unreachable", result, error=_error(result._result)[:300])
        h = self._host(result)
        h["unreachable"] = True
        h["failed"] = True
        h["error"] = h["error"] or f"unreachable: {_error(result._result)}"

    def v2_playbook_on_stats(self, stats: Any) -> None:
        self._close_task()
        self._event("end")
        summary: dict[str, dict[str, Any]] = {h: stats.summarize(h)
                                              for h in sorted(stats.processed)}
        out = {"hosts": self.hosts, "stats": summary, "task_seconds": self.timings}
        for name, s in summary.items():
            h = self.hosts.setdefault(name, {
                "ok": 0, "changed": 0, "changes": [], "failed": False,
                "unreachable": False, "error": None, "diffs": []})
            if s.get("failures") or s.get("unreachable"):
                h["failed"] = True
            if s.get("unreachable"):
                h["unreachable"] = True
        path = os.environ.get(RESULTS_ENV)
        if path:
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(out, fh, indent=1, default=str)


def _plain(diff: Any) -> Any:
    """Diffs hold Ansible's tagged strings; keep only plain JSON types."""
    return json.loads(json.dumps(diff, default=str))
