"""The backup host's disk full (issue 13, point 5, fault matrix), in a real lab (`tbk`):
after an apply, the backup file system of backup-1 is replaced by a small tmpfs holding
the same files and filled to the last block (inside the host's own mount namespace:
nothing of it is visible outside the lab host). The nightly job must fail loudly (exit
1, stderr and syslog name the full disk), the previous backups must survive byte for
byte, and verify's backup check must fail by name; with the space freed the job works
again and the check passes. Needs root and the lab base image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from pesdc.lab import image

ROOT = Path(__file__).resolve().parents[2]
PESDC = str(ROOT / ".venv/bin/pesdc")
CITY = str(ROOT / "tests/fixtures/labcity")
LAB = "tbk"
DIR = "/srv/backup"
JOB = "runuser -u pesdc-backup -- /usr/local/sbin/pesdc-backup-pull"
CHECK = "backup of misdb present, current and its last run ok"

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(os.geteuid() != 0 or not image.is_ready(),
                                 reason="needs root and the lab image")]


def pesdc(*args: str, check: bool = True, timeout: float = 600
          ) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([PESDC, *args], capture_output=True, text=True, timeout=timeout,
                         cwd=ROOT)
    if check and res.returncode != 0:
        raise AssertionError(f"pesdc {' '.join(args)}: rc={res.returncode}\n"
                             f"{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    return res


def sh(cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return pesdc("lab", "exec", "--name", LAB, "backup-1", "--", "bash", "-c", cmd,
                 check=check)


def dumps() -> dict[str, str]:
    out = sh(f"cd {DIR}/misdb && sha256sum -- misdb-*.dump").stdout
    return {ln.split()[1]: ln.split()[0] for ln in out.splitlines()}


def check_backups_now() -> list[dict]:
    """verify's backup check, run alone from the lab's controller namespace."""
    from pesdc.lab.enter import run_inside

    code = ("import json, sys; from pathlib import Path; from pesdc.model import validate; "
            "from pesdc.lab.enter import access; from pesdc.verify.hosts import check_backups; "
            f"topo = validate([Path({CITY!r})]).topology; "
            f"print(json.dumps([c.as_dict() for c in check_backups(topo, 'weihai', "
            f"access({LAB!r}).ssh_config)]))")
    proc = run_inside(LAB, [sys.executable, "-c", code], capture_output=True, timeout=120,
                      cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def applied() -> Iterator[None]:
    pesdc("lab", "down", "--name", LAB, check=False)
    pesdc("lab", "up", CITY, "--name", LAB)
    try:
        # The database and its backup host are all this fault needs.
        pesdc("apply", CITY, "--lab", LAB, "--limit", "db-1", "--limit", "backup-1")
        yield
    finally:
        pesdc("lab", "down", "--name", LAB, check=False)


@pytest.fixture
def full_disk(applied: None) -> Iterator[None]:
    """backup-1's DIR as a 256 KiB tmpfs with the same files, filled to the last block."""
    sh(f"set -e; rm -rf /run/pesdc-bk-copy; mkdir -m 700 /run/pesdc-bk-copy; "
       f"cp -a {DIR}/. /run/pesdc-bk-copy/; "
       f"mount -t tmpfs -o size=256k,mode=0750 pesdc-test-backup-full {DIR}; "
       f"cp -a /run/pesdc-bk-copy/. {DIR}/; chown pesdc-backup:pesdc-backup {DIR}; "
       f"dd if=/dev/zero of={DIR}/filler bs=4k 2>/dev/null || true; "
       f"test \"$(df -Pk {DIR} | awk 'NR == 2 {{print $4}}')\" = 0")
    try:
        yield
    finally:
        sh(f"umount {DIR}; rm -rf /run/pesdc-bk-copy", check=False)


def test_full_backup_disk_fails_loudly_keeps_old_backup_and_fails_verify(
        full_disk: None, tmp_path: Path) -> None:
    old = dumps()
    assert old, "apply took no first backup"

    # 1. The job on a full disk: exit 1, the full disk named on stderr and in syslog.
    run = sh(JOB, check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAILED: the backup disk is full (/srv/backup: 0 KiB free of 256 KiB)" in \
        run.stderr, run.stderr
    assert "No space left on device" in run.stderr
    assert f"previous backup kept: {sorted(old)[-1]}" in run.stderr
    logged = sh("grep -E ' pesdc-backup: misdb from ' /var/log/auth.log | tail -1").stdout
    assert "FAILED: the backup disk is full" in logged, logged

    # 2. Nothing lost: the same dumps, byte for byte, and no partial file left.
    assert dumps() == old
    listing = sh(f"ls -A {DIR}/misdb").stdout.split()
    assert not [f for f in listing if f.endswith(".part")], listing
    assert ".last-run-FAILED" in listing

    # 3. verify fails on it, by name, with the evidence.
    junit = tmp_path / "verify.xml"
    ver = pesdc("verify", CITY, "--lab", LAB, "--only", "hosts", "--junit", str(junit),
                check=False)
    assert ver.returncode != 0
    cases = [c for c in ET.parse(junit).getroot().iter("testcase")
             if CHECK in (c.get("name") or "")]
    assert len(cases) == 1, [c.get("name") for c in ET.parse(junit).getroot().iter("testcase")]
    failure = cases[0].find("failure")
    assert failure is not None, ET.tostring(cases[0], encoding="unicode")
    text = (failure.get("message") or "") + (failure.text or "")
    assert "the latest backup run failed" in text and "disk is full" in text, text

    # 4. Space freed: the job works again, the old dumps are still there, the check passes.
    sh(f"rm -f {DIR}/filler")
    again = sh(JOB, check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    now = dumps()
    assert {k: now[k] for k in old} == old and len(now) == len(old) + 1
    assert ".last-run-FAILED" not in sh(f"ls -A {DIR}/misdb").stdout.split()
    checks = [c for c in check_backups_now() if c["name"] == CHECK]
    assert len(checks) == 1 and checks[0]["verdict"] == "pass", checks
    assert "last run ok" in checks[0]["observed"]
