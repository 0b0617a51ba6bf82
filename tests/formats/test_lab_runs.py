"""`plan --format json` and `net plan --format json` of a real lab (the session's shared
jinan lab, tests/shared_labs.py): the documents the commands print after reading every
host and device of the center conform to their shipped schemas, and say what they saw.
The offline tests (test_runs.py) judge the same formatters on built results; these judge
the commands themselves."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.formats.conftest import TOPO, conforms
from tests.shared_labs import SharedLab

pytestmark = pytest.mark.lab


def _json_of(*args: str) -> dict:
    res = subprocess.run([sys.executable, "-m", "pesdc", *args], capture_output=True,
                         text=True, timeout=900, stdin=subprocess.DEVNULL,
                         env=os.environ.copy())
    assert res.returncode == 0, f"{args}: rc={res.returncode}\n{res.stderr[-3000:]}"
    return json.loads(res.stdout)


def test_plan_of_the_lab_conforms(jinan_lab: SharedLab) -> None:
    lab = jinan_lab.up()
    doc = _json_of("plan", str(TOPO), "--dc", "jinan", "--lab", lab, "--format", "json")
    conforms("plan", doc)
    assert doc["center"] == "jinan" and doc["action"] == "plan"
    assert len(doc["hosts"]) == 30, sorted(h["host"] for h in doc["hosts"])


def test_net_plan_of_the_lab_conforms(jinan_lab: SharedLab) -> None:
    lab = jinan_lab.up()
    doc = _json_of("net", "plan", str(TOPO), "--dc", "jinan", "--lab", lab,
                   "--format", "json")
    conforms("net-plan", doc)
    assert doc["hosts"] and doc["ok"] is True, doc
