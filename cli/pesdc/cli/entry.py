"""The `pesdc` executable. A platform folder that cannot be read (a broken
``family.yaml`` or ``PLATFORM``, on ``PESDC_PLATFORM_PATH`` say) fails while the
commands are imported or when a command first looks its families up: either way say
what and where, exit 2, no traceback.

A command that has finished leaves without the interpreter's teardown: freeing a
national tree's model object by object took 1-1.5 s of CPU after the work was done (a
render of the tree: 16.1 -> 14.9 s). Everything a normal exit does that matters is
still done, in its order: the atexit handlers run (logging's flush, multiprocessing's
children, tempfile's folders) and the standard streams are flushed. Whenever another
thread is still running (a normal exit would wait for it), a profiler or tracer is on,
or a stream cannot be flushed, the exit is the normal one."""

from __future__ import annotations

import atexit
import os
import sys
import threading


def run() -> None:
    from pesdc.platforms.spec import PlatformError

    try:
        from pesdc.cli.main import main

        main()
    except PlatformError as exc:
        print(f"pesdc: {exc}", file=sys.stderr)
        sys.exit(2)
    except SystemExit as exc:
        leave(exc.code)
        raise
    leave(0)


def leave(code: object) -> None:
    """Exit now with ``code`` as ``sys.exit(code)`` would, skipping only the freeing of
    memory; return (to exit the normal way) when that is not safe."""
    if threading.active_count() > 1 or not (code is None or isinstance(code, int)) \
            or sys.getprofile() is not None or sys.gettrace() is not None:
        # A thread to wait for, sys.exit("message"), or a profiler or tracer that
        # writes its results once the program returns (python -m cProfile -m pesdc):
        # Python's own way.
        return
    status = (code or 0) & 0xFF
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed or broken stream: let Python report it
        return
    os._exit(status)
