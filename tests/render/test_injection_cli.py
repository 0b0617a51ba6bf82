"""The injections issue 12 reported, run as a user would: `pesdc validate` and `pesdc
render` on the bundled example tree with one hostile edit each.

Each edit once produced an extra command in a rendered file (an ACL opening management,
`PermitRootLogin yes` ahead of the hardened line, a bare `accept` in the gatekeeper's
ruleset) while both commands exited 0. Now both exit 1, validate names the file, line
and rule, and no output file holds the injected text.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PESDC = Path(sys.executable).with_name("pesdc")
if not PESDC.exists():  # pragma: no cover - a venv without the script
    PESDC = ROOT / ".venv" / "bin" / "pesdc"
TREE = ROOT / "topologies"
JINAN = Path("shandong") / "jinan.yaml"
DEFAULTS = Path("defaults.yaml")

# (file, text in it, replacement, the rule expected, the injected line)
ATTACKS = {
    "title-newline-acl": (
        JINAN, "en: Jinan HRSS data center}",
        'en: "Jinan\\nacl number 2000\\n rule 5 permit"}', "SCH005", "rule 5 permit"),
    "model-newline": (
        DEFAULTS, "model: CE12804", 'model: "CE12804\\nundo stelnet server enable"',
        "SCH005", "undo stelnet server enable"),
    "os-release-permit-root": (
        DEFAULTS, 'os_release: "12 (bookworm)"',
        'os_release: "12 (bookworm)\\nPermitRootLogin yes"', "SCH005", "PermitRootLogin yes"),
    "flow-name-quote-accept": (
        JINAN, "name: dxp-to-mis", 'name: "dxp\\" accept\\n\\t\\taccept comment \\"x"',
        "SCH006", "accept comment"),
    "banner-line-separator": (
        JINAN, "  stage: 3\n",
        '  stage: 3\n  security: {banner: "ok\\u2028PermitRootLogin yes"}\n',
        "SCH005", "PermitRootLogin yes"),
}


def _pesdc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PESDC), *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_injection_is_refused_by_validate_and_render(tmp_path: Path, name: str) -> None:
    rel, old, new, rule, injected = ATTACKS[name]
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    target = tree / rel
    text = target.read_text("utf-8")
    assert old in text, f"the example no longer holds {old!r}: update the attack"
    target.write_text(text.replace(old, new, 1), "utf-8")

    check = _pesdc("validate", str(tree))
    assert check.returncode == 1, check.stdout + check.stderr
    where = re.compile(rf"{re.escape(str(target.relative_to(tmp_path)))}:\d+:\d+: error "
                       rf"{rule}:|{re.escape(str(target))}:\d+:\d+: error {rule}:")
    assert any(where.search(line) for line in (check.stdout + check.stderr).splitlines()), \
        check.stdout + check.stderr
    assert "Traceback" not in check.stderr

    out = tmp_path / "out"
    render = _pesdc("render", str(tree), "-o", str(out), "--dc", "jinan")
    assert render.returncode != 0, render.stdout + render.stderr
    assert "Traceback" not in render.stderr
    for path in out.rglob("*") if out.exists() else []:
        if path.is_file():
            assert injected not in path.read_text("utf-8", "replace"), path
