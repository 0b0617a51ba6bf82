"""Defaults and inheritance: all -> kinds/roles -> groups -> node, outer files first.

Maps merge key by key, lists and scalars replace; a bad value that came from a
defaults block is reported at the defaults block's line, not at every node.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pesdc.model import LoadResult, validate
from pesdc.model.schema import DataCenter, Platform
from tests.conftest import MINI

MINI_DEFAULTS = (MINI / "city.yaml").read_text("utf-8").split("datacenter:", 1)[0]


def set_defaults(city: Path, defaults: str) -> None:
    """Replace the city file's own defaults block."""
    text = city.read_text("utf-8")
    assert text.startswith(MINI_DEFAULTS)
    city.write_text(defaults.lstrip("\n") + text[len(MINI_DEFAULTS):], "utf-8")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), "utf-8")


def jinan(result: LoadResult) -> DataCenter:
    assert result.report.ok, "\n".join(d.format() for d in result.report.sorted())
    return result.topology.datacenters["jinan"]


def line_of(path: Path, text: str) -> int:
    lines = path.read_text("utf-8").splitlines()
    hits = [i + 1 for i, ln in enumerate(lines) if text in ln]
    assert len(hits) == 1, (text, hits)
    return hits[0]


def test_mini_city_inherits_platform_and_model_by_kind() -> None:
    dc = jinan(validate([MINI]))
    devices = {d.name: d for d in dc.devices}
    assert devices["core-1"].platform is Platform.huawei_vrp
    assert devices["core-1"].model == "CE6881"
    assert devices["fw-1"].platform is Platform.huawei_usg
    assert devices["fw-1"].model == "USG6650E"


def test_order_all_then_kind_then_group_then_node(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    set_defaults(city, """
defaults:
  devices:
    all: {platform: linux, model: ALL}
    kinds:
      core_switch: {model: CE6800-KIND, platform: huawei_vrp}
    groups:
      pair: {model: CE6800-GROUP}
  servers:
    all: {os: debian, os_release: ALL}
    roles:
      timesource: {os_release: TIME}
      backup: {os_release: BACKUP}
      database: {os_release: DB}
    groups:
      pg: {os_release: GROUP}
""")
    edit(city, "name: core-1, kind: core_switch,", "name: core-1, kind: core_switch, group: pair,")
    edit(city, "name: fw-1, kind: firewall,", "name: fw-1, kind: firewall, group: pair, "
         "model: NODE,")
    edit(city, "name: fw-2, kind: firewall,", "name: fw-2, kind: firewall, group: pair,")
    edit(city, "name: db-2, roles: [database],", "name: db-2, roles: [database], group: pg,")
    edit(city, "name: log-1, roles: [logserver],", "name: log-1, roles: [logserver], "
         "os_release: NODE,")
    dc = jinan(validate([mini_tree]))
    dev = {d.name: d for d in dc.devices}
    assert dev["core-1"].model == "CE6800-GROUP"  # group beats kind
    assert dev["core-2"].model == "CE6800-KIND"  # kind beats all
    assert dev["fw-1"].model == "NODE"  # the node beats every default
    assert dev["fw-2"].model == "CE6800-GROUP"
    assert dev["core-1"].platform is Platform.huawei_vrp  # kind, untouched by the group
    assert dev["fw-1"].platform is Platform.linux  # all
    srv = {s.name: s for s in dc.servers}
    assert srv["ntp-1"].os_release == "BACKUP"  # roles in the order the server lists them
    assert srv["db-1"].os_release == "DB"
    assert srv["db-2"].os_release == "GROUP"
    assert srv["log-1"].os_release == "NODE"
    assert srv["web-1"].os_release == "ALL"


def test_role_order_is_the_servers_order(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    set_defaults(city, MINI_DEFAULTS.replace(
        "    all: {os: debian}",
        "    all: {os: debian}\n    roles:\n      timesource: {os: rhel}\n"
        "      backup: {os: debian}"))
    edit(city, "roles: [timesource, backup]", "roles: [backup, timesource]")
    srv = {s.name: s for s in jinan(validate([mini_tree])).servers}
    assert srv["ntp-1"].os.value == "rhel"


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    """tree/defaults.yaml, tree/sub/defaults.yaml, tree/sub/city.yaml, tree/other/..."""
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "other").mkdir()
    for name in ("province.yaml", "ministry.yaml", "hosted.yaml"):
        shutil.copy(MINI / name, tree / "other" / name)
    city = tree / "sub" / "city.yaml"
    shutil.copy(MINI / "city.yaml", city)
    (tree / ".pesdc-tree").write_text("", "utf-8")  # tree defaults reach up to here
    (tree / "defaults.yaml").write_text(
        "defaults:\n"
        "  devices:\n"
        "    all: {platform: cisco_ios, model: C9300-TREE}\n"
        "    kinds:\n"
        "      core_switch: {model: C9300-TREE-KIND}\n"
        "  servers:\n"
        "    all: {os_release: TREE}\n", "utf-8")
    (tree / "sub" / "defaults.yaml").write_text(
        "defaults:\n"
        "  devices:\n"
        "    all: {model: C9300-SUB}\n", "utf-8")
    # A sibling folder's defaults do not reach sub/.
    (tree / "other" / "defaults.yaml").write_text(
        "defaults:\n  devices:\n    all: {model: C9300-OTHER}\n  servers:\n    all: {os: rhel}\n",
        "utf-8")
    set_defaults(city, "defaults:\n  devices:\n    all: {model: C9300-OWN}\n")
    return tree, city


def test_tree_defaults_come_before_the_files_own(tmp_path: Path) -> None:
    tree, _ = _tree(tmp_path)
    dc = jinan(validate([tree]))
    dev = {d.name: d for d in dc.devices}
    # Level by level: every file's `all`, then every file's `kinds`, outer folders first.
    assert dev["fw-1"].model == "C9300-OWN"  # tree all < sub all < own all
    assert dev["core-1"].model == "C9300-TREE-KIND"  # a kinds block beats any all block
    assert dev["fw-1"].platform is Platform.cisco_ios  # from the tree file only
    srv = {s.name: s for s in dc.servers}
    assert srv["web-1"].os_release == "TREE"
    assert srv["web-1"].os.value == "debian"  # other/defaults.yaml does not apply here


def test_tree_defaults_apply_when_one_file_is_validated(tmp_path: Path) -> None:
    tree, city = _tree(tmp_path)
    result = validate([city, tree / "other"])
    dev = {d.name: d for d in jinan(result).devices}
    assert dev["fw-1"].platform is Platform.cisco_ios
    assert dev["fw-1"].model == "C9300-OWN"


def test_bad_value_in_tree_defaults_is_reported_at_its_line(tmp_path: Path) -> None:
    tree, _ = _tree(tmp_path)
    defaults = tree / "defaults.yaml"
    edit(defaults, "all: {platform: cisco_ios, model: C9300-TREE}",
         "all: {platform: cisco_iso, model: C9300-TREE}")
    result = validate([tree])
    errors = result.report.errors
    assert errors
    want = line_of(defaults, "platform: cisco_iso")
    for d in errors:
        assert d.rule == "SCH002", d.format()
        assert Path(d.file).resolve() == defaults.resolve(), d.format()
        assert d.line == want and d.column > 0
        assert d.dotted_path == "defaults.devices.all.platform"
        assert "inherited from defaults" in d.message and "cisco_iso" in d.message
    # fw-1 and fw-2 inherit it (the core switches get it too: their kind sets no platform).
    assert len(errors) == 4


def test_bad_default_overridden_by_the_node_is_no_error(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    set_defaults(city, MINI_DEFAULTS.replace("all: {os: debian}", "all: {os: windows}"))
    result = validate([mini_tree])
    bad = {d.dotted_path for d in result.report.errors if d.rule == "SCH002"}
    assert len(result.report.errors) == 8  # every server of jinan inherits it
    line = line_of(city, "os: windows")
    assert all(d.line == line for d in result.report.errors)
    # Every server says os: itself: the bad default is never used, so it is no error.
    city.write_text(city.read_text("utf-8").replace("roles: [", "os: rhel, roles: ["), "utf-8")
    assert bad == {"defaults.servers.all.os"}
    assert validate([mini_tree]).report.ok


def test_unknown_key_in_defaults_is_one_problem(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    set_defaults(city, MINI_DEFAULTS.replace("all: {os: debian}",
                                             "all: {os: debian, adress: 10.0.0.1}"))
    result = validate([mini_tree])
    errors = result.report.errors
    assert [(d.rule, d.line) for d in errors] == [("SCH001", line_of(city, "adress"))]
    assert "did you mean 'address'" in errors[0].hint


def test_unknown_level_in_defaults(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    set_defaults(city, MINI_DEFAULTS.replace("  servers:\n    all: {os: debian}",
                                             "  servers:\n    all: {os: debian}\n"
                                             "    kinds: {web: {os: rhel}}"))
    errors = validate([mini_tree]).report.errors
    assert [(d.rule, d.line) for d in errors] == [("SCH001", line_of(city, "kinds: {web"))]
    assert "roles" in errors[0].hint


def test_a_centers_own_defaults_stay_in_its_file(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    set_defaults(city, MINI_DEFAULTS.replace("all: {os: debian}", "all: {os: rhel}"))
    result = validate([mini_tree])
    assert result.report.ok
    assert {s.os.value for s in result.topology.datacenters["jinan"].servers} == {"rhel"}
    assert {s.os.value for s in result.topology.datacenters["shandong"].servers} == {"debian"}


def test_maps_merge_and_lists_replace(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    set_defaults(city, """
defaults:
  devices:
    all:
      ospf: {area: 0.0.0.1, fast_timers: false}
      interfaces: [{name: eth0, segment: mgmt}, {name: eth1, segment: mgmt}]
    kinds:
      core_switch: {platform: huawei_vrp, model: CE6881}
      firewall: {platform: huawei_usg, model: USG6650E}
  sites:
    all: {title: {zh: 服务站, en: Service station}}
""")
    edit(city, "name: core-1, kind: core_switch,",
         "name: core-1, kind: core_switch, ospf: {router_id: 10.38.9.2}, "
         "interfaces: [{name: ge0, segment: prod-app}],")
    edit(city, "name: lixia, kind: district_agency,",
         "name: lixia, kind: district_agency, title: {en: Lixia},")
    dc = jinan(validate([mini_tree]))
    dev = {d.name: d for d in dc.devices}
    core1, core2 = dev["core-1"], dev["core-2"]
    # A map merges: the node's router_id joins the defaults' area and timers.
    assert core1.ospf is not None and core1.ospf.router_id == "10.38.9.2"
    assert core1.ospf.area == "0.0.0.1" and core1.ospf.fast_timers is False
    assert core2.ospf is not None and core2.ospf.router_id is None
    # A list replaces: the node's one interface, not three.
    assert [i.name for i in core1.interfaces] == ["ge0"]
    assert [i.name for i in core2.interfaces] == ["eth0", "eth1"]
    sites = {s.name: s for s in dc.sites}
    assert sites["lixia"].title is not None
    assert (sites["lixia"].title.zh, sites["lixia"].title.en) == ("服务站", "Lixia")
    assert sites["lixia-st1"].title.en == "Service station"  # type: ignore[union-attr]
