#!/usr/bin/env python3
"""Write the README's table of figures from benchmarks/results/*.json.

    .venv/bin/python scripts/readme_figures.py            # rewrite the block in README.md
    .venv/bin/python scripts/readme_figures.py --check    # exit 1 when README differs

The README holds the table between two marker lines, ``<!-- figures:begin -->`` and
``<!-- figures:end -->``; only that block is rewritten. Each row is one figure of a
results file (the benchmarks write them under ``figures``, see benchmarks/benchlib.py;
files other tools write, such as lynis.json, are read by an adapter below), with the
file, its date and the load average it was measured at. A results file that says
``"passed": false`` is shown as failed with its first reason, never as a figure; a
figure that missed its target says so.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "benchmarks" / "results"
BEGIN = "<!-- figures:begin -->"
END = "<!-- figures:end -->"
# The order of the table (files not named here follow, by name).
ORDER = ("validate", "render", "lab", "multicenter", "push", "provision", "verify", "audit",
         "lynis", "verify_kill_rate")
HEADER = ["| what | target | measured | results | date | load avg |",
          "|---|---|---|---|---|---|"]

Row = dict[str, Any]


class FiguresError(Exception):
    """The README has no (or a broken) figures block."""


def _lynis(data: dict[str, Any]) -> list[Row]:
    if "hardening_index_before" not in data:
        return []
    version = data.get("lynis_version")
    lynis = f"Lynis {version}" if version else "Lynis"
    host = str(data.get("host", "?")).split(".")[0]
    return [{"what": f"{lynis} hardening index of lab host {host}, before / after "
                     "`baseline`",
             "target": "", "measured": f"{data['hardening_index_before']} / "
                                       f"{data['hardening_index_after']}"}]


def _kill_rate(data: dict[str, Any]) -> list[Row]:
    caught, injected = data.get("caught"), data.get("injected")
    if not isinstance(caught, int) or not isinstance(injected, int) or not injected:
        return []
    cats = data.get("categories")
    where = f", {len(cats)} categories" if isinstance(cats, list) else ""
    return [{"what": f"verify's kill rate: drifts injected into a converged lab, one at a "
                     f"time{where}", "target": "",
             "measured": f"{caught} / {injected} caught by name ({caught / injected:.0%})"}]


# Results files that other tools write, without a "figures" list.
ADAPTERS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "lynis": _lynis, "verify_kill_rate": _kill_rate}


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _date(data: dict[str, Any]) -> str:
    date = data.get("date")
    return str(date)[:10] if date else "not recorded"


def _load(data: dict[str, Any]) -> str:
    for key in ("load_avg", "load_average"):
        value = data.get(key)
        if isinstance(value, int | float):
            return f"{value:.1f}"
    return "not recorded"


def figures_of(name: str, data: dict[str, Any]) -> list[Row]:
    """The rows one results file gives: its figures, or one row saying it failed."""
    if isinstance(data.get("figures"), list):
        rows: list[Row] = [dict(f) for f in data["figures"] if isinstance(f, dict)]
    elif name in ADAPTERS:
        rows = ADAPTERS[name](data)
    else:
        rows = []
    if data.get("passed") is False:
        reasons = data.get("failures") or ["no reason recorded"]
        what = "; ".join(str(r.get("what", "")) for r in rows) or f"benchmark {name}"
        reason = str(reasons[0])
        if len(reason) > 160:
            reason = reason[:157] + "..."
        more = f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else ""
        return [{"what": what, "target": "", "measured": f"**FAILED**: {reason}{more}"}]
    if not rows:  # a results file is never dropped silently
        return [{"what": f"benchmark {name}", "target": "",
                 "measured": "no figures in its results file (rerun the benchmark)"}]
    for r in rows:
        if r.get("target_met") is False:
            r["measured"] = f"{r['measured']} (**target missed**)"
    return rows


def load_results(results: Path) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(results.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise FiguresError(f"{path}: not a JSON results file: {exc}") from None
        if isinstance(data, dict):
            found.append((path.stem, data))
    rank = {n: i for i, n in enumerate(ORDER)}
    return sorted(found, key=lambda nd: (rank.get(nd[0], len(ORDER)), nd[0]))


def render_block(results: Path, base: Path = ROOT) -> str:
    """The figures block (markers included) that the results say."""
    lines = [BEGIN,
             "<!-- generated by scripts/readme_figures.py from benchmarks/results/*.json: "
             "edit the results, not this table -->",
             *HEADER]
    for name, data in load_results(results):
        try:
            src = (results / f"{name}.json").resolve().relative_to(base.resolve())
        except ValueError:
            src = Path(results.name) / f"{name}.json"
        for row in figures_of(name, data):
            lines.append("| " + " | ".join(_cell(c) for c in (
                row.get("what", ""), row.get("target", ""), row.get("measured", ""),
                f"`{src}`", _date(data), _load(data))) + " |")
    lines.append(END)
    return "\n".join(lines)


def replace_block(text: str, block: str) -> str:
    """``text`` with the block between the markers replaced by ``block``."""
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise FiguresError(f"the README needs exactly one {BEGIN} and one {END} line")
    start = text.index(BEGIN)
    end = text.index(END) + len(END)
    if end < start:
        raise FiguresError(f"{END} comes before {BEGIN}")
    return text[:start] + block + text[end:]


def check(readme: Path = README, results: Path = RESULTS) -> list[str]:
    """The differences between the README's block and the results (a unified diff; empty
    when they agree)."""
    text = readme.read_text(encoding="utf-8")
    want = replace_block(text, render_block(results, readme.parent))
    if want == text:
        return []
    return list(difflib.unified_diff(text.splitlines(), want.splitlines(),
                                     f"{readme.name} (now)", f"{readme.name} (from results)",
                                     lineterm=""))


def write(readme: Path = README, results: Path = RESULTS) -> bool:
    """Rewrite the block; True when the README changed."""
    text = readme.read_text(encoding="utf-8")
    new = replace_block(text, render_block(results, readme.parent))
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="change nothing; exit 1 when the README's block differs")
    ap.add_argument("--readme", type=Path, default=README)
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    try:
        if args.check:
            diff = check(args.readme, args.results)
            if diff:
                print("\n".join(diff))
                print(f"{args.readme}: the figures block differs from {args.results}; run "
                      "scripts/readme_figures.py", file=sys.stderr)
                return 1
            print(f"{args.readme}: figures agree with {args.results}")
            return 0
        changed = write(args.readme, args.results)
    except FiguresError as exc:
        print(f"readme_figures: {exc}", file=sys.stderr)
        return 2
    print(f"{args.readme}: figures block {'rewritten' if changed else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
