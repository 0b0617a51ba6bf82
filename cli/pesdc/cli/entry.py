"""The `pesdc` executable. A platform folder that cannot be read (a broken
``family.yaml`` or ``PLATFORM``, on ``PESDC_PLATFORM_PATH`` say) fails while the
commands are imported or when a command first looks its families up: either way say
what and where, exit 2, no traceback."""

from __future__ import annotations

import sys


def run() -> None:
    from pesdc.platforms.spec import PlatformError

    try:
        from pesdc.cli.main import main

        main()
    except PlatformError as exc:
        print(f"pesdc: {exc}", file=sys.stderr)
        sys.exit(2)
