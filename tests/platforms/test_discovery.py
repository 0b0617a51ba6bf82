"""Adding a platform is adding a folder: a minimal platform package written to a
temporary directory and named by PESDC_PLATFORM_PATH is discovered by every part of
pesdc (run in a fresh interpreter, since the schema's Platform enum is made of the
folders found at import). The topology may name it, kind_of resolves it, render
renders its template, its driver plans, and the audit reads its configuration
through its dialect; a platform folder without a dialect is an audit error on its
devices that names it, and a folder without PLATFORM is refused by name."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pesdc.model.schema import Platform
from pesdc.platforms import CLAIMS_FILE, PATH_VARIABLE, claims, names, platform_values
from tests.conftest import MINI, ROOT

ACME = '''
from pathlib import Path

from hier_config import Platform as HierPlatform

from pesdc.platforms.dialect import Dialect
from pesdc.platforms.driver import Driver
from pesdc.platforms.remediation import CliSyntax
from pesdc.platforms.spec import SWITCH_FEATURES, Kind, PlatformSpec

SYNTAX = CliSyntax(HierPlatform.CISCO_IOS, "exit", "no")


class AcmeDriver(Driver):
    name = "acme_os"
    syntax = SYNTAX


class AcmeDialect(Dialect):
    telnet_off = r"^no telnet server"
    http_off = r"^no http server"
    ssh_v2 = r"^ssh server version 2"


PLATFORM = PlatformSpec(
    "acme_os", Path(__file__).parent,
    kinds=(Kind("acme_os", "acme_os", "cisco_ios", "acme.os.acme",
                "ansible.netcommon.network_cli", ("device.cfg",), SWITCH_FEATURES,
                config_file="device.cfg", diff=SYNTAX.remediation),),
    drivers={"acme_os": AcmeDriver},
    dialect=AcmeDialect(),
)
'''
ACME_TEMPLATE = """hostname {{ device.hostname }}
no telnet server
no http server
ssh server version 2
"""
# The same platform without a dialect.
BARE = ACME.replace("acme_os", "bare_os").replace("    dialect=AcmeDialect(),\n", "")

PROBE = '''
import json, sys
from pathlib import Path

from pesdc.audit.catalog import load_catalog
from pesdc.audit.engine import AuditOptions, run_audit
from pesdc.kinds import kind_of
from pesdc.model import validate
from pesdc.netpush.drivers import DRIVERS, ConnParams
from pesdc.render import render_tree

result = validate([Path(sys.argv[1])])
topo = result.topology
dc = topo.datacenters["jinan"]
devices = {d.name: d for d in dc.devices}
rendered = render_tree(topo)
config = rendered.files.get("devices/jinan/core-1/device.cfg", "")
driver = DRIVERS["acme_os"](ConnParams("cisco_ios", "192.0.2.1"))
report = run_audit(topo, "jinan", load_catalog(), AuditOptions(mode="static"))
print(json.dumps({
    "errors": [d.format() for d in result.report.errors] + [p.message for p in rendered.problems],
    "kinds": {n: kind_of(devices[n]).name for n in ("core-1", "core-2")},
    "config": config,
    "driver": type(driver).__name__,
    "plan": driver.plan("hostname old\\n", config),
    "ssh": {o.target: [o.status.value, o.message] for o in report.rules["AUD-MC-10"].outcomes},
}))
'''


def _package(root: Path, name: str, init: str, template: str | None = None,
             claim: str | None = None) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(init, "utf-8")
    (folder / CLAIMS_FILE).write_text(
        claim or f"title: {name}\nplatform: {name}\nmodels: ['.*']\n", "utf-8")
    if template is not None:
        (folder / "device.cfg.j2").write_text(template, "utf-8")


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, PATH_VARIABLE: str(tmp / "platforms")}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)


def _mini_on(tmp: Path) -> Path:
    """The mini tree with its core switches on the new platforms."""
    tree = tmp / "mini"
    shutil.copytree(MINI, tree)
    city = tree / "city.yaml"
    text = city.read_text("utf-8")
    old = "core_switch: {platform: huawei_vrp, model: CE6881}"
    assert old in text
    text = text.replace(old, "core_switch: {platform: acme_os, model: A1}")
    old = "{name: core-2, kind: core_switch,"
    assert old in text
    city.write_text(text.replace(old, old + " platform: bare_os,"), "utf-8")
    return tree


def test_a_platform_folder_elsewhere_is_discovered_by_everything(tmp_path: Path) -> None:
    _package(tmp_path / "platforms", "acme_os", ACME, ACME_TEMPLATE)
    _package(tmp_path / "platforms", "bare_os", BARE, ACME_TEMPLATE)
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, "utf-8")
    res = _run(tmp_path, str(probe), str(_mini_on(tmp_path)))
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert got["errors"] == []
    assert got["kinds"] == {"core-1": "acme_os", "core-2": "bare_os"}
    assert got["config"] == ACME_TEMPLATE.replace("{{ device.hostname }}", "core-1.jinan")
    assert got["driver"] == "AcmeDriver"
    # The negations of defaults a running configuration does not show are in place.
    assert got["plan"] == ["no hostname old", "hostname core-1.jinan", "ssh server version 2"]
    status, _ = got["ssh"]["core-1.jinan"]
    assert status == "pass"  # read through its own dialect
    status, message = got["ssh"]["core-2.jinan"]
    assert status == "error" and "platform bare_os has no audit dialect" in message


def test_a_folder_without_platform_is_refused_by_name(tmp_path: Path) -> None:
    _package(tmp_path / "platforms", "broken_os", '"""Nothing exported."""\n')
    res = _run(tmp_path, "-c", "from pesdc.platforms import platforms; platforms()")
    assert res.returncode != 0
    assert "broken_os" in res.stderr and "exports no PLATFORM" in res.stderr


def test_a_folder_without_a_readable_claim_is_refused_by_name(tmp_path: Path) -> None:
    _package(tmp_path / "platforms", "vague_os", ACME, claim="title: vague\nmodels: []\n")
    res = _run(tmp_path, "-c", "from pesdc.model.schema import Platform")
    assert res.returncode != 0
    assert "vague_os" in res.stderr and "must give `title`" in res.stderr


def test_the_command_line_names_a_broken_folder_without_a_traceback(tmp_path: Path) -> None:
    _package(tmp_path / "platforms", "vague_os", ACME, claim="title: vague\nmodels: []\n")
    res = _run(tmp_path, "-c", "from pesdc.cli.entry import run; run()", "validate",
               str(MINI))
    assert res.returncode == 2, res.stderr
    assert "vague_os" in res.stderr and "must give `title`" in res.stderr
    assert "Traceback" not in res.stderr


def test_the_platform_enum_is_what_the_families_serve() -> None:
    assert [p.value for p in Platform] == platform_values()
    assert {c.platform for c in claims().values()} == set(platform_values())
    assert set(claims()) == set(names())
    assert {"huawei_vrp", "huawei_usg", "h3c_comware", "cisco_ios", "linux"} <= \
        set(platform_values())
