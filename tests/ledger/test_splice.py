"""The splice of a ledger's sections into a center file's text: what moves, what stays."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pesdc.cli.main import main
from pesdc.ledger.splice import splice
from tests.conftest import ROOT

TEXT = """\
# head
datacenter:
  name: x
  servers:
    # first group
    - {name: a, roles: [web]}
    # second group
    - {name: b, roles: [web]}  # b's note
    - name: c
      roles: [database]
  # a comment above zones
  zones: []
# after
defaults: {}
"""
OLD = yaml.safe_load(TEXT)["datacenter"]
A, B, C = OLD["servers"]


def test_unchanged_is_identical_and_comments_travel_with_their_item() -> None:
    assert splice(TEXT, {"servers": [A, B, C]}, OLD) == TEXT
    moved = splice(TEXT, {"servers": [C, B, A]}, OLD)
    assert moved.splitlines()[3:11] == [
        "  servers:", "    # first group",  # the comment under the key stays there
        "    - name: c", "      roles: [database]",
        "    # second group", "    - {name: b, roles: [web]}  # b's note",
        "    - {name: a, roles: [web]}", "  # a comment above zones"]


def test_changed_item_keeps_its_style_and_key_order() -> None:
    out = splice(TEXT, {"servers": [A, {"roles": ["web", "bastion"], "name": "b"},
                                    {"name": "c", "roles": ["database"], "zone": "z"}]}, OLD)
    assert "    - {name: b, roles: [web, bastion]}\n" in out
    assert "    - name: c\n      roles: [database]\n      zone: z\n" in out
    assert "# b's note" not in out  # a comment on a rewritten line goes with it
    assert out.startswith("# head\ndatacenter:\n  name: x\n")
    assert out.endswith("  # a comment above zones\n  zones: []\n# after\ndefaults: {}\n")


def test_dropped_items_leave_their_comments_and_new_sections_go_last() -> None:
    out = splice(TEXT, {"servers": [C], "sites": [{"name": "s", "kind": "job_agency"}]},
                 OLD)
    assert "# second group" in out and "name: a" not in out and "name: b" not in out
    assert "  zones: []\n\n  sites:\n    - {name: s, kind: job_agency}\n# after\n" in out
    assert splice(TEXT, {"servers": []}, OLD).splitlines()[3] == "  servers: []"


def test_long_items_wrap_between_pairs_only() -> None:
    title = {"zh": "历下区公共就业服务中心", "en": "Lixia District public employment center"}
    out = splice(TEXT, {"servers": [{"name": "a", "roles": ["web"], "title": title,
                                     "os_release": "openEuler 22.03 LTS"}, B, C]}, OLD)
    # the title does not fit after the roles (a Chinese character takes two columns)
    assert out.splitlines()[5:8] == [
        "    - {name: a, roles: [web],",
        "       title: {zh: 历下区公共就业服务中心, en: Lixia District public employment center},",
        "       os_release: openEuler 22.03 LTS}"]
    assert yaml.safe_load(out)["datacenter"]["servers"][0]["title"] == title


CENTERS = {"mohrss": "ministry/mohrss.yaml", "shandong": "shandong/shandong.yaml",
           "zibo": "shandong/zibo.yaml", "binzhou": "shandong/binzhou.yaml",
           "heze": "shandong/heze.yaml"}


@pytest.mark.parametrize("center", sorted(CENTERS))
def test_every_example_center_round_trips_byte_for_byte(center: str, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "topologies", tree)
    book = tmp_path / f"{center}.xlsx"
    runner = CliRunner()
    out = runner.invoke(main, ["ledger", "export", str(tree), "--dc", center, "-o", str(book)])
    assert out.exit_code == 0, out.stderr
    back = runner.invoke(main, ["ledger", "import", str(book), "--into",
                                str(tree / CENTERS[center])])
    assert back.exit_code == 0, back.stderr
    assert (tree / CENTERS[center]).read_bytes() == \
        (ROOT / "topologies" / CENTERS[center]).read_bytes()


def test_a_value_that_is_not_one_line_is_written_escaped_on_its_line() -> None:
    from pesdc.ledger.splice import emit_item

    item = {"name": "s", "title": {"zh": "历下区\u2028中心", "en": "a\x85b\nc"}}
    lines = emit_item(item, flow=True, indent=4)
    assert all(ln.endswith("\n") and ln[:-1].isprintable() for ln in lines), lines
    assert yaml.safe_load("".join(ln[4:] for ln in lines))[0] == item
