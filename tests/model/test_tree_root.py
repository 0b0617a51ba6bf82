"""A topology tree's edges: symlinks out of it are not followed, tree defaults come only
from the folders between a file and the tree's root marker (.pesdc-tree), and every
defaults file applied is named by `validate -v` and `show`."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from pesdc.cli.main import main
from pesdc.model import LoadResult, validate
from pesdc.model.loader import TREE_MARKER
from tests.conftest import MINI

SECRET = "$6$not-a-real-hash$Zq0"
# Read as YAML this is a mapping whose one key holds the hash: a loader that read it
# would name that key in its unknown-key error.
SHADOW = f"root:{SECRET}:19000:0:99999:7: x\n"


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def make_tree(base: Path, marker: bool = True) -> Path:
    """base/tree: the mini tree with the city in sub/, a tree defaults file per level."""
    tree = base / "tree"
    (tree / "sub").mkdir(parents=True)
    for name in ("ministry.yaml", "province.yaml", "hosted.yaml"):
        shutil.copy(MINI / name, tree / name)
    shutil.copy(MINI / "city.yaml", tree / "sub" / "city.yaml")
    if marker:
        (tree / TREE_MARKER).write_text("", "utf-8")
    # Each level sets a field no other level nor the city sets, to see who applied.
    (tree / "defaults.yaml").write_text(
        "defaults:\n  servers:\n    all: {os_release: TREE}\n", "utf-8")
    (tree / "sub" / "defaults.yaml").write_text(
        "defaults:\n  devices:\n    all: {group: SUB}\n", "utf-8")
    return tree


def outside_shadow(base: Path) -> Path:
    (base / "elsewhere").mkdir()
    shadow = base / "elsewhere" / "shadow.yaml"
    shadow.write_text(SHADOW, "utf-8")
    return shadow


ABOVE = "defaults:\n  devices:\n    all: {title: {zh: 上, en: ABOVE}}\n"


def marks(result: LoadResult) -> set[str]:
    """Which levels' defaults reached jinan: ABOVE, TREE, SUB."""
    dc = result.topology.datacenters["jinan"]
    return ({d.title.en for d in dc.devices if d.title} | {d.group or "" for d in dc.devices}
            | {s.os_release or "" for s in dc.servers}) - {""}


def test_the_shadow_file_would_show_its_hash_if_read(tmp_path: Path) -> None:
    """The control for the tests below: read as a topology, the file's line is printed."""
    res = cli("validate", str(outside_shadow(tmp_path)))
    assert res.exit_code == 1
    assert SECRET in res.stderr


def test_symlinked_file_out_of_the_tree_is_named_not_read(tmp_path: Path) -> None:
    tree = make_tree(tmp_path)
    (tree / "sub" / "users.yaml").symlink_to(outside_shadow(tmp_path))
    for target in (tree, tree / "sub", tree / "sub" / "users.yaml"):
        res = cli("validate", str(target))
        assert res.exit_code == 1, res.stderr
        assert "users.yaml: error YAML004: symlink to" in res.stderr
        assert "leads outside the tree" in res.stderr and "remove the link" in res.stderr
        assert SECRET not in res.stdout + res.stderr
        assert "Traceback" not in res.stderr
    # Only that link is the problem: the rest of the tree validates.
    (tree / "sub" / "users.yaml").unlink()
    assert validate([tree]).report.ok


def test_symlinked_folder_out_of_the_tree_is_not_walked(tmp_path: Path) -> None:
    tree = make_tree(tmp_path)
    outside_shadow(tmp_path)
    (tree / "more").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    result = validate([tree])
    escaped = [d for d in result.report.errors if d.rule == "YAML004"]
    assert [Path(d.file).name for d in escaped] == ["more"]
    assert all(d.rule == "YAML004" for d in result.report.diagnostics)
    assert not any("shadow" in f for f in result.topology.files)
    res = cli("validate", str(tree))
    assert res.exit_code == 1 and SECRET not in res.stderr


def test_symlinks_inside_the_tree_are_followed(tmp_path: Path) -> None:
    tree = make_tree(tmp_path)
    (tree / "sub" / "ministry-link.yaml").symlink_to(tree / "ministry.yaml")
    (tree / "view").symlink_to(tree / "sub", target_is_directory=True)
    result = validate([tree])
    assert result.report.diagnostics == [], [d.format() for d in result.report.diagnostics]
    # Each file once, however many links lead to it (no duplicate-center error).
    assert len(result.topology.files) == 6


def test_without_a_marker_the_folder_given_is_the_edge(tmp_path: Path) -> None:
    tree = make_tree(tmp_path)
    (tree / "sub" / "province.yaml").symlink_to(tree / "province.yaml")
    # Marked: the link from sub/ to the tree's root stays inside the tree.
    assert not [d for d in validate([tree / "sub"]).report.errors if d.rule == "YAML004"]
    (tree / TREE_MARKER).unlink()
    errors = validate([tree / "sub"]).report.errors
    assert [Path(d.file).name for d in errors if d.rule == "YAML004"] == ["province.yaml"]


def test_defaults_above_the_tree_root_are_not_applied(tmp_path: Path) -> None:
    tree = make_tree(tmp_path)
    (tmp_path / "defaults.yaml").write_text(ABOVE, "utf-8")
    city = tree / "sub" / "city.yaml"
    for paths in ([tree], [city], [tree / "sub"]):
        result = validate(paths)
        assert marks(result) == {"TREE", "SUB"}, paths
        applied = result.defaults_applied["jinan"]
        assert [Path(f).resolve() for f in applied] == [
            (tree / "defaults.yaml").resolve(), (tree / "sub" / "defaults.yaml").resolve(),
            city.resolve()], paths
        assert result.notes == []
    # The control: without the marker in the way, the file above would reach jinan.
    (tree / TREE_MARKER).rename(tmp_path / TREE_MARKER)
    assert marks(validate([city])) == {"ABOVE", "TREE", "SUB"}


def test_without_a_root_marker_no_defaults_from_above_and_a_note(tmp_path: Path) -> None:
    tree = make_tree(tmp_path, marker=False)
    city = tree / "sub" / "city.yaml"
    result = validate([city])
    assert result.defaults_applied["jinan"] == [result.topology.datacenters["jinan"]._src[0]]
    assert marks(result) == set()
    [note] = result.notes
    assert "no tree root (.pesdc-tree)" in note and "city.yaml" in note
    assert "not applied:" in note
    assert "sub/defaults.yaml" in note and "tree/defaults.yaml" in note
    res = cli("validate", str(city))
    assert "note: no tree root (.pesdc-tree) at or above" in res.stderr
    # The whole folder still applies its own defaults files: no note for it.
    whole = validate([tree])
    assert marks(whole) == {"TREE", "SUB"} and whole.notes == []


def test_a_marker_that_is_a_symlink_does_not_mark_a_root(tmp_path: Path) -> None:
    tree = make_tree(tmp_path, marker=False)
    (tmp_path / "real-marker").write_text("", "utf-8")
    (tree / TREE_MARKER).symlink_to(tmp_path / "real-marker")
    assert marks(validate([tree / "sub" / "city.yaml"])) == set()


def test_validate_verbose_names_every_defaults_file_in_order(tmp_path: Path) -> None:
    tree = make_tree(tmp_path)
    res = cli("validate", "-v", str(tree / "sub" / "city.yaml"), str(tree / "ministry.yaml"),
              str(tree / "province.yaml"), str(tree / "hosted.yaml"))
    assert res.exit_code == 0, res.stderr
    line = next(x for x in res.stderr.splitlines() if x.startswith("defaults applied to jinan"))
    files = line.split(": ", 1)[1].split(", ")
    assert [Path(f.split(" (")[0]).resolve() for f in files] == [
        (tree / "defaults.yaml").resolve(), (tree / "sub" / "defaults.yaml").resolve(),
        (tree / "sub" / "city.yaml").resolve()]
    assert files[-1].endswith("(its own defaults:)")
    mohrss = next(x for x in res.stderr.splitlines() if "applied to mohrss" in x)
    assert mohrss.endswith("defaults.yaml") and "sub" not in mohrss
    assert "defaults applied" not in cli("validate", str(tree)).stderr  # only with -v


def test_show_names_the_defaults_files_of_each_center(tmp_path: Path) -> None:
    tree = make_tree(tmp_path)
    for lang in ("en", "zh"):
        res = cli("show", str(tree), "--dc", "jinan", "--lang", lang)
        assert res.exit_code == 0, res.stderr
        header = res.stdout[:3000]
        assert "默认值 / defaults" in header
        pos = [header.find(p) for p in ("tree/defaults.yaml", "sub/defaults.yaml",
                                        "sub/city.yaml (its own defaults:)")]
        assert -1 not in pos and pos == sorted(pos), header
