"""The small lab city (tests/fixtures/labcity) with its border firewall pair as Huawei
USGs: the lab then runs each firewall's stand-in from the rendered USG configuration."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.lab.conftest import LABCITY


def usg_city(root: Path, platform: str = "huawei_usg", model: str = "USG6650E") -> Path:
    """A copy of the lab city under ``root`` whose fw-1 and fw-2 are vendor gear (by
    default USG6650E)."""
    for f in LABCITY.glob("*.yaml"):
        shutil.copy(f, root / f.name)
    city = root / "weihai.yaml"
    text = city.read_text(encoding="utf-8")
    for fw in ("fw-1", "fw-2"):
        head = f"    - name: {fw}\n      kind: firewall\n"
        assert head in text, f"the lab city's {fw} moved: update {__file__}"
        text = text.replace(head, head + f"      platform: {platform}\n"
                                          f"      model: {model}\n")
    city.write_text(text, encoding="utf-8")
    return root


def without_rule(config: str, name: str) -> str:
    """A USG configuration with the security-policy rule ``name`` removed (its
    `rule name` line and the lines indented under it)."""
    out: list[str] = []
    skipping = False
    for line in config.splitlines(keepends=True):
        if line.startswith(" rule name "):
            skipping = line.strip() == f"rule name {name}"
        elif not line.startswith("  "):
            skipping = False
        if not skipping:
            out.append(line)
    assert len(out) < len(config.splitlines()), f"no rule {name} in the configuration"
    return "".join(out)


def with_rule(config: str, lines: list[str]) -> str:
    """A USG configuration with one more permit rule (``lines`` under `rule name`)
    before the final deny."""
    anchor = " rule name pesdc-default-deny\n"
    assert anchor in config
    block = "".join(f"{ln}\n" for ln in lines)
    return config.replace(anchor, block + anchor)
