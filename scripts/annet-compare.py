#!/usr/bin/env python3
"""Compare pesdc's remediation with annet's patch on every example vendor device.

  scripts/annet-compare.py            per family: devices, cases, differences by verdict
  scripts/annet-compare.py --regen    also rewrite tests/platforms/annet_expected.yaml
  scripts/annet-compare.py --show zibo/core-1 [--case drifted]
                                      both patches and their differences for one device

Run it with the project's venv (.venv/bin/python scripts/annet-compare.py). After the
templates or annet change, `--regen` and review the diff of annet_expected.yaml: a new
difference no rule of annet_explanations.yaml explains is listed as UNEXPLAINED, and
the test fails until it is fixed in pesdc or explained by a rule there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.platforms import annet_compare as ac


def _show(name: str, case: str) -> int:
    device = ac.devices().get(name)
    if device is None:
        print(f"no example device {name}; known: {', '.join(ac.devices())}", file=sys.stderr)
        return 2
    res = ac.compare(device, case)
    if res is None:
        print(f"{name}: no {case} running configuration", file=sys.stderr)
        return 2
    print(f"# {name} ({device.family}, annet hw {device.hw_model}), {case}: {res.running}")
    for who, lines in res.patches.items():
        print(f"# ---- {who}" + (f" ({res.annet})" if who == "annet" else ""))
        print("\n".join(lines))
    print("# ---- differences")
    for rule, diffs in res.differences.items():
        for d in diffs:
            print(f"{rule}: {d}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regen", action="store_true", help="rewrite the expected file")
    parser.add_argument("--show", metavar="CENTER/DEVICE", help="print one device's patches")
    parser.add_argument("--case", choices=ac.CASES, default="factory")
    args = parser.parse_args(argv)
    if args.show:
        return _show(args.show, args.case)
    data = ac.generate()
    for family, fam in sorted(ac.summary(data).items()):
        verdicts = ", ".join(f"{v} {n}" for v, n in sorted(fam["verdicts"].items()))
        print(f"{family}: {fam['devices']} devices, {fam['cases']} cases, "
              f"{fam['differences']} differences ({verdicts})")
    unexplained = [(name, case, d) for name, dev in data["devices"].items()
                   for case in ac.CASES if dev[case]
                   for d in dev[case]["differences"].get(ac.UNEXPLAINED, [])]
    for name, case, d in unexplained:
        print(f"UNEXPLAINED {name} {case}: {d}")
    if args.regen:
        ac.write_expected(data)
        print(f"wrote {ac.EXPECTED.relative_to(ac.ROOT)}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
