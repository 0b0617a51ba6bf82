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
import errno
import hashlib
import os
import re
import stat
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


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _plain(rel: str) -> bool:
    """True when ``rel`` is certainly a plain relative path (``_unsafe_reason`` finds
    nothing): a string test, no pathlib. False only means: ask ``_unsafe_reason``."""
    if not rel or rel[0] == "/" or _CONTROL.search(rel) is not None:
        return False
    return all(part not in ("", ".", "..") for part in rel.split("/"))


# What a name in a listed folder is (os.scandir, links not followed).
_DIR, _FILE, _LINK, _OTHER = "dir", "file", "link", "other"
# A folder reached through a link or a non-folder: its files take _confined's path.
_SLOW = "slow"


class _Outline:
    """What OUT holds on the way to the files of a render, each folder listed once.

    The real path of OUT/a/b is (the real path of OUT/a)/b as long as b is a real
    folder or missing, so one ``os.scandir`` per existing folder tells for every file
    in it whether it is new, a regular file, or a link; a folder that does not exist
    has nothing in it, however deep. Anything else (a link on the way, a name that is
    not plain) takes ``_confined``, the per-file resolution, unchanged: the fast path
    only answers where its answer is the same."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.root = str(out)
        self.seen: dict[str | None, Path] = {}  # _confined's, for the slow cases
        self.listings: dict[str, dict[str, str] | str | None] = {}

    def listing(self, folder: str) -> dict[str, str] | str | None:
        """The entries of OUT/folder by name; None: it does not exist; _SLOW."""
        if folder in self.listings:
            return self.listings[folder]
        got: dict[str, str] | str | None
        if not folder:
            got = self._scan(self.root) if os.path.isdir(self.root) else None
        else:
            parent, _, name = folder.rpartition("/")
            above = self.listing(parent)
            kind = above.get(name) if isinstance(above, dict) else above
            if kind is None:  # in a folder that does not exist, or not in its listing
                got = None
            elif kind == _DIR:
                got = self._scan(os.path.join(self.root, folder))
            else:  # reached through a link (or a file where a folder would be)
                got = _SLOW
        self.listings[folder] = got
        return got

    @staticmethod
    def _scan(path: str) -> dict[str, str]:
        out = {}
        with os.scandir(path) as it:
            for e in it:
                out[e.name] = (_LINK if e.is_symlink() else _DIR if e.is_dir() else
                               _FILE if e.is_file() else _OTHER)
        return out

    def kind(self, rel: str) -> str | None:
        """What OUT/rel is when it is certainly inside OUT: None (nothing there yet),
        _FILE, _DIR, _OTHER; _SLOW when only ``_confined`` can tell."""
        if not _plain(rel):
            return _SLOW
        folder, _, name = rel.rpartition("/")
        listing = self.listing(folder)
        if not isinstance(listing, dict):
            return listing  # None (a new folder) or _SLOW
        kind = listing.get(name)
        return _SLOW if kind == _LINK else kind

    def confined(self, rel: str) -> bool:
        """``_confined(out, rel) is not None``, one listing per folder."""
        if self.kind(rel) != _SLOW:
            return True
        return _confined(self.out, rel, self.seen) is not None


def _manifest_path(out: Path) -> Path:
    m = out / MANIFEST
    if m.is_symlink():
        # Reading it could disclose another file; writing it would overwrite one.
        raise OutputError(N_("{m} is a symlink; pesdc keeps its MANIFEST as a regular file "
                             "in the output folder: remove the link"), m=m)
    return m


def read_manifest(out: Path, outline: _Outline | None = None
                  ) -> list[ManifestEntry] | None:
    """The MANIFEST's entries, or None when the folder has none. Raises OutputError on a
    line that is not `<sha256>  <path>` or a path that leaves the folder (the line is
    named by number, never quoted: its text is not to be trusted). ``outline``: the
    folder as this pass has listed it (a new one by default)."""
    outline = _Outline(out) if outline is None else outline
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
        if reason is None and not outline.confined(rel):
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


def _refuse(out: Path, rel: str) -> OutputError:
    return OutputError(N_("{out}: will not write {rel!r}: it leaves the output folder "
                          "(through '..', an absolute path or a symlink): remove the "
                          "symlink from the folder"), out=out, rel=rel)


def _target(out: Path, rel: str, outline: _Outline | None = None) -> Path:
    """Where a rendered file goes; never outside OUT, also not through a symlink."""
    outline = _Outline(out) if outline is None else outline
    if rel == MANIFEST or not outline.confined(rel):
        raise _refuse(out, rel)
    return out / rel


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


# A file of the render, opened for writing: never through a link (the folder was
# checked to hold none on the way; one put there since is refused, not followed).
_WRITE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW
_READ = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW


def _open(out: Path, rel: str, flags: int) -> int:
    try:
        return os.open(os.path.join(out, rel), flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a link where the folder's listing had none
            raise _refuse(out, rel) from None
        raise


def _write(out: Path, rel: str, data: bytes) -> None:
    fd = _open(out, rel, _WRITE)
    try:
        done = os.write(fd, data)
        while done < len(data):
            done += os.write(fd, memoryview(data)[done:])
    finally:
        os.close(fd)


def _holds(out: Path, rel: str, data: bytes) -> bool:
    """OUT/rel (a regular file when its folder was listed) holds exactly ``data``."""
    fd = _open(out, rel, _READ)
    try:
        if os.fstat(fd).st_size != len(data):
            return False
        chunks = []
        while chunk := os.read(fd, len(data) + 1):
            chunks.append(chunk)
        return b"".join(chunks) == data
    finally:
        os.close(fd)


def _make_folder(out: Path, folder: str, ready: set[str]) -> None:
    """Create OUT/folder and those above it not known to exist (OUT itself does)."""
    if not folder or folder in ready:
        return
    _make_folder(out, folder.rpartition("/")[0], ready)
    path = os.path.join(out, folder)
    try:
        os.mkdir(path)
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(path).st_mode):  # a file or a link put there since
            raise _refuse(out, folder) from None
    ready.add(folder)


def write_tree(out: Path, files: dict[str, str], force: bool = False) -> WriteResult:
    """Write files into OUT; byte-identical for equal input. Raises OutputError (and
    writes or deletes nothing) for a folder pesdc may not use; see the module doc."""
    _check_folder(out, force)
    outline = _Outline(out)
    entries = read_manifest(out, outline) if out.exists() else None
    # Nothing is written while the targets are found: one refused, nothing is written.
    plan = []
    for rel in sorted(files):
        kind = outline.kind(rel)
        if rel == MANIFEST or (kind == _SLOW and _confined(out, rel, outline.seen) is None):
            raise _refuse(out, rel)
        plan.append((rel, kind))
    out.mkdir(parents=True, exist_ok=True)
    result = WriteResult()
    _remove_stale(out, entries or [], files, result)
    # The folders known to exist: those listed, unless a removal has pruned some.
    ready = set() if result.removed else {
        folder for folder, listing in outline.listings.items() if isinstance(listing, dict)}
    manifest = []
    for rel, kind in plan:
        data = files[rel].encode("utf-8")
        manifest.append(f"{_sha_bytes(data)}  {rel}\n")
        if kind is None:  # nothing there when its folder was listed: a new file
            _make_folder(out, rel.rpartition("/")[0], ready)
            _write(out, rel, data)
        elif kind == _FILE:
            if _holds(out, rel, data):
                result.unchanged += 1
                continue
            _write(out, rel, data)
        else:  # a folder in its place, or a path through a link inside OUT
            p = out / rel
            if p.is_file() and p.read_bytes() == data:
                result.unchanged += 1
                continue
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        result.written += 1
    _manifest_path(out).write_text("".join(manifest), encoding="utf-8")
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
    outline = _Outline(out)
    entries = read_manifest(out, outline) if out.is_dir() else None
    changes = []
    for entry in entries or []:
        if entry.path not in files:
            stale = _stale_status(out, entry.path, entry.sha)
            if stale is not None:
                changes.append(stale)
    for rel in sorted(files):
        p = _target(out, rel, outline)
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
