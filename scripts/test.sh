#!/usr/bin/env bash
# Sets everything up (Debian packages, .venv) and runs the whole test suite.
# Lab tests (marker `lab`) need root (network namespaces); run as root, as CI does.
# Not root, the run fails saying the lab tests did not run, unless the offline subset is
# asked for: scripts/test.sh --offline (or PESDC_OFFLINE=1) runs pytest -m "not lab".
# The pytest run and its verdict are scripts/run-tests.sh; other arguments go to pytest.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
offline=0
case "${PESDC_OFFLINE:-}" in "" | 0) ;; *) offline=1 ;; esac
for a in "$@"; do [ "$a" = "--offline" ] && offline=1; done
./scripts/setup.sh || exit 1
.venv/bin/ruff check cli tests benchmarks || exit 1
.venv/bin/mypy || exit 1
# The lab tests need the cached Debian base image (built once, ~4 min, then reused).
if [ "$(id -u)" -eq 0 ] && [ "$offline" -eq 0 ]; then
  .venv/bin/pesdc lab image build > /dev/null || exit 1
fi
# PESDC_TEST_WORKERS=N: N pytest-xdist workers; lab tests wait on links, daemons and
# SSH much of the time, and tests of one lab stay in one worker, in file order
# (tests/conftest.py: xdist_group). Not the default yet: in the one full run tried with
# two workers (next to other load), two labs were torn down in the middle of their
# tests, not yet explained; one process is what CI has always passed with.
workers="${PESDC_TEST_WORKERS:-0}"
if [ "$workers" != "0" ]; then
  set -- -n "$workers" --dist loadgroup "$@"
fi
exec ./scripts/run-tests.sh "$@"
