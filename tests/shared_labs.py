"""Labs that several test modules share: brought up once, not once per module.

The example city's jinan (lab ``tjinan``) serves tests/lab/test_operator.py (the
operator namespace of a lab that is up, not provisioned) and then
tests/verify/test_live_lab.py (the same lab applied, verified and audited through its
bastion). In file order the operator tests come first; the verify module applies the
lab and its last test takes the lab down, checking that nothing of it is left. A module
that needs the lab not provisioned after one applied it (another order of the modules
on the command line) gets it brought up anew: every module sees the lab it asked for.

The session fixture ``jinan_lab`` (tests/conftest.py) hands out the one ``SharedLab``;
it takes the lab down at the end of the session if a test has not done so already.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOPOLOGIES = ROOT / "topologies"
PESDC = [sys.executable, "-m", "pesdc"]
# The tests' own name: never a lab an engineer or another test has up. PESDC_TEST_JINAN_LAB
# names another, for running these modules beside a run that holds tjinan.
JINAN_LAB = os.environ.get("PESDC_TEST_JINAN_LAB") or "tjinan"


def _pesdc(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PESDC, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=os.environ.copy())


def _ok(res: subprocess.CompletedProcess[str], what: str) -> None:
    assert res.returncode == 0, (f"{what}: rc={res.returncode}\n{res.stdout[-3000:]}\n"
                                 f"{res.stderr[-3000:]}")


class SharedLab:
    """One lab of one center, up at most once at a time for every module that asks."""

    def __init__(self, name: str, sources: list[Path], dc: str) -> None:
        self.name, self.sources, self.dc = name, [str(s) for s in sources], dc
        self.started = False  # `lab up` was run (down is then needed, even if it failed)
        self.is_up = False
        self.applied = False

    def up(self) -> str:
        """The lab up (brought up on first use); its name."""
        from tests.conftest import require_lab

        require_lab()
        if not self.is_up:
            self.started = True
            _ok(_pesdc("lab", "up", *self.sources, "--dc", self.dc, "--name", self.name,
                       timeout=900), f"lab up {self.name}")
            self.is_up = True
        return self.name

    def fresh(self) -> str:
        """The lab up and not provisioned: one that was applied is brought up anew."""
        if self.applied:
            self.down()
        return self.up()

    def apply(self) -> str:
        """The lab up and applied (``pesdc apply --lab``), once."""
        self.up()
        if not self.applied:
            _ok(_pesdc("apply", *self.sources, "--dc", self.dc, "--lab", self.name,
                       timeout=1800), f"apply --lab {self.name}")
            self.applied = True
        return self.name

    def down(self) -> None:
        """`lab down`, and nothing of the lab is left: no namespace (the operator's with
        them), no files."""
        from pesdc.lab import netns
        from pesdc.lab.operator import operator_ns
        from pesdc.lab.paths import lab_dir

        res = _pesdc("lab", "down", "--name", self.name, timeout=600)
        self.started = self.is_up = self.applied = False
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
        left = [n for n in netns.existing() if n.startswith(f"pesdc-{self.name}-")]
        assert left == []
        assert operator_ns(self.name) not in netns.existing()
        assert not lab_dir(self.name).exists()
