"""pesdc ledger: the XLSX asset ledger out of and back into a center file (issue 18)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from pesdc.cli.main import main
from pesdc.ledger.columns import CENTER_SHEET, LISTS_SHEET, SHEETS, covered_fields
from pesdc.ledger.export import ZIP_TIME, build_workbook, workbook_bytes
from pesdc.ledger.importer import _fresh_text
from pesdc.ledger.reading import read_ledger
from pesdc.model import validate
from pesdc.model.schema import DeviceKind, OsFamily, ServerRole, SiteKind, Zone
from tests.conftest import ROOT
from tests.i18n.test_cli_runtime_b import assert_chinese

TREE = ROOT / "topologies"
JINAN = Path("shandong/jinan.yaml")
OWNED = ("servers", "devices", "links", "sites")


def run(*args: str) -> tuple[int, str, str, BaseException | None]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr, result.exception


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example tree, the working folder being its parent (so problems are
    named ledger.xlsx:SHEET!ROW:COL and tree/shandong/jinan.yaml:LINE:COL)."""
    dst = tmp_path / "tree"
    shutil.copytree(TREE, dst)
    monkeypatch.chdir(tmp_path)
    return dst


@pytest.fixture
def ledger(tree: Path) -> Path:
    code, out, err, _ = run("ledger", "export", str(tree), "--dc", "jinan",
                            "-o", "ledger.xlsx")
    assert code == 0, err
    assert "30 servers, 19 devices, 27 links, 24 sites of jinan" in out
    return tree.parent / "ledger.xlsx"


def _sections(paths: list[Path], center: str = "jinan") -> dict[str, Any]:
    result = validate(paths)
    assert result.report.ok, [d.format() for d in result.report.errors]
    dc = result.topology.datacenters[center]
    return {s: [item.model_dump() for item in getattr(dc, s)] for s in OWNED}


def _import(ledger: Path, into: Path) -> tuple[int, str, str]:
    code, out, err, exc = run("ledger", "import", str(ledger.name), "--into",
                              str(into.relative_to(ledger.parent)))
    assert exc is None or isinstance(exc, SystemExit), exc  # never a traceback
    return code, out, err


def _edit(path: Path, **cells: Any) -> None:
    """Set cells, written SHEET__A1=value, and save (a workbook as a user saves it)."""
    wb = openpyxl.load_workbook(path)
    for where, value in cells.items():
        sheet, cell = where.split("__")
        wb[sheet][cell] = value
    wb.save(path)


# ------------------------------------------------------------------ the sheets


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.name)
def test_every_field_of_the_model_has_a_column(sheet: Any) -> None:
    assert covered_fields(sheet) == set(sheet.model.model_fields)


def test_drop_downs_list_the_schemas_enumerations(ledger: Path) -> None:
    wb = openpyxl.load_workbook(ledger)
    lists = wb[LISTS_SHEET]
    assert lists.sheet_state == "hidden"

    def choices(sheet: str, header_en: str) -> list[str]:
        ws = wb[sheet]
        letter = next(c.column_letter for c in ws[1] if c.value.endswith(f"/ {header_en}"))
        dv = next(dv for dv in ws.data_validations.dataValidation
                  if str(dv.sqref).startswith(f"{letter}2:"))
        col = dv.formula1.split("!")[1].split(":")[0].replace("$", "")[:-1]
        return [c.value for c in lists[col][1:] if c.value is not None]

    assert choices("servers", "os") == [m.value for m in OsFamily]
    assert choices("servers", "roles") == [m.value for m in ServerRole]
    assert choices("devices", "kind") == [m.value for m in DeviceKind]
    assert choices("sites", "kind") == [m.value for m in SiteKind]
    zones = yaml.safe_load((TREE / JINAN).read_text(encoding="utf-8"))["datacenter"]["zones"]
    assert choices("servers", "zone") == [z["name"] for z in zones]
    assert choices("interfaces", "segment") == [s["name"] for z in zones
                                                for s in z["segments"]]
    assert wb["servers"]["A1"].value == "名称 / name"


def test_export_is_deterministic_and_holds_no_clock(tree: Path) -> None:
    data = yaml.safe_load((tree / JINAN).read_text(encoding="utf-8"))["datacenter"]
    first = workbook_bytes(build_workbook(data))
    second = workbook_bytes(build_workbook(data))
    assert first == second
    (tree / "x.xlsx").write_bytes(first)
    with zipfile.ZipFile(tree / "x.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {ZIP_TIME}
        core = z.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core and core.count("2000-01-01") == 2


def test_export_leaves_inherited_values_empty(ledger: Path) -> None:
    rows = {r[0].value: r for r in openpyxl.load_workbook(ledger)["servers"].iter_rows(min_row=2)}
    # log-1 takes zone and segment from the logserver role's defaults, os from all
    assert [rows["log-1"][i].value for i in (2, 3, 5)] == [None, None, None]
    assert [rows["web-1"][i].value for i in (2, 3)] == ["exchange", "exch"]


# ------------------------------------------------------------------ round trip


def test_round_trip_keeps_the_file_byte_for_byte(tree: Path, ledger: Path) -> None:
    before = (tree / JINAN).read_bytes()
    code, out, err = _import(ledger, tree / JINAN)
    assert code == 0, err
    assert "wrote" in out
    assert (tree / JINAN).read_bytes() == before
    assert _sections([tree]) == _sections([TREE])


def _outside_owned(text: str) -> list[str]:
    """The lines of the sections the ledger does not own (and everything above)."""
    lines = text.splitlines()
    keys = [i for i, ln in enumerate(lines) if ln.startswith("  ") and not
            ln.startswith("   ") and ln.rstrip().endswith(":")]
    out, keep = [], True
    for i, ln in enumerate(lines):
        if i in keys:
            keep = ln.strip().rstrip(":") not in OWNED
        if keep or i < keys[0]:
            out.append(ln)
    return out


def test_an_edited_ledger_changes_only_what_it_says(tree: Path, ledger: Path) -> None:
    before = (tree / JINAN).read_text(encoding="utf-8")
    wb = openpyxl.load_workbook(ledger)
    wb["servers"]["F2"] = "rhel"  # web-1
    wb["servers"]["G2"] = "openEuler 22.03 LTS"
    wb["servers"].append(["web-3", "web", "exchange", "exch", "10.1.20.13"])
    wb["devices"]["D2"] = "USG6680E"  # fw-1, a block item with interfaces
    wb.save(ledger)
    code, _, err = _import(ledger, tree / JINAN)
    assert code == 0, err
    after = (tree / JINAN).read_text(encoding="utf-8")
    assert _outside_owned(after) == _outside_owned(before)
    # comments inside the owned sections stay where they were
    for comment in ("# production databases: PostgreSQL primary/standby pairs",
                    "# border firewall pair (边界防火墙)", "# Municipal network (市域网)"):
        assert comment in after
    changed = [ln for ln in after.splitlines() if ln not in before.splitlines()]
    assert len(changed) <= 6, changed  # web-1, web-3, fw-1's model (and its re-wrap)
    new = _sections([tree])
    old = _sections([TREE])
    servers = {s["name"]: s for s in new["servers"]}
    assert servers["web-1"]["os"] == "rhel" and servers["web-3"]["address"] == "10.1.20.13"
    assert servers["log-1"]["zone"] == "mgmt"  # still inherited, not written in
    assert "zone" not in yaml.safe_load(after)["datacenter"]["servers"][24]  # log-1
    assert new["links"] == old["links"] and new["sites"] == old["sites"]
    fw1 = next(d for d in new["devices"] if d["name"] == "fw-1")
    assert fw1["model"] == "USG6680E"
    assert fw1["interfaces"] == old["devices"][0]["interfaces"]


def test_into_and_output_writes_the_new_file_only(tree: Path, ledger: Path) -> None:
    before = (tree / JINAN).read_bytes()
    code, _, err, _ = run("ledger", "import", "ledger.xlsx", "--into", str(tree / JINAN),
                          "-o", str(tree / "shandong" / "jinan-new.yaml"))
    assert code == 0, err
    assert (tree / "shandong" / "jinan-new.yaml").read_bytes() == before
    assert (tree / JINAN).read_bytes() == before


def test_into_and_output_outside_the_tree_is_checked_in_the_place_of_into(
        tree: Path, ledger: Path, tmp_path: Path) -> None:
    """-o OUT outside any tree with --into: the new version of the center file, checked
    in its place (its tree's defaults, the centers around it), written to OUT only."""
    before = (tree / JINAN).read_bytes()
    _edit(ledger, servers__F2="rhel")  # web-1
    out = tmp_path / "review" / "jinan.yaml"
    out.parent.mkdir()
    code, stdout, err, _ = run("ledger", "import", "ledger.xlsx", "--into", str(tree / JINAN),
                               "-o", "review/jinan.yaml")
    assert code == 0, err
    assert stdout == ("wrote review/jinan.yaml (outside any topology tree: checked in the "
                      "place of tree/shandong/jinan.yaml, with its tree)\n")
    assert (tree / JINAN).read_bytes() == before
    shutil.copy(out, tree / JINAN)  # what it is for: copied over the file, it validates
    servers = {s["name"]: s for s in _sections([tree])["servers"]}
    assert servers["web-1"]["os"] == "rhel"
    code, stdout, _err, _ = run("--lang", "zh", "ledger", "import", "ledger.xlsx", "--into",
                                str(tree / JINAN), "-o", "review/jinan-2.yaml")
    assert code == 0 and stdout.startswith("已写入 review/jinan-2.yaml（")
    assert_chinese(stdout)


def test_a_new_file_outside_any_tree_is_refused_in_one_line(tree: Path, ledger: Path,
                                                            tmp_path: Path) -> None:
    """-o OUT outside any tree without --into: a center under another can only be checked
    with its parent's tree; one line says so (not one per inherited value)."""
    code, _, err, _ = run("ledger", "import", "ledger.xlsx", "-o", "new.yaml")
    assert code == 1
    assert err.splitlines() == [
        "new.yaml: error LEDGER: a new file outside any topology tree (no .pesdc-tree at "
        "or above it): center jinan is checked with the tree of its parent shandong, whose "
        "defaults it inherits; write it into that tree: -o TREE/FOLDER/jinan.yaml",
        "1 error(s): nothing written"]
    assert not (tmp_path / "new.yaml").exists()
    code, _, zh, _ = run("--lang", "zh", "ledger", "import", "ledger.xlsx", "-o", "new.yaml")
    assert code == 1 and len(zh.splitlines()) == 2 and "LEDGER" in zh
    assert_chinese(zh.splitlines()[0].partition("LEDGER")[2])
    assert not (tmp_path / "new.yaml").exists()


def test_a_new_file_never_replaces_an_existing_one(tree: Path, ledger: Path) -> None:
    before = (tree / JINAN).read_bytes()
    code, _, err, _ = run("ledger", "import", "ledger.xlsx", "-o", str(tree / JINAN))
    assert code == 2 and "exists: update it with --into" in err
    assert (tree / JINAN).read_bytes() == before


def test_center_and_segments_sheets_make_a_new_file_header(ledger: Path) -> None:
    text = _fresh_text(read_ledger(ledger))
    assert text is not None
    dc = yaml.safe_load(text)["datacenter"]
    orig = yaml.safe_load((TREE / JINAN).read_text(encoding="utf-8"))["datacenter"]
    assert {k: dc[k] for k in ("name", "tier", "division_code", "parent", "stage",
                               "title")} == {k: orig[k] for k in dc if k != "zones"}
    assert [Zone.model_validate(z) for z in dc["zones"]] == \
        [Zone.model_validate(z) for z in orig["zones"]]


# ------------------------------------------------------------------ bad ledgers


def test_every_problem_at_once_at_its_cell(tree: Path, ledger: Path) -> None:
    before = (tree / JINAN).read_bytes()
    _edit(ledger, servers__F3="windows",  # web-2: bad enumerated value
          servers__A4=None,  # dxp-1: missing required cell
          servers__A5="web-1",  # dxp-2: duplicate name
          servers__E6="10.9.9.9",  # phone-1: address not in its segment
          links__D2="fast",  # l-lixia: wrong type
          interfaces__J2="high",  # fw-1's first interface: a VRRP group is a number
          interfaces__A3="fw-9")  # an interface of a device not in the ledger
    wb = openpyxl.load_workbook(ledger)  # a good new server: the checked text grows a line
    wb["servers"].append(["web-3", "web", "exchange", "exch", "10.1.20.13"])
    wb.save(ledger)
    code, _, err = _import(ledger, tree / JINAN)
    assert code == 1
    lines = [ln for ln in err.splitlines() if not ln.startswith(" ")]
    for expected in (
            "ledger.xlsx:servers!3:F: error SCH002: Input should be 'debian' or 'rhel' "
            "(given 'windows')",
            "ledger.xlsx:servers!4:A: error SCH003: missing required key 'name'",
            "ledger.xlsx:servers!5:A: error SCH004: host (device or server) name 'web-1' "
            "is used twice in jinan",
            "ledger.xlsx:servers!6:E: error ADDR002: address 10.9.9.9 of phone-1 is not a "
            "host address of segment exch (10.1.20.0/24)",
            "ledger.xlsx:links!2:D: error SCH002: Input should be a valid number, unable "
            "to parse string as a number (given 'fast')",
            "ledger.xlsx:interfaces!2:J: error SCH002: Input should be a valid integer, "
            "unable to parse string as an integer (given 'high')",
            "ledger.xlsx:interfaces!3:A: error LEDGER: no device named 'fw-9' in sheet "
            "devices"):
        assert expected in lines, err
    # the systems that named dxp-1/dxp-2 now point nowhere: at the line of the file as
    # it is (the import wrote nothing), not of the text it checked
    line = before.decode().splitlines().index(
        "       servers: [dxp-1, dxp-2], ports: [{port: 8443}]}") + 1
    assert any(ln.startswith(f"tree/shandong/jinan.yaml:{line}:18: error REF001: server "
                             "'dxp-1'") for ln in lines), err
    assert "hint: use one of the allowed values" in err
    assert err.rstrip().endswith("nothing written")
    assert (tree / JINAN).read_bytes() == before
    assert not [p for p in (tree / "shandong").iterdir() if p.name.startswith(".")]


def test_a_line_break_in_a_cell_is_named_at_its_cell(tree: Path, ledger: Path) -> None:
    before = (tree / JINAN).read_bytes()
    _edit(ledger, servers__J2="就业服务网站\n  zone: internet",  # web-1's title.zh
          sites__C2="历下区\u2028中心")  # a line separator (YAML breaks lines there)
    code, _, err = _import(ledger, tree / JINAN)
    assert code == 1
    assert "ledger.xlsx:servers!2:J: error SCH005: " in err, err
    assert "ledger.xlsx:sites!2:C: error SCH005: " in err, err
    assert "SCH002" not in err and "YAML001" not in err  # it stayed one value
    assert (tree / JINAN).read_bytes() == before


def test_header_problems_and_zh(tree: Path, ledger: Path) -> None:
    _edit(ledger, sites__K1="备注 / notes", interfaces__A2="fw-9")
    code, _, err, exc = run("--lang", "zh", "ledger", "import", "ledger.xlsx", "--into",
                            str(tree / JINAN))
    assert code == 1 and isinstance(exc, SystemExit)
    assert "ledger.xlsx:sites!1:K: error LEDGER: 未知的列 '备注 / notes'" in err
    assert "ledger.xlsx:interfaces!2:A: error LEDGER: 工作表 devices 中没有名为 'fw-9' 的 " \
           "device" in err


def test_a_ledger_of_another_center_is_refused(tree: Path, ledger: Path) -> None:
    _edit(ledger, center__A2="zibo")
    code, _, err = _import(ledger, tree / JINAN)
    assert code == 1
    assert "ledger.xlsx:center!2:A: error LEDGER: the ledger is of center 'zibo', the " \
           "file of center 'jinan'" in err
    assert CENTER_SHEET == "center"


def test_not_a_workbook(tree: Path) -> None:
    (tree.parent / "ledger.xlsx").write_text("name,roles\n")
    code, _, err, exc = run("ledger", "import", "ledger.xlsx", "--into", str(tree / JINAN))
    assert code == 1 and isinstance(exc, SystemExit)
    assert err.startswith("ledger.xlsx: error LEDGER: cannot read the workbook")
