"""The execution environment: the real `ansible-builder create` writes a build context
whose requirement files hold pesdc's dependencies and collections, and ee/requirements.txt
is not stale against pyproject.toml (scripts/ee-requirements.py --check)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, require_tool

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    builder = require_tool("ansible-builder", "pyproject.toml's dev extra",
                           path=str(VENV_BIN))
    out = tmp_path_factory.mktemp("ee") / "context"
    proc = subprocess.run([builder, "create", "-f", str(ROOT / "execution-environment.yml"),
                           "-c", str(out), "--output-filename", "Containerfile"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def _names(lines: list[str]) -> set[str]:
    import re
    return {re.split(r"[<>=!~ \[;]", ln.strip(), maxsplit=1)[0].lower().replace("_", "-")
            for ln in lines if ln.strip() and not ln.startswith("#")}


def test_containerfile_builds_from_centos_stream9_with_python311(context: Path) -> None:
    text = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in text
    assert 'ARG PYCMD="/usr/bin/python3.11"' in text
    assert "ansible-core>=2.16" in text and "ansible-runner" in text
    # pesdc from the build context, after its dependencies, and it must start
    assert "COPY _build/pesdc /tmp/pesdc-src" in text
    assert text.index("install-from-bindep") < text.index("pip install --no-cache-dir "
                                                          "--no-deps /tmp/pesdc-src")
    assert "RUN pesdc --version" in text


def test_build_context_holds_pesdc_dependencies(context: Path) -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    want = _names(deps) - {"ansible-core"}
    got = _names((context / "_build" / "requirements.txt").read_text().splitlines())
    assert want == got
    # pesdc's own source, installable: pyproject and the package with its data
    src = context / "_build" / "pesdc"
    assert (src / "pyproject.toml").read_bytes() == (ROOT / "pyproject.toml").read_bytes()
    assert (src / "cli" / "pesdc" / "__init__.py").is_file()
    assert (src / "cli" / "pesdc" / "roles" / "baseline").is_dir()
    assert (src / "cli" / "pesdc" / "callback_plugins" / "pesdc_json.py").is_file()


def test_build_context_holds_the_collections(context: Path) -> None:
    reqs = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    names = {c["name"] for c in reqs["collections"]}
    assert {"awx.awx", "ansible.netcommon", "cisco.ios", "community.network"} <= names
    bindep = (context / "_build" / "bindep.txt").read_text()
    assert "openssh-clients [platform:rpm]" in bindep


def test_inventory_network_os_collections_are_in_the_ee() -> None:
    """Every collection a rendered inventory names (ansible_network_os) is in
    ee/requirements.yml, or is the one left out on purpose (no Galaxy release)."""
    from pesdc.kinds import KINDS
    reqs = yaml.safe_load((ROOT / "ee" / "requirements.yml").read_text())
    listed = {c["name"] for c in reqs["collections"]}
    used = {".".join(k.ansible_network_os.split(".")[:2])
            for k in KINDS.values() if k.ansible_network_os}
    assert used - listed == {"hpe.comware"}


def test_requirements_txt_is_not_stale() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "ee-requirements.py"),
                           "--check"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    """--check against a copy of the tree whose requirements.txt lacks a dependency."""
    import shutil
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    (root / "ee").mkdir()
    for rel in ("pyproject.toml", "execution-environment.yml", "scripts/ee-requirements.py"):
        shutil.copy(ROOT / rel, root / rel)
    good = (ROOT / "ee" / "requirements.txt").read_text()
    (root / "ee" / "requirements.txt").write_text(good.replace("rich>=13\n", ""))
    script = str(root / "scripts" / "ee-requirements.py")
    proc = subprocess.run([sys.executable, script, "--check"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1
    assert "ee/requirements.txt: stale against pyproject.toml" in proc.stderr
    ee = root / "execution-environment.yml"
    ee.write_text(ee.read_text().replace("ansible-core>=2.16", "ansible-core>=2.15"))
    subprocess.run([sys.executable, script], capture_output=True, timeout=60)
    proc = subprocess.run([sys.executable, script, "--check"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1 and "pyproject.toml says 'ansible-core>=2.16'" in proc.stderr
