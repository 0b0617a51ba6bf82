#!/usr/bin/env bash
# Runs pytest and says plainly what ran; scripts/test.sh calls it after setup, and
# tests/test_selection.py runs it on a tiny tree as an unprivileged user.
#
# Tests marked `lab` bring up a lab or need root. As root every test runs. Not root, the
# lab tests cannot run: they are skipped, and the run fails (exit 1 at least) saying so,
# unless the offline subset is asked for: `--offline` (any position) or PESDC_OFFLINE=1
# runs pytest -m "not lab", exits as pytest does and says in its last line that the lab
# tests were not run. Every other argument goes to pytest.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
offline=0
case "${PESDC_OFFLINE:-}" in "" | 0) ;; *) offline=1 ;; esac
args=()
for a in "$@"; do
  if [ "$a" = "--offline" ]; then offline=1; else args+=("$a"); fi
done
root=0
[ "$(id -u)" -eq 0 ] && root=1

if [ "$offline" -eq 1 ]; then
  PESDC_OFFLINE=1 "$here/.venv/bin/pytest" -m "not lab" "${args[@]}"
else
  "$here/.venv/bin/pytest" "${args[@]}"
fi
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "test.sh: FAIL: pytest collected no tests: that is a failure, not a pass"
  exit 1
fi
if [ "$offline" -eq 1 ]; then
  if [ "$rc" -eq 0 ]; then
    echo "test.sh: offline subset passed (-m \"not lab\"): the lab tests were NOT run"
  else
    echo "test.sh: FAIL (pytest exit $rc) in the offline subset; the lab tests were NOT run"
  fi
  exit "$rc"
fi
if [ -n "${PESDC_RUN_PHASE:-}" ]; then  # one phase of scripts/test.sh's full run
  if [ "$rc" -eq 0 ]; then
    echo "test.sh: phase ${PESDC_RUN_PHASE}: passed"
  else
    echo "test.sh: FAIL (pytest exit $rc) in phase ${PESDC_RUN_PHASE}"
  fi
  exit "$rc"
fi
if [ "$root" -eq 0 ]; then
  echo "test.sh: FAIL: not root, so the lab tests did NOT run: this is not a pass" \
       "(run as root, or scripts/test.sh --offline for the offline subset only)"
  [ "$rc" -eq 0 ] && rc=1
  exit "$rc"
fi
if [ "$rc" -eq 0 ]; then
  echo "test.sh: passed, as root: the lab tests ran too"
else
  echo "test.sh: FAIL (pytest exit $rc)"
fi
exit "$rc"
