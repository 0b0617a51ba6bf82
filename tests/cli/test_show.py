"""pesdc show: the tables of every data center."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from pesdc.catalog import service_functions, trace_functions
from pesdc.cli.main import main
from pesdc.model import validate
from pesdc.model.schema import SystemKind
from tests.conftest import MINI


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_catalog_is_table_1() -> None:
    fns = service_functions()
    assert [f.id for f in fns] == [1, 2, 3, 4, 5, 6, 7]
    assert fns[0].zh == "业务经办" and fns[0].systems == (SystemKind.pes_mis,)
    assert all(SystemKind.pes_mis in f.systems for f in fns)
    assert fns[3].systems == (SystemKind.pes_mis, SystemKind.data_exchange,
                              SystemKind.employment_website, SystemKind.phone_consultation)


def test_trace_functions_on_mini_city() -> None:
    topo = validate([MINI]).topology
    traces = {t.function.id: t for t in trace_functions(topo.datacenters["jinan"])}
    assert traces[1].complete
    assert [s.name for s in dict(traces[1].by_kind)[SystemKind.pes_mis]] == ["pes-mis"]
    assert traces[3].missing == [SystemKind.fund_supervision]
    assert traces[7].complete  # pes-mis + dss


def test_show_all_centers_in_tier_order() -> None:
    code, out, err = run("show", str(MINI))
    assert code == 0, err
    pos = [out.index(f"({name})") for name in ("mohrss", "shandong", "jinan", "laiwu")]
    assert pos == sorted(pos)
    for zone in ("internet", "production", "exchange", "decision", "mgmt"):
        assert zone in out
    assert "Traceback" not in out + err


def test_show_city_sections_en() -> None:
    code, out, _ = run("show", str(MINI), "--dc", "jinan")
    assert code == 0
    assert "(jinan)" in out and "(mohrss)" not in out
    assert "10.38.1.0/24" in out  # segment subnet
    assert "physical" in out and "gatekeeper exchange->production" in out
    assert "firewall (1 flows)" in out and "denied" in out
    assert "fw-1" in out and "USG6650E" in out
    assert "misdb" in out and "talent-room" in out
    assert "business handling" in out
    assert "fund supervision: missing" in out  # the missing function system
    assert "l-talent" in out and "1000 Mbps" in out  # links
    assert "to-province" in out  # uplinks


def test_show_zh_function_table() -> None:
    code, out, _ = run("show", str(MINI), "--dc", "jinan", "--lang", "zh")
    assert code == 0
    assert "服务功能" in out and "隔离矩阵" in out and "生产区" in out
    assert "济南市人社数据中心" in out
    line = next(ln for ln in out.splitlines() if "业务经办" in ln)
    assert "pes-mis" in line
    fund = out[out.index("基金经费监管"):]
    assert "基金监管软件: 缺失" in fund.split("社会化服务")[0]


def test_show_hosted_city_does_not_crash() -> None:
    for lang in ("en", "zh"):
        code, out, err = run("show", str(MINI), "--dc", "laiwu", "--lang", lang)
        assert code == 0, err
        assert "shandong" in out


def test_show_unknown_dc() -> None:
    code, _, err = run("show", str(MINI), "--dc", "atlantis")
    assert code == 2
    assert "no data center named 'atlantis'" in err and "jinan" in err


def test_show_invalid_tree_exits_1_with_report(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    city.write_text(city.read_text().replace("primary: db-1", "primary: db-9"))
    code, out, err = run("show", str(mini_tree))
    assert code == 1
    assert "db-9" in err and "error(s)" in err
    assert "Traceback" not in out + err
    # the same report as validate
    vcode, _, verr = run("validate", str(mini_tree))
    assert vcode == 1 and verr == err
