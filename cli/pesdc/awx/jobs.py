"""The jobs AWX runs for a center, and the playbooks behind them.

Each playbook runs on the execution node (inside the pesdc execution environment) as a
local play that calls pesdc with an argument list, never a shell line: the center, the
tree and the connection profile are extra variables of the job template, the secrets
come from AWX credentials as environment variables or an injected file, and nothing of
the topology reaches a command as text to be parsed.

Job templates per center: apply, net apply, verify, audit (live, through the center's
bastion, pinned to its instance group). Per city that can move to a next stage: a
workflow rehearse -> verify -> audit of the target stage in a lab, each failure leading
to the rollback node (the rehearsal lab is discarded; the live center never changed).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

# Job kinds: (suffix of the job template's name, playbook, credentials' suffixes).
LIVE_JOBS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("apply", "apply.yml", ("ssh", "secrets")),
    ("net apply", "net-apply.yml", ("ssh", "network", "secrets")),
    ("verify", "verify.yml", ("ssh", "network")),
    ("audit", "audit.yml", ("ssh",)),
)
REHEARSAL_JOBS: tuple[tuple[str, str, str], ...] = (
    # (workflow node identifier, job template suffix, playbook)
    ("rehearse", "rehearse", "rehearse.yml"),
    ("verify", "rehearsal verify", "verify.yml"),
    ("audit", "rehearsal audit", "audit.yml"),
    ("rollback", "rehearsal rollback", "rollback.yml"),
)
LAB_NAME_MAX = 24  # pesdc lab names: lower-case letters, digits, '-', '_' (lab/group.py)


@dataclass(frozen=True)
class JobTemplate:
    name: str
    center: str
    playbook: str
    credentials: tuple[str, ...]
    extra_vars: dict[str, Any] = field(default_factory=dict)
    instance_group: str = ""
    check_allowed: bool = False  # apply and net apply: a launch may ask for a check run


def lab_name(city: str) -> str:
    """The rehearsal lab of a city: a valid lab name, distinct for distinct cities."""
    plain = re.sub(r"[^a-z0-9_-]", "-", city.lower())
    name = f"rh-{plain}"
    if name != f"rh-{city}" or len(name) > LAB_NAME_MAX:
        digest = hashlib.sha256(city.encode()).hexdigest()[:6]
        name = f"rh-{plain[:LAB_NAME_MAX - 10]}-{digest}"
    return name


def next_stage(stage: int | None) -> int | None:
    """The stage a city's rehearsal moves to (none past stage 3)."""
    to = (stage or 0) + 1
    return to if to <= 3 else None


# -- playbooks ---------------------------------------------------------------------
_ENV = "lookup('ansible.builtin.env', '{0}', default='')"
# lab: the rehearsal's lab; live: through the center's bastion; static (audit only): the
# topology and the rendered files alone.
_TARGET = ("{{ ['--lab', pesdc_lab] if pesdc_target == 'lab' else ['--live', pesdc_profile] "
           "if pesdc_target == 'live' else [] }}")
_SECRETS = ("{{ ['--secrets', " + _ENV.format("PESDC_SECRETS_FILE") + "] if "
            + _ENV.format("PESDC_SECRETS_FILE") + " else [] }}")
_CHECK = "{{ ['--check'] if ansible_check_mode else [] }}"
# Results per center (the layout `pesdc report national` reads): PESDC_RESULTS_DIR, else
# results/ in the project. The rehearsal's target tree: where `stage rehearse` wrote it.
_RESULTS = ("{{ lookup('ansible.builtin.env', 'PESDC_RESULTS_DIR', "
            "default=pesdc_project_root ~ '/results') }}/{{ pesdc_center }}")
_REHEARSAL_TREE = ("{{ lookup('ansible.builtin.env', 'PESDC_STATE_DIR', "
                   "default='/var/lib/pesdc') }}/stages/{{ pesdc_lab }}/target")


def _play(title: str, depth: int, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One local play: the project root from the playbook's folder (``depth`` up), a
    results folder per center, then the steps; the results are reported as stats."""
    root = "{{ playbook_dir }}" + "/.." * depth
    return [{
        "name": title,
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {
            "pesdc_target": "live",
            "pesdc_project_root": root,
            "pesdc_results": _RESULTS,
            "pesdc_target_args": _TARGET,
            "pesdc_secrets_args": _SECRETS,
            "pesdc_check_args": _CHECK,
            "pesdc_rehearsal_tree": _REHEARSAL_TREE,
            "pesdc_tree_used": "{{ pesdc_rehearsal_tree if pesdc_tree_from | default('') "
                               "== 'rehearsal' else pesdc_tree }}",
        },
        "tasks": [
            {"name": "Results folder of the center",
             "ansible.builtin.file": {"path": "{{ pesdc_results }}", "state": "directory",
                                      "mode": "0700"}},
            *steps,
        ],
    }]


def _pesdc(name: str, argv: str, out: str | None, changes: bool) -> list[dict[str, Any]]:
    """Run pesdc (argv: a Jinja list expression), keep its standard output as a result
    file, report the exit status as stats; a non-zero status fails the job."""
    run: dict[str, Any] = {
        "name": f"Run {name}",
        "ansible.builtin.command": {"argv": argv, "chdir": "{{ pesdc_project_root }}"},
        "register": "pesdc_run",
        "check_mode": False,  # pesdc's own --check is the dry run, not Ansible's skip
    }
    # Read-only commands change nothing; an apply that succeeded may have changed hosts.
    run["changed_when"] = "pesdc_run.rc == 0" if changes else False
    always: list[dict[str, Any]] = [
        {"name": "Report the result",
         "ansible.builtin.set_stats": {"data": {"pesdc": {
             "center": "{{ pesdc_center }}", "command": name,
             "rc": "{{ pesdc_run.rc | default(-1) }}",
             "results": "{{ pesdc_results }}"}}}},
    ]
    if out:
        always.insert(0, {"name": "Keep the output",
                          "ansible.builtin.copy": {
                              "content": "{{ pesdc_run.stdout | default('') }}",
                              "dest": "{{ pesdc_results }}/" + out, "mode": "0600"},
                          "check_mode": False})
    return [{"name": f"Run {name} and keep its results", "block": [run],
             "always": always}]


def _argv(*parts: str) -> str:
    return "{{ " + " + ".join(parts) + " }}"


_BASE = "['--dc', pesdc_center]"


def playbooks(depth: int) -> dict[str, list[dict[str, Any]]]:
    """The playbooks under playbooks/, by file name; ``depth``: folders from the
    playbooks' folder up to the project's root."""
    tree = "pesdc_tree_used"
    return {
        "apply.yml": _play("Apply one center with pesdc", depth, _pesdc(
            "pesdc apply", _argv(f"['pesdc', 'apply', {tree}]", _BASE, "pesdc_target_args",
                                 "['--yes', '--json']", "pesdc_secrets_args",
                                 "pesdc_check_args"), "apply.json", True)),
        "net-apply.yml": _play("Apply the network gear of one center with pesdc", depth, _pesdc(
            "pesdc net apply", _argv(f"['pesdc', 'net', 'apply', {tree}]", _BASE,
                                     "pesdc_target_args", "['--yes', '--json']",
                                     "pesdc_secrets_args", "pesdc_check_args"),
            "net-apply.json", True)),
        "verify.yml": _play("Verify one center with pesdc", depth, _pesdc(
            "pesdc verify", _argv(f"['pesdc', 'verify', {tree}]", _BASE, "pesdc_target_args",
                                  "['--junit', pesdc_results ~ '/verify.xml', '--html', "
                                  "pesdc_results ~ '/verify.html']"),
            "verify.txt", False)),
        "audit.yml": _play("Audit one center with pesdc", depth, _pesdc(
            "pesdc audit", _argv(f"['pesdc', 'audit', {tree}]", _BASE, "pesdc_target_args",
                                 "['--format', 'json', '-o', pesdc_results ~ '/audit.json']"),
            None, False)),
        "rehearse.yml": _play("Rehearse the stage move of one city in a lab", depth, _pesdc(
            "pesdc stage rehearse", _argv("['pesdc', 'stage', 'rehearse', pesdc_tree]", _BASE,
                                          "['--to', pesdc_stage_to | string, '--lab', "
                                          "pesdc_lab, '--json']"),
            "rehearsal.json", True)),
        "rollback.yml": _play("Roll the rehearsal back: discard its lab", depth,
                              _pesdc("pesdc lab down",
                                     _argv("['pesdc', 'lab', 'down', '--name', pesdc_lab]"), None,
                                     True)),
    }
