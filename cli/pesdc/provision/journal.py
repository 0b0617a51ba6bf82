"""The change journal moved to :mod:`pesdc.journal` (one journal for every change); this
module re-exports it for the importers that still use the old name."""

from __future__ import annotations

from pesdc.journal import (
    ZERO,
    Appended,
    Problem,
    Verification,
    append,
    digest,
    entries,
    head_path,
    journal_path,
    lock_break_entry,
    read,
    record,
    record_step,
    step_entry,
    target_label,
    verify,
    who,
)

__all__ = ["ZERO", "Appended", "Problem", "Verification", "append", "digest", "entries",
           "head_path", "journal_path", "lock_break_entry", "read", "record", "record_step",
           "step_entry", "target_label", "verify", "who"]
