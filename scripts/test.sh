#!/usr/bin/env bash
# Sets everything up (Debian packages, .venv) and runs the whole test suite.
# Lab tests need root (network namespaces); run as root, as CI does.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
./scripts/setup.sh || exit 1
.venv/bin/ruff check cli tests benchmarks || exit 1
.venv/bin/mypy || exit 1
# The lab tests need the cached Debian base image (built once, ~4 min, then reused).
if [ "$(id -u)" -eq 0 ]; then
  .venv/bin/pesdc lab image build > /dev/null || exit 1
fi
.venv/bin/pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "test.sh: pytest collected no tests: that is a failure, not a pass" >&2
  exit 1
fi
exit "$rc"
