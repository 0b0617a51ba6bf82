"""Writing a render to disk, diffing it against an earlier one, and remediation.

A MANIFEST in the output folder lists every file pesdc wrote with its SHA-256, so a
re-render removes files that are no longer produced (a deleted device) and nothing
else that someone put there.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path

from hier_config import Platform as HierPlatform
from hier_config import WorkflowRemediation, get_hconfig

from pesdc.kinds import KINDS

MANIFEST = "MANIFEST"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest_text(files: dict[str, str]) -> str:
    return "".join(f"{_sha(files[p])}  {p}\n" for p in sorted(files))


def _read_manifest(out: Path) -> list[str]:
    m = out / MANIFEST
    if not m.is_file():
        return []
    return [line.split("  ", 1)[1] for line in m.read_text("utf-8").splitlines()
            if "  " in line]


def write_tree(out: Path, files: dict[str, str]) -> tuple[int, int, int]:
    """Write files; return (written, unchanged, removed). Byte-identical for equal input."""
    out.mkdir(parents=True, exist_ok=True)
    written = unchanged = removed = 0
    for rel in _read_manifest(out):
        if rel not in files:
            p = out / rel
            if p.is_file():
                p.unlink()
                removed += 1
    for rel in sorted(files):
        p = out / rel
        data = files[rel].encode("utf-8")
        if p.is_file() and p.read_bytes() == data:
            unchanged += 1
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        written += 1
    (out / MANIFEST).write_text(manifest_text(files), encoding="utf-8")
    return written, unchanged, removed


@dataclass
class FileChange:
    path: str
    status: str  # added, removed, changed
    diff: str


def diff_tree(out: Path, files: dict[str, str]) -> list[FileChange]:
    """What writing ``files`` to ``out`` would change, file by file."""
    changes = []
    old_paths = set(_read_manifest(out))
    for rel in sorted(set(files) | old_paths):
        p = out / rel
        new = files.get(rel)
        old = p.read_text("utf-8") if p.is_file() else None
        if new == old:
            continue
        status = "added" if old is None else "removed" if new is None else "changed"
        text = "".join(difflib.unified_diff(
            (old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
            fromfile=f"a/{rel}", tofile=f"b/{rel}"))
        changes.append(FileChange(rel, status, text))
    return changes


_HIER = {
    "huawei_vrp": HierPlatform.HUAWEI_VRP,
    "hp_comware5": HierPlatform.HP_COMWARE5,
    "cisco_ios": HierPlatform.CISCO_IOS,
}


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


def remediation(kind_name: str, running: str, intended: str) -> str:
    """Commands that take a device from its running to its intended configuration.

    Vendor CLIs go through hier_config (``undo``/``no`` negation). Linux gear has no
    incremental CLI: its remediation is the whole intended file, applied atomically
    (``nft -f`` of a ruleset that starts with ``flush ruleset``; ``vtysh -b``).
    """
    kind = KINDS[kind_name]
    if kind.hier_platform is None:
        return "" if running.strip() == intended.strip() else intended
    plat = _HIER[kind.hier_platform]
    if kind.hier_platform == "hp_comware5":
        running, intended = comware_normalise(running), comware_normalise(intended)
    wf = WorkflowRemediation(get_hconfig(plat, running), get_hconfig(plat, intended))
    text = str(wf.remediation_config).strip()
    return text + "\n" if text else ""
