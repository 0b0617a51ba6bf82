"""The connection profile: written from the topology, read back with every problem at
its line, and the OpenSSH configuration it gives, as OpenSSH itself reads it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import paramiko
import pytest
import yaml
from click.testing import CliRunner

from pesdc.cli.main import main
from pesdc.model import validate
from pesdc.targets.profile import ProfileError, load_profile
from pesdc.targets.target import BASTION_ALIAS, endpoints_of, ssh_config_text
from tests.conftest import ROOT, require_tool

TOPO = ROOT / "topologies"


@pytest.fixture(scope="module")
def topo():  # type: ignore[no-untyped-def]
    return validate([TOPO]).topology


def _init(tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "jinan.targets.yaml"
    res = CliRunner().invoke(main, ["targets", "init", str(TOPO), "--dc", "jinan",
                                    "-o", str(out), *extra])
    assert res.exit_code == 0, res.output
    return out


def test_init_names_the_topologys_bastion_server_and_holds_no_secret(tmp_path: Path) -> None:
    out = _init(tmp_path)
    data = yaml.safe_load(out.read_text())
    # jinan has a bastion server (jump-1) and a bastion appliance (bh-1): pesdc jumps
    # through the server, at its topology address.
    assert data["bastion"]["server"] == "jump-1"
    assert data["bastion"]["address"] == "10.1.90.103"
    assert data["center"] == "jinan" and data["stand_ins"] is None
    assert not any(k in out.read_text().lower() for k in ("password:", "secret:"))
    prof = load_profile(out)
    assert prof.bastion.users == ["pesdc", "root"]
    # A second init does not overwrite the reviewed profile.
    res = CliRunner().invoke(main, ["targets", "init", str(TOPO), "--dc", "jinan",
                                    "-o", str(out)])
    assert res.exit_code == 2 and "exists" in res.output


def test_every_problem_of_a_profile_is_named_at_its_line(tmp_path: Path) -> None:
    out = _init(tmp_path)
    text = out.read_text().replace("port: 22", "port: 99999").replace(
        "parallel: 8", "parallel: 8\nproxy: socks5://somewhere")
    text = text.replace("  - pesdc\n  - root\n  identity_file", "  - 'Bad User'\n  identity_file")
    out.write_text(text)
    with pytest.raises(ProfileError) as err:
        load_profile(out)
    lines = {d.line for d in err.value.diagnostics}
    msgs = " | ".join(d.format() for d in err.value.diagnostics)
    assert len(err.value.diagnostics) == 3, msgs
    assert all(d.line > 0 and d.column > 0 for d in err.value.diagnostics), msgs
    by_text = text.splitlines()
    assert any("99999" in by_text[n - 1] for n in lines), msgs
    assert any("proxy" in by_text[n - 1] for n in lines), msgs
    assert any("Bad User" in by_text[n - 1] for n in lines), msgs


def test_a_profile_for_another_center_or_a_non_bastion_is_refused(tmp_path: Path, topo) -> None:  # type: ignore[no-untyped-def]
    from pesdc.targets.profile import check_against

    out = _init(tmp_path)
    out.write_text(out.read_text().replace("server: jump-1", "server: web-1"))
    problems = check_against(load_profile(out), topo, out)
    assert [d.rule for d in problems] == ["TGT005"]
    assert problems[0].line > 0 and "jump-1" in problems[0].hint


def _config(tmp_path: Path, topo) -> tuple[Path, str]:  # type: ignore[no-untyped-def]
    out = _init(tmp_path, "--identity-file", "/nonexistent/id_ed25519")
    prof = load_profile(out)
    eps = endpoints_of(topo.datacenters["jinan"])
    cfg = tmp_path / "ssh_config"
    text = ssh_config_text(prof, tmp_path, eps, "ops-zhang", cfg, tmp_path / "kh",
                           tmp_path / "cm")
    cfg.write_text(text)
    return cfg, text


def _ssh_g(cfg: Path, host: str) -> dict[str, str]:
    """OpenSSH's own reading of the configuration for a host (`ssh -G`: no connection)."""
    out = subprocess.run(["ssh", "-G", "-F", str(cfg), host], capture_output=True,
                         text=True, check=True).stdout
    return {k: v for k, _, v in (ln.partition(" ") for ln in out.splitlines())}


def test_openssh_reads_every_host_through_the_bastion_with_pinned_strict_keys(
        tmp_path: Path, topo) -> None:  # type: ignore[no-untyped-def]
    require_tool("ssh", "openssh-client")
    cfg, _ = _config(tmp_path, topo)
    bastion = _ssh_g(cfg, BASTION_ALIAS)
    assert bastion["hostname"] == "10.1.90.103" and bastion["user"] == "ops-zhang"
    assert "proxycommand" not in bastion  # the one host reached directly
    assert bastion["controlmaster"] == "auto"  # one multiplexed connection
    for name in ("web-1", "web-1.jinan", "10.1.20.11", "misdb-1", "fw-1", "rt-1"):
        got = _ssh_g(cfg, name)
        assert got["proxycommand"] == f"ssh -F {cfg} -W %h:%p {BASTION_ALIAS}", name
        assert got["stricthostkeychecking"] == "true", name
        assert got["userknownhostsfile"] == str(tmp_path / "kh"), name
        assert got["globalknownhostsfile"] == "/dev/null", name
        assert got["batchmode"] == "yes" and got["forwardagent"] == "no", name
    assert _ssh_g(cfg, "web-1")["user"] == "pesdc"
    assert _ssh_g(cfg, "10.1.20.11")["hostname"] == "10.1.20.11"


def test_paramiko_resolves_the_same_proxy_as_openssh(tmp_path: Path, topo) -> None:  # type: ignore[no-untyped-def]
    """pyinfra and netmiko read the configuration with paramiko's parser."""
    cfg, _ = _config(tmp_path, topo)
    conf = paramiko.SSHConfig.from_path(str(cfg))
    got = conf.lookup("10.1.11.11")  # misdb-1, as pyinfra and netmiko look it up
    assert got["proxycommand"] == f"ssh -F {cfg} -W 10.1.11.11:22 {BASTION_ALIAS}"
    assert got["userknownhostsfile"] == str(tmp_path / "kh")
    assert got["stricthostkeychecking"] == "yes"


@pytest.mark.parametrize("argv", [
    ["plan", str(TOPO), "--dc", "jinan"],
    ["apply", str(TOPO), "--dc", "jinan"],
    ["net", "plan", str(TOPO), "--dc", "jinan"],
    ["net", "apply", str(TOPO), "--dc", "jinan"],
    ["stage", "rehearse", str(TOPO), "--dc", "jinan", "--to", "2"],
])
def test_a_connecting_command_without_lab_or_live_refuses(argv: list[str]) -> None:
    res = CliRunner().invoke(main, argv)
    assert res.exit_code == 2, res.output
    assert "refused" in res.output and "--lab NAME" in res.output
    assert "--live PROFILE" in res.output and "Traceback" not in res.output


def test_a_live_apply_that_cannot_ask_refuses_without_yes(tmp_path: Path) -> None:
    from pesdc.cli.targeting import confirm_live
    from pesdc.targets.target import Target

    t = Target("live", "jinan", None, tmp_path / "c", None, tmp_path / "k",
               {"servers": ["pesdc"], "devices": ["admin"], "linux_gear": ["root"]},
               "live via bastion jump-1 (10.1.90.103)")
    with pytest.raises(SystemExit) as stop:
        confirm_live("apply", t, "3 operations", yes=False)  # stdin is not a terminal
    assert stop.value.code == 2
    confirm_live("apply", t, "3 operations", yes=True)  # --yes: no question


def test_no_profile_value_can_add_a_line_to_the_ssh_config(tmp_path: Path) -> None:
    out = _init(tmp_path)
    text = out.read_text().replace("address: 10.1.90.103",
                                   'address: "10.1.90.103\\n  ProxyCommand sh -c evil"')
    text = text.replace("known_hosts: jinan.known_hosts", 'known_hosts: "a b"')
    out.write_text(text)
    with pytest.raises(ProfileError) as err:
        load_profile(out)
    assert {d.path[-1] for d in err.value.diagnostics} == {"address", "known_hosts"}
