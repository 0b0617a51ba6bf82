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
# The whole suite as CI runs it (no arguments, as root): two phases. The tests not marked
# `lab` run in pytest-xdist workers (PESDC_OFFLINE_WORKERS, default 2: they share nothing
# but the CPU); the lab tests then run in one process, as they always have: in the one
# full run tried with two workers for them (next to other load), two labs were torn down
# in the middle of their tests, not yet explained. PESDC_TEST_WORKERS=N opts the lab
# tests into N workers too (tests of one lab stay in one worker, in file order:
# tests/conftest.py, xdist_group). Any other arguments: one pytest run, as given.
workers="${PESDC_TEST_WORKERS:-0}"
offline_workers="${PESDC_OFFLINE_WORKERS:-2}"
if [ "$#" -eq 0 ] && [ "$(id -u)" -eq 0 ] && [ "$offline" -eq 0 ] \
    && [ "$workers" = "0" ] && [ "$offline_workers" != "0" ]; then
  started=$SECONDS
  PESDC_RUN_PHASE="1 of 2: the tests not marked lab, $offline_workers workers" \
    ./scripts/run-tests.sh -m "not lab" -n "$offline_workers" --durations=15
  rc1=$?
  PESDC_RUN_PHASE="2 of 2: the lab tests, one process" \
    ./scripts/run-tests.sh -m lab --durations=40
  rc2=$?
  if [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ]; then
    echo "test.sh: passed, as root, in $((SECONDS - started)) s: every test ran" \
         "(phase 1 without the lab tests, phase 2 the lab tests)"
    exit 0
  fi
  echo "test.sh: FAIL: phase 1 (not lab) exit $rc1, phase 2 (lab) exit $rc2"
  exit 1
fi
if [ "$workers" != "0" ]; then
  set -- -n "$workers" --dist loadgroup "$@"
fi
exec ./scripts/run-tests.sh "$@"
