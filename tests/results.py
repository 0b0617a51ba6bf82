"""Where a lab test writes the measurement a README figure quotes.

An ordinary test run must leave the tree as it found it (a results file rewritten on
every run made `git status` dirty and, once a figure moved, made the README check
fail in the middle of the suite). So a lab test writes its measurement beside its own
temporary files, and into ``benchmarks/results/`` only on a recording run:
``PESDC_RECORD_RESULTS=1 pytest tests/...``, after which ``scripts/readme_figures.py``
regenerates the README's table from the new file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RECORD_ENV = "PESDC_RECORD_RESULTS"


def recording() -> bool:
    return os.environ.get(RECORD_ENV, "") not in ("", "0")


def record(name: str, data: dict[str, Any], scratch: Path) -> Path:
    """Write ``data`` as ``NAME``: into benchmarks/results on a recording run, else into
    ``scratch`` (the test's temporary directory). Returns the path written."""
    target = (RESULTS if recording() else scratch) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return target
