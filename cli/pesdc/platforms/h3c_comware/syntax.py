"""How Comware displays its configuration, and the diff of it."""

from __future__ import annotations

from hier_config import Platform as HierPlatform

from pesdc.platforms.remediation import CliSyntax, strip_comments


def comware_normalise(text: str) -> str:
    """A Comware `display current-configuration` as hier_config can read it.

    Comware prints global commands with one leading space after a `#` line and
    sections (vlan, interface, ospf, ...) at column 0; hier_config's HP_COMWARE5
    driver has no rule for that and rejects the repeated `#`. Drop the `#` lines and
    dedent the global blocks; rendered configurations are already in this form.
    """
    out: list[str] = []
    global_block = False
    after_hash = True
    for line in text.splitlines():
        if line.strip() == "#":
            after_hash = True
            global_block = False
            continue
        if after_hash:
            global_block = line.startswith(" ") and not line.startswith("  ")
            after_hash = False
        out.append(line[1:] if global_block and line.startswith(" ") else line)
    return "\n".join(out) + "\n"


def _normalise(text: str) -> str:
    lines = [ln for ln in comware_normalise(text).splitlines()
             if not ln.startswith("version ")]  # the software release, not config
    return "\n".join(strip_comments(lines)) + "\n"


COMWARE = CliSyntax(HierPlatform.HP_COMWARE5, "quit", "undo", _normalise)
