"""The lab city with its database on a port of its own (issue 14: a database on 5433
passed audit and failed verify): provision, verify and audit must all follow it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.conftest import ROOT

PORT = 5433
LABCITY = ROOT / "tests/fixtures/labcity"


def labcity_on_port(dest: Path, port: int = PORT) -> Path:
    """A copy of the lab city at ``dest`` whose database misdb (and the system that
    names its cluster's port) listens on ``port``."""
    shutil.copytree(LABCITY, dest)
    city = dest / "weihai.yaml"
    text = city.read_text(encoding="utf-8")
    text, n = re.subn(r"\{name: misdb, primary: db-1,", f"{{name: misdb, port: {port}, "
                      "primary: db-1,", text)
    text, m = re.subn(r"(name: mis-db-cluster, .*ports: \[\{port: )5432", rf"\g<1>{port}", text)
    assert n == 1 and m == 1, "the lab city's database lines changed: adapt this helper"
    city.write_text(text, encoding="utf-8")
    return dest
