"""Writing a render to disk, diffing it against an earlier one, and the text of a remediation
(each kind computes its own: pesdc.platforms).

An output folder is pesdc's alone. Its MANIFEST lists every file pesdc wrote with the
file's SHA-256, so a re-render removes files that are no longer produced (a deleted
device) and nothing else: a MANIFEST is read strictly, every path in it must stay
inside the folder (no absolute path, no `..`, no symlink out), a listed file is deleted
only while it still holds what pesdc wrote (an edited file is kept and reported), and
a non-empty folder without a MANIFEST is refused unless the caller forces it.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pesdc.kinds import KINDS
from pesdc.model.diagnostics import N_, Phrase, localized

MANIFEST = "MANIFEST"
# One line per file: 64 hex digits, two spaces, a relative POSIX path (sha256sum's form).
_MANIFEST_LINE = re.compile(r"([0-9a-f]{64})  (\S(?:.*\S)?)")


class OutputError(Exception):
    """The output folder cannot be used safely; the message says why and what to do.
    Its text is a catalog template and its values: English as ``str``, another language
    through ``text(lang)``."""

    def __init__(self, template: str, **args: object) -> None:
        super().__init__(template.format(**args))
        self.template = template
        self.args_ = args

    def text(self, lang: str = "en") -> str:
        return localized(lang, self.template, self.args_)


@dataclass(frozen=True)
class ManifestEntry:
    sha: str
    path: str


def _sha_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha(text: str) -> str:
    return _sha_bytes(text.encode("utf-8"))


def manifest_text(files: dict[str, str]) -> str:
    return "".join(f"{_sha(files[p])}  {p}\n" for p in sorted(files))


def _unsafe_reason(rel: str) -> str | None:
    """Why a relative path may not name a file of an output folder, or None."""
    pure = PurePosixPath(rel)
    if pure.is_absolute():
        return N_("is absolute")
    if ".." in pure.parts:
        return N_("contains '..'")
    if pure.as_posix() != rel:  # "./x", "a//b", "a/": pesdc never writes these
        return N_("is not a plain relative path")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in rel):
        return N_("holds a control character")
    return None


def _confined(out: Path, rel: str, seen: dict[str | None, Path] | None = None
              ) -> Path | None:
    """OUT/rel when it stays inside OUT, symlinks resolved; None when it escapes.

    ``seen``: OUT and its folders already resolved in this pass (``None``: OUT). A
    write of 100,000 files into a few thousand folders then resolves each folder once,
    not once per file: the real path of OUT/a/b is that of (the real path of OUT/a)/b,
    following b only when it is a link."""
    if _unsafe_reason(rel) is not None:
        return None
    target = out / rel
    seen = {} if seen is None else seen
    base = seen.get(None)
    if base is None:
        base = seen[None] = out.resolve()
    folder, _, name = rel.rpartition("/")
    parent = seen.get(folder)
    if parent is None:
        parent = seen[folder] = (out / folder).resolve() if folder else base
    resolved = parent / name
    if resolved.is_symlink():
        resolved = resolved.resolve()
    if resolved == base or not resolved.is_relative_to(base):
        return None  # also a link to OUT itself: not a file in it
    return target


def _manifest_path(out: Path) -> Path:
    m = out / MANIFEST
    if m.is_symlink():
        # Reading it could disclose another file; writing it would overwrite one.
        raise OutputError(N_("{m} is a symlink; pesdc keeps its MANIFEST as a regular file "
                             "in the output folder: remove the link"), m=m)
    return m


def read_manifest(out: Path) -> list[ManifestEntry] | None:
    """The MANIFEST's entries, or None when the folder has none. Raises OutputError on a
    line that is not `<sha256>  <path>` or a path that leaves the folder (the line is
    named by number, never quoted: its text is not to be trusted)."""
    m = _manifest_path(out)
    if not m.exists():
        return None
    try:
        text = m.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OutputError(N_("{m}: cannot read the MANIFEST ({error}): remove it and "
                             "render with --force"), m=m, error=exc) from None
    entries = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        match = _MANIFEST_LINE.fullmatch(line)
        if match is None:
            raise OutputError(N_("{m}:{lineno}: not a pesdc MANIFEST line (want '<sha256>  "
                                 "<relative path>'): remove the line, or the MANIFEST and "
                                 "render with --force"), m=m, lineno=lineno)
        sha, rel = match.groups()
        reason = _unsafe_reason(rel)
        if reason is None and _confined(out, rel) is None:
            reason = N_("resolves (through a symlink) outside the output folder")
        if reason is not None:
            raise OutputError(N_("{m}:{lineno}: the path {reason}; pesdc touches only files "
                                 "inside {out}: remove the line (nothing was deleted)"),
                              m=m, lineno=lineno, reason=Phrase(reason), out=out)
        entries.append(ManifestEntry(sha, rel))
    return entries


def _is_foreign(out: Path) -> bool:
    """A non-empty folder without a MANIFEST: pesdc did not create it."""
    return out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).exists()


def _check_folder(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(N_("{out} exists and is not a folder: give a folder for the "
                             "output"), out=out)
    if _is_foreign(out) and not force:
        raise OutputError(N_("{out} is not empty and has no pesdc MANIFEST, so pesdc did "
                             "not create it: give a new or empty folder, or --force to "
                             "write into it (nothing in it is deleted)"), out=out)


def _target(out: Path, rel: str, seen: dict[str | None, Path] | None = None) -> Path:
    """Where a rendered file goes; never outside OUT, also not through a symlink."""
    target = _confined(out, rel, seen)
    if target is None or rel == MANIFEST:
        raise OutputError(N_("{out}: will not write {rel!r}: it leaves the output folder "
                             "(through '..', an absolute path or a symlink): remove the "
                             "symlink from the folder"), out=out, rel=rel)
    return target


@dataclass
class WriteResult:
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    # Files pesdc wrote once, no longer renders, and someone edited since: left alone.
    kept: list[str] = field(default_factory=list)


def _remove_stale(out: Path, entries: list[ManifestEntry], files: dict[str, str],
                  result: WriteResult) -> None:
    for entry in entries:
        if entry.path in files:
            continue
        p = out / entry.path  # confined when the MANIFEST was read
        if p.is_symlink() or not p.is_file():
            if p.is_symlink():  # pesdc never writes links: someone else put it there
                result.kept.append(entry.path)
            continue
        if _sha_bytes(p.read_bytes()) != entry.sha:
            result.kept.append(entry.path)
            continue
        p.unlink()
        result.removed += 1
        _prune_empty_parents(out, p.parent)


def _prune_empty_parents(out: Path, folder: Path) -> None:
    """Remove folders emptied by a removal (a deleted device's), up to OUT."""
    while folder != out and out in folder.parents and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def write_tree(out: Path, files: dict[str, str], force: bool = False) -> WriteResult:
    """Write files into OUT; byte-identical for equal input. Raises OutputError (and
    writes or deletes nothing) for a folder pesdc may not use; see the module doc."""
    _check_folder(out, force)
    entries = read_manifest(out) if out.exists() else None
    seen: dict[str | None, Path] = {}  # nothing is written while the targets are found
    targets = {rel: _target(out, rel, seen) for rel in sorted(files)}
    out.mkdir(parents=True, exist_ok=True)
    result = WriteResult()
    _remove_stale(out, entries or [], files, result)
    for rel, p in targets.items():
        data = files[rel].encode("utf-8")
        if p.is_file() and p.read_bytes() == data:
            result.unchanged += 1
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        result.written += 1
    _manifest_path(out).write_text(manifest_text(files), encoding="utf-8")
    return result


@dataclass
class FileChange:
    path: str
    status: str  # added, removed, changed; kept: edited by someone, would stay
    diff: str


def _stale_status(out: Path, rel: str, sha: str) -> FileChange | None:
    """A listed file no longer rendered: removed when it is still pesdc's, else kept."""
    p = out / rel  # confined when the MANIFEST was read
    if p.is_symlink():
        return FileChange(rel, "kept", "")
    if not p.is_file():
        return None
    data = p.read_bytes()
    if _sha_bytes(data) != sha:
        return FileChange(rel, "kept", "")
    old = data.decode("utf-8", errors="replace")
    return FileChange(rel, "removed", _unified(rel, old, ""))


def _unified(rel: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=f"a/{rel}", tofile=f"b/{rel}"))


def diff_tree(out: Path, files: dict[str, str]) -> list[FileChange]:
    """What writing ``files`` to ``out`` would change, file by file. Raises OutputError
    on a MANIFEST that names a path outside the folder (nothing of it is shown)."""
    entries = read_manifest(out) if out.is_dir() else None
    changes = []
    for entry in entries or []:
        if entry.path not in files:
            stale = _stale_status(out, entry.path, entry.sha)
            if stale is not None:
                changes.append(stale)
    for rel in sorted(files):
        p = _target(out, rel)
        old = p.read_bytes().decode("utf-8", errors="replace") if p.is_file() else None
        if old != files[rel]:
            status = "added" if old is None else "changed"
            changes.append(FileChange(rel, status, _unified(rel, old or "", files[rel])))
    return sorted(changes, key=lambda c: c.path)


def remediation(kind_name: str, running: str, intended: str,
                fname: str | None = None) -> str:
    """Commands that take one file of a device (default: the configuration its driver
    pushes) from its running to its intended text.

    The kind's own remediation, the one `pesdc net plan` computes: for a vendor CLI
    hier_config's diff (``undo``/``no`` negation, sections closed as the driver sends
    them, secrets the device shows hashed left alone), for an nftables ruleset the
    whole file unless it is already in place; a file that is not pushed (interfaces,
    keepalived.conf) is replaced whole.
    """
    kind = KINDS[kind_name]
    lines = kind.remediation(fname or kind.config_file or "", running, intended)
    return "\n".join(lines) + "\n" if lines else ""
