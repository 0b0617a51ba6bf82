"""write_tree lists each folder of OUT once instead of resolving every file: these
tests hold it to the per-file rules (pesdc.render.output._confined) on a real folder,
deep links included, and to what a second write and a removal report."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from pesdc.render.output import OutputError, diff_tree, read_manifest, write_tree

FILES = {
    "inventory/hosts.yml": "all: {}\n",
    "servers/jinan/db-1/etc/ssh/sshd_config": "Port 22\n",
    "servers/jinan/db-1/etc/login.defs": "PASS_MAX_DAYS 90\n",
    "servers/jinan/db-2/etc/ssh/sshd_config": "Port 22\n",
    "devices/jinan/fw-1/device.cfg": "sysname fw-1\n",
}


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def test_a_new_folder_gets_every_file_and_a_manifest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = write_tree(out, FILES)
    assert (res.written, res.unchanged, res.removed) == (len(FILES), 0, 0)
    got = tree(out)
    manifest = got.pop("MANIFEST").decode()
    assert got == {k: v.encode() for k, v in FILES.items()}
    assert manifest == "".join(f"{hashlib.sha256(FILES[k].encode()).hexdigest()}  {k}\n"
                               for k in sorted(FILES))


def test_a_second_write_changes_nothing_and_a_dropped_file_goes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(out, FILES)
    again = write_tree(out, FILES)
    assert (again.written, again.unchanged, again.removed) == (0, len(FILES), 0)
    changed = {**FILES, "inventory/hosts.yml": "all: {hosts: {}}\n"}
    res = write_tree(out, changed)
    assert (res.written, res.unchanged) == (1, len(FILES) - 1)
    assert (out / "inventory/hosts.yml").read_text() == changed["inventory/hosts.yml"]
    # db-2 dropped, and a new file in the folder its removal empties: both work.
    fewer = {k: v for k, v in changed.items() if "/db-2/" not in k}
    fewer["servers/jinan/db-2/etc/new.conf"] = "x\n"
    res = write_tree(out, fewer)
    assert res.removed == 1 and res.written == 1
    assert not (out / "servers/jinan/db-2/etc/ssh").exists()
    assert (out / "servers/jinan/db-2/etc/new.conf").read_text() == "x\n"


@pytest.mark.parametrize("where", ["servers", "servers/jinan/db-1",
                                   "servers/jinan/db-1/etc/ssh"])
def test_a_folder_linked_out_of_out_is_refused_at_any_depth(tmp_path: Path,
                                                            where: str) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_tree(out, {"inventory/hosts.yml": "all: {}\n"})
    link = out / where
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(elsewhere, target_is_directory=True)
    before = tree(out)
    with pytest.raises(OutputError, match="will not write"):
        write_tree(out, FILES)
    with pytest.raises(OutputError, match="will not write"):
        diff_tree(out, FILES)
    assert list(elsewhere.iterdir()) == [] and tree(out) == before  # nothing written


def test_a_file_linked_out_of_out_is_refused(tmp_path: Path) -> None:
    out, secret = tmp_path / "out", tmp_path / "secret"
    secret.write_text("keep\n")
    write_tree(out, FILES)
    target = out / "servers/jinan/db-1/etc/login.defs"
    target.unlink()
    target.symlink_to(secret)
    with pytest.raises(OutputError):  # the MANIFEST's own line now leads out
        write_tree(out, FILES)
    (out / "MANIFEST").unlink()
    with pytest.raises(OutputError, match="will not write 'servers/jinan/db-1/etc/login"):
        write_tree(out, FILES, force=True)
    assert secret.read_text() == "keep\n" and not (out / "MANIFEST").exists()


def test_links_that_stay_inside_out_are_followed_as_before(tmp_path: Path) -> None:
    """A link inside OUT to a folder of OUT: the files are written through it, as the
    per-file resolution always did (it stays in the folder)."""
    out = tmp_path / "out"
    write_tree(out, FILES)
    (out / "spare").mkdir()
    os.symlink("../spare", out / "devices" / "jinan2", target_is_directory=True)
    files = {**FILES, "devices/jinan2/fw-1/device.cfg": "sysname fw-1\n"}
    assert read_manifest(out) is not None
    res = write_tree(out, files)
    assert res.written == 1 and res.unchanged == len(FILES)
    assert (out / "spare/fw-1/device.cfg").read_text() == "sysname fw-1\n"
    assert write_tree(out, files).unchanged == len(files)


@pytest.mark.parametrize("rel", ["../x", "/abs/x", "a//b", "./a", "a/./b", "a/", ".",
                                 "a/\nb", "MANIFEST"])
def test_paths_that_are_not_plain_are_refused(tmp_path: Path, rel: str) -> None:
    out = tmp_path / "out"
    with pytest.raises(OutputError):
        write_tree(out, {**FILES, rel: "x\n"})
    assert not out.exists()  # refused before anything was written
