"""The independent judge of `pesdc export awx`: the awx.awx collection of the ansible
12.3.0 community package (scripts/setup.sh unpacks it into .collections/).

Each module's DOCUMENTATION (with the awx.awx.auth fragment it extends) is turned into
an argument_spec and every task's arguments are checked with ansible-core's own
``ArgumentSpecValidator``, the validator AnsibleModule runs: unknown options, wrong
types and choices, missing required options and bad suboptions all fail.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from tests.conftest import ROOT

COLLECTIONS = ROOT / ".collections"
AWX = COLLECTIONS / "ansible_collections" / "awx" / "awx"
VENV_BIN = Path(sys.executable).parent


def collection() -> Path:
    if not (AWX / "MANIFEST.json").is_file():
        pytest.fail(f"{AWX} is missing: scripts/setup.sh unpacks the awx.awx collection "
                    "of the ansible package there; run scripts/setup.sh", pytrace=False)
    return AWX


def _doc_of(source: str, in_class: bool = False) -> dict[str, Any]:
    tree = ast.parse(source)
    nodes = (n for c in tree.body if isinstance(c, ast.ClassDef) for n in c.body) \
        if in_class else iter(tree.body)
    for node in nodes:
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "DOCUMENTATION"):
            assert isinstance(node.value, ast.Constant)
            return yaml.safe_load(node.value.value)
    raise AssertionError("no DOCUMENTATION")


def _spec(options: dict[str, Any]) -> dict[str, Any]:
    """DOCUMENTATION options -> argument_spec (the keys AnsibleModule reads)."""
    out: dict[str, Any] = {}
    for name, opt in options.items():
        entry: dict[str, Any] = {"type": opt.get("type", "str")}
        for key in ("elements", "choices", "required", "aliases", "default", "no_log"):
            if key in opt:
                entry[key] = opt[key]
        if "suboptions" in opt:
            entry["options"] = _spec(opt["suboptions"])
        out[name] = entry
    return out


@cache
def argument_spec(module: str) -> dict[str, Any]:
    """The argument_spec of awx.awx.MODULE from its documentation and fragments."""
    base = collection() / "plugins"
    doc = _doc_of((base / "modules" / f"{module}.py").read_text(encoding="utf-8"))
    options = dict(doc["options"])
    fragments = doc.get("extends_documentation_fragment") or []
    for frag in [fragments] if isinstance(fragments, str) else fragments:
        ns, coll, name = frag.split(".")
        assert (ns, coll) == ("awx", "awx"), frag
        fdoc = _doc_of((base / "doc_fragments" / f"{name}.py").read_text(encoding="utf-8"),
                       in_class=True)
        options.update(fdoc["options"])
    return _spec(options)


def errors_of(module: str, args: dict[str, Any]) -> list[str]:
    result = ArgumentSpecValidator(argument_spec(module)).validate(dict(args))
    return [str(e) for e in result.errors]


class Loader(yaml.SafeLoader):
    """YAML as Ansible reads it here: ``!unsafe`` scalars are strings."""


Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def tasks(awx_yml: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """(task name, module short name, arguments) of every task of awx.yml."""
    plays = yaml.load(awx_yml.read_text(encoding="utf-8"), Loader=Loader)
    out = []
    for task in plays[0]["tasks"]:
        [module] = [k for k in task if k != "name"]
        assert module.startswith("awx.awx."), module
        out.append((task["name"], module.removeprefix("awx.awx."), task[module]))
    return out


def syntax_check(playbook: Path, *more: Path) -> subprocess.CompletedProcess[str]:
    """ansible-playbook --syntax-check of one or more playbooks, with the collection."""
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collection().parents[2]),
           "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false", "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run([str(VENV_BIN / "ansible-playbook"), "--syntax-check",
                           str(playbook), *map(str, more)], capture_output=True, text=True, env=env,
                          cwd=playbook.parent, timeout=300)
