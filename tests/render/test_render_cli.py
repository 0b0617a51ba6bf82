"""`pesdc render` end to end: determinism, --diff, --against, errors, inventories."""

from __future__ import annotations

import json
from pathlib import Path

from pesdc.model import validate

from .conftest import LABCITY, PESDC, ROOT, run

PARTS = ["--only", "inventory", "--only", "devices"]


def test_same_input_gives_byte_identical_output(tmp_path: Path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        res = run([*PESDC, "render", str(LABCITY), "-o", str(out), *PARTS])
        assert res.returncode == 0, res.stderr
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 10
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    again = run([*PESDC, "render", str(LABCITY), "-o", str(a), *PARTS])
    assert "0 written" in again.stderr


def test_diff_shows_a_change_and_writes_nothing(tmp_path: Path, labcity_copy: Path):
    out = tmp_path / "out"
    assert run([*PESDC, "render", str(labcity_copy), "-o", str(out), *PARTS]).returncode == 0
    same = run([*PESDC, "render", str(labcity_copy), "-o", str(out), *PARTS, "--diff"])
    assert same.returncode == 0 and "0 added, 0 changed, 0 removed" in same.stderr
    city = labcity_copy / "weihai.yaml"
    flow = "dst_systems: [pes-mis], protocol: tcp, ports: [8080]}"
    assert flow in city.read_text()
    city.write_text(city.read_text().replace(flow, flow.replace("[8080]", "[8080, 8081]")))
    before = (out / "devices/weihai/fw-1/nftables.conf").read_text()
    diff = run([*PESDC, "render", str(labcity_copy), "-o", str(out), *PARTS, "--diff"])
    assert diff.returncode == 1
    assert "+\t\tip saddr { 10.50.8.0/24, 10.50.100.0/26" in diff.stdout
    assert "8080, 8081" in diff.stdout
    assert (out / "devices/weihai/fw-1/nftables.conf").read_text() == before


def test_removed_device_files_are_removed_on_rerender(tmp_path: Path, labcity_copy: Path):
    out = tmp_path / "out"
    run([*PESDC, "render", str(labcity_copy), "-o", str(out), *PARTS])
    (out / "notes.txt").write_text("mine")  # not pesdc's: must survive
    city = labcity_copy / "weihai.yaml"
    text = city.read_text()
    city.write_text(text.replace("    - {name: core-1, kind: core_switch, mgmt: 10.50.9.21, "
                                 "redundancy: core-2}\n", "").replace(
        "    - {name: core-2, kind: core_switch, mgmt: 10.50.9.22, redundancy: core-1}\n", ""))
    res = run([*PESDC, "render", str(labcity_copy), "-o", str(out), *PARTS])
    assert res.returncode == 0, res.stderr
    assert not (out / "devices/weihai/core-1").exists() or not any(
        (out / "devices/weihai/core-1").iterdir())
    assert (out / "notes.txt").read_text() == "mine"


def test_against_running_dir_writes_remediation(tmp_path: Path):
    out, running = tmp_path / "out", tmp_path / "running"
    (running / "weihai" / "rt-1").mkdir(parents=True)
    (running / "weihai" / "rt-1" / "frr.conf").write_text("hostname rt-1\n")
    res = run([*PESDC, "render", str(LABCITY), "-o", str(out), *PARTS,
               "--against", str(running)])
    assert res.returncode == 0, res.stderr
    rem = (out / "remediation/weihai/rt-1/frr.conf").read_text()
    assert "router ospf" in rem  # the FRR diff net plan pushes, from a bare running file


def test_feature_a_platform_cannot_express_is_an_error(labcity_copy: Path, tmp_path: Path):
    city = labcity_copy / "weihai.yaml"
    lines = city.read_text().splitlines(keepends=True)
    # Give the FRR router a VRRP group: linux_frr does not declare vrrp.
    idx = next(i for i, line in enumerate(lines)
               if "{name: eth0, segment: transit, address: 10.50.8.11}" in line)
    lines[idx] = lines[idx].replace("10.50.8.11}", "10.50.8.11, vrrp_group: 81}")
    city.write_text("".join(lines))
    res = run([*PESDC, "render", str(labcity_copy), "-o", str(tmp_path / "o"), *PARTS])
    assert res.returncode == 1
    assert "RENDER001" in res.stderr and "rt-1" in res.stderr and "vrrp" in res.stderr
    assert "weihai.yaml:" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()


def test_ansible_inventory_lists_every_host_and_group(tmp_path: Path):
    out = tmp_path / "out"
    run([*PESDC, "render", str(LABCITY), "-o", str(out), "--only", "inventory"])
    res = run([str(ROOT / ".venv/bin/ansible-inventory"), "-i",
               str(out / "inventory/hosts.yml"), "--list"])
    assert res.returncode == 0, res.stderr
    inv = json.loads(res.stdout)
    topo = validate([LABCITY]).topology
    dcs = topo.datacenters.values()
    hosts = {f"{n.name}.{dc.name}" for dc in dcs for n in [*dc.servers, *dc.devices]}
    assert set(inv["_meta"]["hostvars"]) == hosts
    groups = {g for g in inv if g not in ("_meta", "all", "ungrouped")}
    expected = {"servers", "network"}
    for dc in dcs:
        expected |= {f"tier_{dc.tier.value}", f"dc_{dc.name}"}
        for s in dc.servers:
            expected |= {f"zone_{dc.name}_{s.zone}", f"os_{s.os.value}"}
            expected |= {f"role_{r.value}" for r in s.roles}
        for d in dc.devices:
            expected |= {f"device_{d.kind.value}", f"platform_{d.platform.value}"}
    assert expected <= groups
    fw = inv["_meta"]["hostvars"]["fw-1.weihai"]
    assert fw["ansible_host"] == "10.50.9.2" and fw["ansible_connection"] == "ssh"
    assert "pair_weihai_fw_1_fw_2" in groups


def test_pyinfra_reads_the_inventory(tmp_path: Path):
    out = tmp_path / "out"
    run([*PESDC, "render", str(LABCITY), "-o", str(out), "--only", "inventory"])
    res = run([str(ROOT / ".venv/bin/pyinfra"), str(out / "inventory/pyinfra_inventory.py"),
               "debug-inventory"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    text = res.stdout + res.stderr  # pyinfra logs to stderr
    assert "[mis-1.weihai]" in text and "role_appserver" in text
    assert '"ssh_hostname": "10.50.1.10"' in text
