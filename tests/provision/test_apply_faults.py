"""The fault matrix of `pesdc apply` in a real lab (issue 13 point 5).

One lab ("tflt", the lab city) with its own state directory, two hosts provisioned:
web-1 (the victim) and ntp-1 (the bystander). Each fault is shown to be reported by
name, to lose nothing, and to be followed by a run that converges:

- two applies of one center at once: the second refuses at once and names the holder;
- a host killed in the middle of an apply (its link slowed so that the kill lands while
  managed files are being uploaded): every managed file is its old or its new content,
  never a part; the host fails alone with the cause, in the result and the journal; the
  next apply converges and the one after changes nothing. The same with a large file
  killed in the middle of its upload, byte for byte;
- pesdc's state directory full (a small tmpfs): apply refuses to start, naming the full
  disk; a disk that fills during an apply fails it loudly, the journal's entries are
  printed instead and the journal keeps its previous entries byte for byte; the
  journal and the network backup writers leave nothing partial.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pesdc.lab import image

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
PESDC = str(ROOT / ".venv/bin/pesdc")
PYTHON = str(ROOT / ".venv/bin/python")
CITY = str(ROOT / "tests/fixtures/labcity")
LAB = "tflt"
CENTER = "weihai"
VICTIM, BYSTANDER = "web-1", "ntp-1"
LIMIT = ["--limit", VICTIM, "--limit", BYSTANDER]
FULL_MNT = Path("/tmp/pesdc-tflt-full")  # the tmpfs of the full-state-dir fault
TEMP_SUFFIX = ".pesdc-new~"  # deploys.temp_path


@dataclass
class Lab:
    state: Path
    env: dict[str, str]

    def pesdc(self, *args: str, check: bool = True, timeout: float = 300,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        t = time.monotonic()
        res = subprocess.run([PESDC, *args], capture_output=True, text=True, timeout=timeout,
                             env=env or self.env)
        print(f"  [{time.monotonic() - t:5.1f} s] pesdc {' '.join(args[:2])} rc={res.returncode}")
        if check and res.returncode != 0:
            raise AssertionError(f"pesdc {' '.join(args)}: rc={res.returncode}\n"
                                 f"{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
        return res

    def apply(self, *extra: str, check: bool = True, env: dict[str, str] | None = None
              ) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
        res = self.pesdc("apply", CITY, "--lab", LAB, *LIMIT, "--json", *extra, check=check,
                         env=env)
        return json.loads(res.stdout), res

    def popen_apply(self, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen([PESDC, "apply", CITY, "--lab", LAB, *LIMIT, "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env or self.env)

    def sh(self, node: str, cmd: str, check: bool = True) -> str:
        return self.pesdc("lab", "exec", "--name", LAB, node, "--", "sh", "-c", cmd,
                          check=check).stdout

    def lab_state(self) -> dict[str, Any]:
        return json.loads((self.state / "labs" / LAB / "state.json").read_text())

    def upper(self, node: str) -> Path:
        """The host's written files (its overlay's upper layer), readable when it is dead."""
        return self.state / "labs" / LAB / "nodes" / node / "upper"

    @property
    def lock(self) -> Path:
        return self.state / "locks" / f"{CENTER}.lab-{LAB}.lock"

    def journal(self) -> list[dict[str, Any]]:
        return json.loads(self.pesdc("journal", "--tail", "0", "--json").stdout)["entries"]


@contextlib.contextmanager
def state_env(state: Path) -> Iterator[None]:
    """PESDC_STATE_DIR for code this test runs in-process."""
    old = os.environ.get("PESDC_STATE_DIR")
    os.environ["PESDC_STATE_DIR"] = str(state)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PESDC_STATE_DIR", None)
        else:
            os.environ["PESDC_STATE_DIR"] = old


def _ours() -> tuple[list[str], list[str]]:
    ns = [n for n in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                    check=True).stdout.split() if n.startswith(f"pesdc-{LAB}-")]
    mounts = [ln for ln in Path("/proc/mounts").read_text().splitlines()
              if str(FULL_MNT) in ln or f"/labs/{LAB}/" in ln]
    return ns, mounts


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if not image.is_ready():
        pytest.fail("the lab base image is not built: `pesdc lab image build`", pytrace=False)
    state = tmp_path_factory.mktemp("tflt-state")
    lab = Lab(state, {**os.environ, "PESDC_STATE_DIR": str(state)})
    lab.pesdc("lab", "down", "--name", LAB, check=False)
    lab.pesdc("lab", "up", CITY, "--name", LAB)
    try:
        first, _ = lab.apply()
        assert first["ok"], [h for h in first["hosts"] if not h["ok"]]
        yield lab
    finally:
        lab.pesdc("lab", "down", "--name", LAB, check=False)
        if FULL_MNT.is_mount():
            subprocess.run(["umount", str(FULL_MNT)], check=False)
        ns, mounts = _ours()
        shutil.rmtree(state, ignore_errors=True)
        assert not ns and not mounts, (ns, mounts)


def managed(lab: Lab, node: str) -> dict[str, str]:
    """path -> sha256 of the content apply installs, for every file it manages on node."""
    from pesdc.model.loader import load
    from pesdc.provision import engine
    from pesdc.provision.deploys import managed_file_specs
    from pesdc.provision.secrets import backup_keypair

    with state_env(lab.state):
        topo = load([CITY]).topology
        _priv, pub = backup_keypair(CENTER)
        spec = engine.build_specs(topo, CENTER, [node], True, engine.deploy_pubkeys(LAB),
                                  pub)[0]
    return {f.path: hashlib.sha256(f.content.encode()).hexdigest()
            for f in managed_file_specs(spec)}


def host_shas(lab: Lab, node: str, paths: list[str]) -> dict[str, str]:
    out = lab.sh(node, "sha256sum " + " ".join(paths) + " 2>/dev/null; true")
    shas = {}
    for line in out.splitlines():
        sha, path = line.split(None, 1)
        shas[path.strip()] = sha
    return shas


def upper_sha(lab: Lab, node: str, path: str) -> str | None:
    p = lab.upper(node) / path.lstrip("/")
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None


def leftovers(lab: Lab, node: str) -> list[str]:
    """Temporary files of an interrupted upload on the host (beside the files, in /tmp)."""
    up = lab.upper(node)
    found = [p for p in up.rglob(f"*{TEMP_SUFFIX}")]
    found += [p for p in (up / "tmp").glob("pyinfra-*")] if (up / "tmp").is_dir() else []
    return sorted("/" + str(p.relative_to(up)) for p in found)


@contextlib.contextmanager
def slow_link(lab: Lab, node: str, rate: str) -> Iterator[None]:
    """Shape the traffic towards the host (the switch side of its management veth)."""
    st = lab.lab_state()
    ns = st["nodes"][node]["netns"]
    link = subprocess.run(["ip", "-n", ns, "-o", "link", "show", "eth0"], capture_output=True,
                          text=True, check=True).stdout
    peer_index = link.split("@if", 1)[1].split(":", 1)[0]
    peer = next(ln.split(":")[1].strip().split("@")[0] for ln in subprocess.run(
        ["ip", "-n", st["switch_ns"], "-o", "link"], capture_output=True, text=True,
        check=True).stdout.splitlines() if ln.startswith(f"{peer_index}:"))
    subprocess.run(["ip", "netns", "exec", st["switch_ns"], "tc", "qdisc", "replace", "dev",
                    peer, "root", "tbf", "rate", rate, "burst", "4kb", "latency", "30s"],
                   check=True)
    try:
        yield
    finally:  # the veth may be gone already (the node was restarted)
        subprocess.run(["ip", "netns", "exec", st["switch_ns"], "tc", "qdisc", "del", "dev",
                        peer, "root"], capture_output=True, check=False)


def kill_host(lab: Lab, node: str) -> None:
    """SIGKILL the host's init (its sshd, PID 1 of its PID namespace): every process of
    the host dies at once, as on a power cut; its files stay in the overlay's upper dir."""
    os.kill(lab.lab_state()["nodes"][node]["pid"], signal.SIGKILL)


# -- c. two applies of one center at once ------------------------------------------------
def test_second_apply_refused_at_once_naming_the_holder(lab: Lab) -> None:
    before = len(lab.journal())
    first = lab.popen_apply()
    try:
        from pesdc.locking import read_holder
        deadline = time.monotonic() + 120
        holder = None
        while time.monotonic() < deadline and first.poll() is None:
            holder = read_holder(lab.lock)
            if holder is not None and holder.pid == first.pid:
                break
            time.sleep(0.02)
        assert holder is not None and holder.pid == first.pid, "the first apply never held"
        # The first apply is paused while it holds the center, so that the second one
        # meets it whatever the machine's load (a stopped holder still holds its flock).
        first.send_signal(signal.SIGSTOP)
        t = time.monotonic()
        try:
            second = lab.pesdc("apply", CITY, "--lab", LAB, *LIMIT, "--json", check=False,
                               timeout=180)
        finally:
            first.send_signal(signal.SIGCONT)
        took = time.monotonic() - t
        out, err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
    print(f"second apply refused in {took:.1f} s (startup included): {second.stderr.strip()}")
    assert second.returncode == 3, (second.returncode, second.stderr)
    msg = second.stderr
    for part in ("is held by another run", f"center {CENTER} (lab {LAB})", "user root",
                 f"on host {socket.gethostname()}", f"pid {first.pid}", f"since {holder.since}",
                 "command: pesdc apply", str(lab.lock)):
        assert part in msg, (part, msg)
    refused = json.loads(second.stdout)
    assert refused["ok"] is False and refused["holder"]["pid"] == first.pid
    assert first.returncode == 0, err[-3000:]  # the first completes
    assert json.loads(out)["ok"]
    assert lab.lock.read_text() == ""  # released, no stale description
    rows = lab.journal()
    assert len(rows) == before + 2  # the first apply's two hosts; nothing from the second


# -- a. a host killed in the middle of an apply --------------------------------------------
def test_host_killed_mid_apply_leaves_no_half_file_and_converges(lab: Lab) -> None:
    new = managed(lab, VICTIM)
    paths = sorted(new)
    # Every managed file differs from what apply installs (an edited host), so the apply
    # uploads all of them; the old content is what the host has now.
    lab.sh(VICTIM, "for f in " + " ".join(paths) + "; do echo '# edited by hand' >> $f; done")
    old = host_shas(lab, VICTIM, paths)
    assert sorted(old) == paths and all(old[p] != new[p] for p in paths)

    started = time.time()
    seen: list[tuple[str, int]] = []
    with slow_link(lab, VICTIM, "32kbit"):
        run = lab.popen_apply()
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and run.poll() is None:
                for t in lab.upper(VICTIM).rglob(f"*{TEMP_SUFFIX}"):
                    with contextlib.suppress(OSError):  # renamed in the meantime
                        st = t.stat()
                        if st.st_mtime >= started and str(t) not in {s for s, _ in seen}:
                            seen.append((str(t), st.st_size))
                if len(seen) >= 3:  # two files done, the third being written: kill now
                    kill_host(lab, VICTIM)
                    break
                time.sleep(0.02)
            assert len(seen) >= 3, f"the apply ended before its uploads were seen: {seen}"
            out, err = run.communicate(timeout=300)
        finally:
            if run.poll() is None:
                run.kill()
    res = json.loads(out)
    hosts = {h["host"]: h for h in res["hosts"]}
    victim, bystander = hosts[f"{VICTIM}.{CENTER}"], hosts[f"{BYSTANDER}.{CENTER}"]
    print("killed while writing", seen[-1], "; victim's error:", victim["error"])
    assert run.returncode == 1 and not res["ok"]
    assert not victim["ok"] and bystander["ok"]  # the host fails alone
    assert "interrupted" in victim["error"] or "connection" in victim["error"].lower(), victim
    assert "files" in victim["error"]  # which operation: the managed-files batch
    assert "Traceback" not in err

    # The journal: the victim failed, with the same cause; the bystander ok.
    last = {r["host"]: r for r in lab.journal()[-2:]}
    assert last[victim["host"]]["result"] == "failed"
    assert last[victim["host"]]["error"] == victim["error"]
    assert last[bystander["host"]]["result"] == "ok"

    # The dead host's files, read from its disk: each the old or the new content.
    got = {p: upper_sha(lab, VICTIM, p) for p in paths}
    partial = {p: s for p, s in got.items() if s not in (old[p], new[p])}
    assert not partial, f"half-written managed files: {sorted(partial)}"
    done = sorted(p for p in paths if got[p] == new[p])
    print(f"at the kill: {len(done)} files new, {len(paths) - len(done)} old, none partial;"
          f" leftovers {leftovers(lab, VICTIM)}")
    assert done, "no file was replaced before the kill: the kill came too early to show it"
    assert len(done) < len(paths), "every file was replaced: the kill came too late"

    # The next apply converges; the one after changes nothing.
    lab.pesdc("lab", "up", CITY, "--name", LAB)  # restarts the killed host
    again, _ = lab.apply()
    assert again["ok"], again
    assert host_shas(lab, VICTIM, paths) == new
    assert leftovers(lab, VICTIM) == []  # the interrupted run's temporary files removed
    quiet, _ = lab.apply()
    assert quiet["ok"] and quiet["changed"] == 0, [(h["host"], h["changes"])
                                                   for h in quiet["hosts"] if h["changed"]]


LARGE_DRIVER = """
import json, sys
from pesdc.lab.enter import access
from pesdc.provision import engine
from pesdc.provision.spec import FileSpec, HostSpec

size, tag, addr = int(sys.argv[1]), sys.argv[2], sys.argv[3]
line = (tag * 80)[:79] + "\\n"
content = line * (size // len(line))
off = {c: False for c in ("PESDC-BL-05", "PESDC-BL-09", "PESDC-BL-12", "PESDC-BL-13",
                          "PESDC-BL-15", "PESDC-BL-16", "PESDC-BL-18")}
spec = HostSpec(host="web-1.weihai", address=addr, os_family="debian", roles=[], lab=True,
                files=[FileSpec("/var/www/pesdc/fault-large.txt", content,
                                control="PESDC-WEB-01")], controls=off)
acc = access("tflt")
res = engine.run("apply", [spec], engine.Access(acc.identity, acc.known_hosts, "tflt"), {})
print(json.dumps([h.as_dict() for h in res.hosts]))
"""


def large_apply(lab: Lab, tag: str, size: int) -> subprocess.Popen[str]:
    """The pyinfra engine of apply, in the lab's controller namespace, on a host spec of
    one large managed file (the topology has no file larger than a few KiB, and a file
    smaller than one SFTP write request is written in one go)."""
    st = lab.lab_state()
    return subprocess.Popen(
        ["ip", "netns", "exec", st["controller_ns"], PYTHON, "-c", LARGE_DRIVER, str(size),
         tag, st["nodes"][VICTIM]["mgmt"]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**lab.env, "PESDC_INSIDE_LAB": LAB})


def test_host_killed_while_a_large_file_is_written_keeps_the_old_one(lab: Lab) -> None:
    size = 4 * 1024 * 1024
    path = "/var/www/pesdc/fault-large.txt"
    lab.sh(VICTIM, f"yes {'A' * 79} | head -n {size // 80} > {path}")  # the old version
    old = upper_sha(lab, VICTIM, path)
    assert old == hashlib.sha256((("A" * 79 + "\n") * (size // 80)).encode()).hexdigest()
    staging = lab.upper(VICTIM) / "tmp"

    with slow_link(lab, VICTIM, "8mbit"):
        p = large_apply(lab, "B", size)
        caught = None
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and p.poll() is None and caught is None:
                for f in [*staging.glob("pyinfra-*"),
                          *lab.upper(VICTIM).rglob(f"*{TEMP_SUFFIX}")]:
                    with contextlib.suppress(OSError):
                        n = f.stat().st_size
                        if size // 5 < n < size * 4 // 5:  # well inside the upload
                            kill_host(lab, VICTIM)
                            caught = ("/" + str(f.relative_to(lab.upper(VICTIM))), n)
                            break
                time.sleep(0.01)
            out, err = p.communicate(timeout=180)
        finally:
            if p.poll() is None:
                p.kill()
    assert caught is not None, f"the upload was never seen in progress: {out} {err[-2000:]}"
    res = json.loads(out)[0]
    print(f"killed with {caught[1]} of {size} bytes of the new version written to "
          f"{caught[0]}; error: {res['error']}")
    assert not res["ok"]
    assert "interrupted" in res["error"] or "connection" in res["error"], res
    assert upper_sha(lab, VICTIM, path) == old  # the old version, whole

    lab.pesdc("lab", "up", CITY, "--name", LAB)
    p = large_apply(lab, "B", size)
    out, err = p.communicate(timeout=180)
    assert p.returncode == 0 and json.loads(out)[0]["ok"], err[-2000:]
    line = ("B" * 80)[:79] + "\n"
    want = hashlib.sha256((line * (size // len(line))).encode()).hexdigest()
    assert upper_sha(lab, VICTIM, path) == want
    assert leftovers(lab, VICTIM) == []
    lab.sh(VICTIM, f"rm -f {path}")


# -- b. pesdc's state directory full -----------------------------------------------------
def _tree(root: Path) -> dict[str, str]:
    """Every file under root (the labs symlink not followed) -> sha256."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if rel == "labs" or rel.startswith("labs/") or rel == "fill" or not p.is_file():
            continue
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _fill(root: Path) -> int:
    """Write zeros to root/fill until the file system refuses (ENOSPC)."""
    n = 0
    with open(root / "fill", "ab", buffering=0) as fh:
        for chunk in (1 << 16, 1 << 12, 1):
            while True:
                try:
                    n += fh.write(b"\0" * chunk) or 0
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    break
    return n


def test_state_dir_full(lab: Lab) -> None:
    from pesdc.durable import StateWriteError
    from pesdc.results import HostResult, RunResult

    FULL_MNT.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs",
                    str(FULL_MNT)], check=True)
    try:
        full = FULL_MNT
        env = {**lab.env, "PESDC_STATE_DIR": str(full)}
        # The state directory on the tmpfs: its own journal, backups, lock, secrets; the
        # lab's own files (its hosts' disks, far larger than 512k) stay where they are.
        (full / "labs").symlink_to(lab.state / "labs")
        shutil.copytree(lab.state / "secrets", full / "secrets")
        (full / "journal").mkdir()
        shutil.copy(lab.state / "journal" / "changes.jsonl", full / "journal")
        with state_env(full):
            from pesdc.locking import center_lock
            from pesdc.netpush.backups import list_backups, write_backup
            for n in range(2):
                write_backup(CENTER, "fw-1", f"# running configuration {n}\n" * 50, lab=LAB)
            with center_lock(CENTER, LAB):  # the lock file exists, as after any run
                pass
        journal = full / "journal" / "changes.jsonl"
        # tmpfs gives whole pages: a journal ending mid-page leaves room for a short
        # entry on a full disk. A blank line (the reader skips it) ends it on a page
        # boundary, so that whether the journal can grow does not depend on that.
        size = journal.stat().st_size
        with journal.open("a") as fh:
            fh.write(" " * ((-size - 1) % 4096) + "\n")
        entries_before = json.loads(lab.pesdc("journal", "--tail", "0", "--json",
                                              env=env).stdout)["entries"]
        before = _tree(full)

        # 1. Full before the run: apply refuses to start, naming the full disk.
        filled = _fill(full)
        t = time.monotonic()
        refused, res = lab.apply(check=False, env=env)
        print(f"filled {filled} bytes; refused in {time.monotonic() - t:.1f} s: "
              f"{res.stderr.strip()}")
        assert res.returncode == 1 and refused["ok"] is False
        for part in ("No space left on device", "the file system holding it is full",
                     f"on {full}", "nothing was applied", str(full / "locks")):
            assert part in res.stderr, (part, res.stderr)
        assert _tree(full) == before  # nothing changed, nothing partial

        # 2. The journal writer, directly: an entry larger than any slack.
        run = RunResult("apply", "pyinfra", [HostResult(f"h{i}.{CENTER}", "pyinfra", True,
                                                        changes=["[X] y" * 40])
                                             for i in range(30)])
        with state_env(full):
            from pesdc.provision import journal as jmod
            with pytest.raises(StateWriteError) as exc:
                jmod.record(run, CENTER, LAB)
        assert exc.value.full and str(journal) in str(exc.value)
        # 3. The network backup writer (pesdc.netpush.backups), directly.
        with state_env(full):
            backups_before = [b.path.name for b in list_backups(CENTER)]
            with pytest.raises(OSError) as bexc:
                write_backup(CENTER, "fw-1", "# a new running configuration\n" * 2000, lab=LAB)
            assert bexc.value.errno == errno.ENOSPC or "No space" in str(bexc.value)
            assert [b.path.name for b in list_backups(CENTER)] == backups_before
        assert _tree(full) == before

        # 4. The disk fills during a run: it fails loudly, its entries are printed.
        (full / "fill").unlink()
        running = lab.popen_apply(env=env)
        try:
            from pesdc.locking import read_holder
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and running.poll() is None:
                h = read_holder(full / "locks" / f"{CENTER}.lab-{LAB}.lock")
                if h is not None and h.pid == running.pid:
                    break
                time.sleep(0.05)
            _fill(full)
            out, err = running.communicate(timeout=300)
        finally:
            if running.poll() is None:
                running.kill()
        print("filled during the run:", err.strip()[:600])
        assert running.returncode == 1
        result = json.loads(out)
        assert result["ok"] and result["journal_error"]  # hosts fine, journal not written
        assert "No space left on device" in result["journal_error"]
        assert "the change journal was not written" in err
        printed = [json.loads(ln) for ln in err.splitlines() if ln.startswith("{")]
        assert sorted(r["host"] for r in printed) == sorted(h["host"] for h in result["hosts"])
        after = _tree(full)
        assert after.pop("locks/" + lab.lock.name) == hashlib.sha256(b"").hexdigest()
        before.pop("locks/" + lab.lock.name, None)
        assert after == before  # journal, backups, secrets: byte for byte
        assert json.loads(lab.pesdc("journal", "--tail", "0", "--json",
                                    env=env).stdout)["entries"] == entries_before

        # 5. With room again, the next apply runs and is journaled.
        (full / "fill").unlink()
        again, _ = lab.apply(env=env)
        assert again["ok"] and again["changed"] == 0 and again["journal_error"] is None
        rows = json.loads(lab.pesdc("journal", "--tail", "0", "--json",
                                    env=env).stdout)["entries"]
        assert rows[:len(entries_before)] == entries_before
        assert len(rows) == len(entries_before) + 2
    finally:
        subprocess.run(["umount", str(FULL_MNT)], check=False)
        with contextlib.suppress(OSError):
            FULL_MNT.rmdir()
    assert not FULL_MNT.exists() and not FULL_MNT.is_mount()
