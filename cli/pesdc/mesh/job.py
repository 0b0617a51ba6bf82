"""A pesdc job as ansible-runner's private data directory.

What an AWX job template hands to ansible-runner: ``project/`` with the playbook,
``inventory/`` and ``env/extravars``. The playbook (``pesdc/data/job/pesdc-job.yml``)
runs on the execution node itself (``localhost``, a local connection) and calls pesdc
there: the node is inside the center, so ``pesdc verify``/``audit`` reach the hosts as
from the bastion. The results are written into the job's artifact directory, which the
worker streams back with its events.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

PLAYBOOK = "pesdc-job.yml"
JUNIT = "verify.xml"  # in the job's artifact directory
AUDIT = "audit.json"
PARTS = ("verify", "audit")


class JobError(Exception):
    """A job that cannot be built or carried: the message says what to do."""


@dataclass(frozen=True)
class PesdcJob:
    """Verify and audit of one center's lab, run on the execution node."""

    sources: tuple[str, ...]  # topology paths, as the node sees them
    dc: str
    lab: str
    parts: tuple[str, ...] = PARTS
    only: tuple[str, ...] = ()  # verify's --only parts (all of them when empty)
    # how the node runs pesdc: this interpreter by default (the node shares its venv)
    pesdc_argv: tuple[str, ...] = field(default_factory=lambda: (sys.executable, "-m", "pesdc"))

    def extravars(self) -> dict[str, object]:
        return {"pesdc_argv": list(self.pesdc_argv), "pesdc_sources": list(self.sources),
                "pesdc_dc": self.dc, "pesdc_lab": self.lab, "pesdc_parts": list(self.parts),
                "pesdc_verify_only": [a for part in self.only for a in ("--only", part)],
                "pesdc_junit": JUNIT, "pesdc_audit": AUDIT}


def playbook_text() -> str:
    return (resources.files("pesdc") / "data" / "job" / PLAYBOOK).read_text(encoding="utf-8")


def prepare(job: PesdcJob, private_data_dir: Path) -> Path:
    """Write the job's private data directory (a new or empty one); its path."""
    unknown = [p for p in job.parts if p not in PARTS]
    if unknown or not job.parts:
        raise JobError(f"job parts {', '.join(unknown) or '(none)'}: choose among "
                       f"{', '.join(PARTS)}")
    if not job.sources:
        raise JobError("a pesdc job needs the topology path(s) the node reads")
    if private_data_dir.exists() and any(private_data_dir.iterdir()):
        raise JobError(f"{private_data_dir}: not empty; give a new directory for the job")
    for sub in ("project", "inventory", "env"):
        (private_data_dir / sub).mkdir(parents=True, exist_ok=True)
    (private_data_dir / "project" / PLAYBOOK).write_text(playbook_text(), encoding="utf-8")
    # The node itself, with the interpreter that runs pesdc (its modules need one).
    python = job.pesdc_argv[0]
    (private_data_dir / "inventory" / "hosts.json").write_text(json.dumps({
        "all": {"hosts": {"localhost": {"ansible_connection": "local",
                                        "ansible_python_interpreter": python}}}},
        indent=2) + "\n", encoding="utf-8")
    # JSON is YAML: ansible-runner reads env/extravars as either; no value is code.
    (private_data_dir / "env" / "extravars").write_text(
        json.dumps(job.extravars(), indent=2) + "\n", encoding="utf-8")
    return private_data_dir

