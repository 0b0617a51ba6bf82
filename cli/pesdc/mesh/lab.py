"""The execution node of a center in the lab: the worker runs on its bastion host.

In the mesh a center's execution node sits inside the center, on its bastion host
(运维审计堡垒机), the one machine its policy lets reach the other hosts. In the lab the
worker runs in the bastion's network and UTS namespaces (its addresses, routes and host
name) with this machine's filesystem, where the venv with pesdc and ansible-runner is
(``Lab.network_view_argv``). The lab's controller shares the bastion's namespace, so a
``pesdc verify --lab`` started by the job reaches every host directly, as from the
bastion, and nothing else.
"""

from __future__ import annotations

from pathlib import Path

from pesdc.lab.errors import LabError
from pesdc.lab.runtime import Lab
from pesdc.mesh.job import JobError
from pesdc.mesh.pipe import runner_bin


def bastion(lab_name: str) -> str:
    """The node name of the lab's bastion: the server whose namespace the controller
    shares (a center without a bastion has no place for an execution node)."""
    lab = Lab(lab_name)
    if not lab.exists():
        raise JobError(f"lab {lab_name!r} is not up: run `pesdc lab up PATH --dc CENTER "
                       f"--name {lab_name}` first")
    ns = lab.load_state().get("controller_ns")
    found = sorted(n for n, st in lab.nodes().items()
                   if st.role == "server" and not st.alias and st.netns == ns)
    if not found:
        raise JobError(f"lab {lab_name}: the center has no bastion host (a server with role "
                       "bastion in the security management zone) to run the worker on")
    return found[0]


def worker_argv(lab_name: str, worker_dir: Path, node: str | None = None) -> list[str]:
    """``ansible-runner worker`` on the center's bastion (or ``node``), keeping its
    private data directory at ``worker_dir`` (on this machine's filesystem)."""
    where = node or bastion(lab_name)
    try:
        prefix = Lab(lab_name).network_view_argv(where)
    except LabError as exc:
        raise JobError(str(exc)) from None
    return [*prefix, runner_bin(), "worker", "--private-data-dir", str(worker_dir)]
