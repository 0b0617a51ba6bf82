"""Atomic writes without a lab: the state-directory writers (pesdc.durable) under a real
write failure, and the shell commands managed_files runs on hosts, run here by sh.

A write failure is made real with RLIMIT_FSIZE in a child process (the kernel refuses
to grow a file past the limit: EFBIG after a short write, as a full disk gives ENOSPC);
the full-disk case itself, on a tmpfs, is in test_apply_faults.py."""

from __future__ import annotations

import grp
import json
import os
import pwd
import resource
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from pesdc.durable import append_durable, atomic_write
from pesdc.provision.deploys import atomic_file_commands, temp_path


def _limited(limit: int) -> Callable[[], None]:
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


def _child(code: str, limit: int) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, preexec_fn=_limited(limit), check=True)
    return json.loads(out.stdout)


WRITER = """
    import json
    from pathlib import Path
    from pesdc.durable import StateWriteError, {fn}
    try:
        {fn}(Path({path!r}), {data!r}, what="the journal")
        print(json.dumps({{"ok": True}}))
    except StateWriteError as exc:
        print(json.dumps({{"error": str(exc), "errno": exc.errno}}))
"""


def test_append_that_fails_part_way_is_rolled_back(tmp_path: Path) -> None:
    journal = tmp_path / "changes.jsonl"
    before = "".join(json.dumps({"n": i}) + "\n" for i in range(100))
    journal.write_text(before)
    record = "".join(json.dumps({"host": f"h{i}", "pad": "x" * 200}) + "\n" for i in range(40))
    # Room for a part of the record only: the kernel writes up to the limit, then EFBIG.
    res = _child(WRITER.format(fn="append_durable", path=str(journal), data=record),
                 len(before) + 1000)
    assert "error" in res and "File too large" in str(res["error"]), res
    assert str(journal) in str(res["error"]) and "the journal" in str(res["error"])
    assert journal.read_text() == before  # not one byte of the partial record is left
    append_durable(journal, record)
    assert journal.read_text() == before + record


def test_append_isolates_a_torn_last_line(tmp_path: Path) -> None:
    journal = tmp_path / "changes.jsonl"
    journal.write_text('{"n": 1}\n{"n": 2, "torn')
    append_durable(journal, '{"n": 3}\n')
    assert journal.read_text().splitlines() == ['{"n": 1}', '{"n": 2, "torn', '{"n": 3}']


def test_atomic_write_that_fails_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    target.write_text("old value")
    os.chmod(target, 0o600)
    res = _child(WRITER.format(fn="atomic_write", path=str(target), data="n" * 50_000),
                 10_000)
    assert "error" in res and "File too large" in str(res["error"]), res
    assert target.read_text() == "old value"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret"]  # no temporary left
    atomic_write(target, "new value", 0o600)
    assert target.read_text() == "new value" and (target.stat().st_mode & 0o777) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret"]


def test_journal_read_reports_unreadable_lines(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path))
    from pesdc.provision import journal
    journal.journal_path().parent.mkdir(parents=True)
    journal.journal_path().write_text('{"host": "a"}\n{"host": "b", "tor\n{"host": "c"}\n')
    assert journal.read() == [{"host": "a"}, {"unreadable": 2}, {"host": "c"}]


# -- the host side: the commands of managed_files, run by sh here ------------------------
def _me(where: Path) -> tuple[str, str]:
    """The owner and group this process creates files with (those of a new file)."""
    probe = where / ".owner-probe"
    probe.touch()
    st = probe.stat()
    probe.unlink()
    return pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name


def _install(path: Path, content: str, mode: str = "0640", validate: str = "",
             stage: Path | None = None) -> subprocess.CompletedProcess[str]:
    """What managed_files does on a host: prepare, upload (here: write the bytes to the
    temporary file, as SFTP does), finish."""
    path.parent.mkdir(parents=True, exist_ok=True)
    owner, group = _me(path.parent)
    prepare, finish = atomic_file_commands(str(path), mode, owner, group, validate,
                                           stage=str(stage) if stage else None,
                                           stage_owner=owner)
    subprocess.run(["sh", "-c", prepare], check=True)
    tmp = Path(temp_path(str(path)))
    assert tmp.exists() and (tmp.stat().st_mode & 0o777) == 0o600 and tmp.stat().st_size == 0
    with tmp.open("r+") as fh:  # keeps the inode and its 0600 mode, as SFTP's open does
        fh.write(content)
    return subprocess.run(["sh", "-c", finish], capture_output=True, text=True)


def test_temp_path_is_beside_the_file_and_skipped_by_drop_in_readers() -> None:
    t = temp_path("/etc/sudoers.d/40-pesdc-deploy")
    assert t.startswith("/etc/sudoers.d/.") and "." in t.rsplit("/", 1)[1] and t.endswith("~")


def test_file_replaced_atomically_with_mode(tmp_path: Path) -> None:
    target = tmp_path / "etc" / "x.conf"
    stage = tmp_path / "stage"
    res = _install(target, "new\n", "0640", stage=stage)
    assert res.returncode == 0, res.stderr
    assert target.read_text() == "new\n" and (target.stat().st_mode & 0o777) == 0o640
    assert stage.exists() and (stage.stat().st_mode & 0o777) == 0o600  # pyinfra removes it
    assert not Path(temp_path(str(target))).exists()
    inode = target.stat().st_ino
    assert _install(target, "newer\n").returncode == 0
    assert target.read_text() == "newer\n" and target.stat().st_ino != inode  # renamed


def test_validator_naming_the_file_checks_the_new_bytes_before_they_are_live(
        tmp_path: Path) -> None:
    target = tmp_path / "sudoers"
    target.write_text("good old\n")
    check = f"grep -q '^good' {target}"
    res = _install(target, "bad new\n", "0440", validate=check)
    assert res.returncode != 0
    assert target.read_text() == "good old\n"  # never replaced by bytes that fail
    assert not Path(temp_path(str(target))).exists()
    assert _install(target, "good new\n", "0440", validate=check).returncode == 0
    assert target.read_text() == "good new\n"
