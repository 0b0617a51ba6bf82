"""An output folder is pesdc's alone: what `render -o` may delete, read and write.

A MANIFEST names the files pesdc wrote with their SHA-256. These tests plant hostile
MANIFEST lines and symlinks in a rendered folder and check that nothing outside the
folder is deleted, read or written, that a file someone edited is kept, and that a
folder pesdc did not create is refused unless --force.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pesdc.cli.main import main
from tests.conftest import MINI
from tests.render.conftest import LABCITY

SECRET = "root:$6$not-a-real-hash:19000:0:99999:7:::\n"
INVENTORY = ["--only", "inventory"]
WITH_DEVICES = ["--only", "inventory", "--only", "devices"]


def render(out: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["render", str(MINI), "-o", str(out), *args])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    res = render(out, *INVENTORY)
    assert res.exit_code == 0, res.stderr
    assert (out / "MANIFEST").is_file()
    return out


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file next to the output folder that pesdc must never touch."""
    p = tmp_path / "outside.txt"
    p.write_text(SECRET, "utf-8")
    return p


def add_manifest_line(out: Path, sha_hex: str, rel: str) -> int:
    """Append a line to OUT/MANIFEST; return its line number."""
    m = out / "MANIFEST"
    lines = m.read_text("utf-8").splitlines()
    m.write_text("\n".join([*lines, f"{sha_hex}  {rel}"]) + "\n", "utf-8")
    return len(lines) + 1


def assert_refused(res: Result, outside: Path, *wanted: str) -> None:
    assert res.exit_code == 1, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert "Traceback" not in res.stderr
    for text in wanted:
        assert text in res.stderr, res.stderr
    assert outside.read_text("utf-8") == SECRET  # still there, unchanged
    assert "not-a-real-hash" not in res.stdout + res.stderr  # and never printed


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
def test_manifest_path_outside_the_folder_is_refused(rendered: Path, outside: Path,
                                                     how: str) -> None:
    if how == "dotdot":
        rel, why = "../outside.txt", "contains '..'"
    elif how == "absolute":
        rel, why = str(outside), "is absolute"
    else:
        (rendered / "link").symlink_to(outside.parent, target_is_directory=True)
        rel, why = "link/outside.txt", "outside the output folder"
    # The checksum matches: only the path check stands between the line and a delete.
    line = add_manifest_line(rendered, sha(outside), rel)
    where = f"MANIFEST:{line}:"
    assert_refused(render(rendered, *INVENTORY), outside, where, why)
    assert_refused(render(rendered, *INVENTORY, "--force"), outside, where)
    diff = render(rendered, *INVENTORY, "--diff")
    assert_refused(diff, outside, where, why)


def test_manifest_line_that_is_not_sha_and_path_is_refused(rendered: Path) -> None:
    m = rendered / "MANIFEST"
    m.write_text(m.read_text("utf-8") + "deadbeef ../../etc/passwd\n", "utf-8")
    res = render(rendered, *INVENTORY)
    assert res.exit_code == 1
    assert "MANIFEST:4: not a pesdc MANIFEST line" in res.stderr
    assert "etc/passwd" not in res.stderr  # the untrusted line is named, not quoted


def test_manifest_that_is_a_symlink_is_neither_read_nor_written(rendered: Path,
                                                                outside: Path) -> None:
    m = rendered / "MANIFEST"
    m.unlink()
    m.symlink_to(outside)
    assert_refused(render(rendered, *INVENTORY), outside, "is a symlink")
    assert_refused(render(rendered, *INVENTORY, "--diff"), outside, "is a symlink")


def test_no_write_through_a_symlink_out_of_the_folder(rendered: Path,
                                                      tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    inventory = rendered / "inventory"
    for f in inventory.iterdir():
        f.unlink()
    inventory.rmdir()
    inventory.symlink_to(elsewhere, target_is_directory=True)
    # The MANIFEST's own lines now lead out of the folder...
    res = render(rendered, *INVENTORY)
    assert res.exit_code == 1 and "Traceback" not in res.stderr
    assert "MANIFEST:1: the path resolves (through a symlink) outside" in res.stderr
    # ...and without a MANIFEST, --force still does not write through the link.
    (rendered / "MANIFEST").unlink()
    forced = render(rendered, *INVENTORY, "--force")
    assert forced.exit_code == 1 and "Traceback" not in forced.stderr
    assert "will not write 'inventory/" in forced.stderr
    assert list(elsewhere.iterdir()) == []
    assert not (rendered / "MANIFEST").exists()  # nothing written at all
    diff = render(rendered, *INVENTORY, "--diff")
    assert diff.exit_code == 1 and "will not write" in diff.stderr


def test_only_unedited_files_pesdc_wrote_are_deleted(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert render(out, *WITH_DEVICES).exit_code == 0
    configs = sorted(p for p in (out / "devices").rglob("*") if p.is_file())
    assert len(configs) >= 2
    edited, untouched = configs[0], configs[1:]
    edited.write_text(edited.read_text("utf-8") + "! local change\n", "utf-8")
    rel = edited.relative_to(out).as_posix()

    diff = render(out, *INVENTORY, "--diff")
    assert diff.exit_code == 1
    assert f"{rel}: edited since pesdc wrote it; would be kept" in diff.stderr
    assert f"{len(untouched)} removed" in diff.stderr

    res = render(out, *INVENTORY)
    assert res.exit_code == 0, res.stderr
    assert f"{len(untouched)} removed" in res.stderr
    assert f"{rel}: no longer rendered but edited" in res.stderr
    assert edited.read_text("utf-8").endswith("! local change\n")
    assert not any(p.exists() for p in untouched)
    assert rel not in (out / "MANIFEST").read_text("utf-8")


def test_folder_pesdc_did_not_create_is_refused_unless_forced(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine\n", "utf-8")
    res = render(foreign, *INVENTORY)
    assert res.exit_code == 1 and "Traceback" not in res.stderr
    assert "has no pesdc MANIFEST" in res.stderr and "--force" in res.stderr
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]

    forced = render(foreign, *INVENTORY, "--force")
    assert forced.exit_code == 0, forced.stderr
    assert (foreign / "notes.txt").read_text("utf-8") == "mine\n"
    assert (foreign / "MANIFEST").is_file() and (foreign / "inventory").is_dir()
    # From now on the folder is pesdc's: no --force needed, and notes.txt still stays.
    again = render(foreign, *INVENTORY)
    assert again.exit_code == 0, again.stderr
    assert (foreign / "notes.txt").read_text("utf-8") == "mine\n"


def test_empty_or_new_folder_needs_no_force(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert render(empty, *INVENTORY).exit_code == 0
    assert render(tmp_path / "new" / "deeper", *INVENTORY).exit_code == 0


def test_output_that_is_a_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x", "utf-8")
    res = render(f, *INVENTORY, "--force")
    assert res.exit_code == 1 and "is not a folder" in res.stderr
    assert f.read_text("utf-8") == "x"


def test_export_ansible_folder_is_pesdcs_alone(tmp_path: Path) -> None:
    """`pesdc export ansible` writes as render does: foreign folder refused unless
    --force, and a re-export removes only the host_vars files it wrote."""
    key = tmp_path / "deploy.pub"
    key.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ" + "0" * 43 + " test\n", "utf-8")
    out = tmp_path / "export"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n", "utf-8")

    def export(*args: str) -> Result:
        return CliRunner().invoke(
            main, ["export", "ansible", str(LABCITY), "--dc", "weihai", "--deploy-key",
                   str(key), "-o", str(out), *args],
            env={"PESDC_STATE_DIR": str(tmp_path / "state")})

    refused = export()
    assert refused.exit_code != 0 and "has no pesdc MANIFEST" in refused.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert export("--force").exit_code == 0
    hosts = sorted((out / "host_vars").glob("*.yml"))
    assert len(hosts) > 2
    (out / "host_vars" / "mine.yml").write_text("x: 1\n", "utf-8")  # not pesdc's
    hosts[1].write_text(hosts[1].read_text("utf-8") + "# edited\n", "utf-8")
    keep = hosts[0].stem.split(".")[0]
    narrowed = export("--limit", keep)
    assert narrowed.exit_code == 0, narrowed.stderr
    left = sorted(p.name for p in (out / "host_vars").iterdir())
    assert left == sorted([hosts[0].name, hosts[1].name, "mine.yml"])
    assert (out / "notes.txt").read_text("utf-8") == "mine\n"
