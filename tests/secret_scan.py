"""Scan output folders for secret values: the check every run that writes files ends with.

A value counts as leaked in any of the forms a writer may give it: raw, HTML/XML escaped
or JSON escaped, and, for a multi-line secret (a private key), any one of its long lines.
Findings name the file and the secret's name, never the value (test logs are outputs
too).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from pesdc.redact import MIN_FRAGMENT_LENGTH, MIN_KNOWN_LENGTH, known_secrets


def forms(value: str) -> set[str]:
    """Every spelling of the value that a report, log or backup could hold."""
    pieces = {value}
    if "\n" in value:
        pieces |= {ln.strip() for ln in value.splitlines()
                   if len(ln.strip()) >= MIN_FRAGMENT_LENGTH and "-----" not in ln}
    out = set()
    for p in pieces:
        out |= {p, html.escape(p), html.escape(p, quote=False),
                json.dumps(p)[1:-1], json.dumps(p, ensure_ascii=False)[1:-1]}
    return {f for f in out if len(f) >= MIN_KNOWN_LENGTH}


def output_files(roots: Iterable[Path]) -> list[Path]:
    """Regular files under the roots (a root may be a file); links are not followed:
    what they point to is not an output of the run."""
    files: list[Path] = []
    for root in roots:
        if root.is_symlink():
            continue
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files += sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    return files


def leaks(roots: Iterable[Path], secrets: Mapping[str, str]) -> list[str]:
    """``file: secret name`` for each file that holds a secret value in any form."""
    wanted = {name: forms(value) for name, value in secrets.items() if value}
    found = []
    for f in output_files(roots):
        text = f.read_bytes().decode("utf-8", errors="replace")
        found += [f"{f}: {name}" for name, spelled in sorted(wanted.items())
                  if any(s in text for s in spelled)]
    return found


def assert_no_secrets(roots: Iterable[Path], secrets: Mapping[str, str] | None = None,
                      at_least: int = 1) -> int:
    """Fail naming every leak; the secrets default to those pesdc knows of in this process
    (``PESDC_SECRET_*``, secrets files loaded, provisioning's state directory). Returns
    the number of files scanned. A scan of nothing, or for nothing, proves nothing: it
    fails with fewer than ``at_least`` files or no secret to look for."""
    secrets = known_secrets() if secrets is None else secrets
    assert any(secrets.values()), "no secret values to scan for"
    files = output_files(list(roots))
    assert len(files) >= at_least, f"only {len(files)} output file(s) to scan"
    found = leaks(files, secrets)
    assert not found, "secret values in outputs:\n" + "\n".join(found)
    return len(files)
