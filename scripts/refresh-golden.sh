#!/usr/bin/env bash
# Regenerate the vendor golden files (tests/render/golden/<case>/<device>.cfg) from the
# fixture trees in tests/render/fixtures/vendor/, then run the golden tests once more
# against what was written. Review `git diff tests/render/golden` before committing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
PESDC_REFRESH_GOLDEN=1 .venv/bin/pytest -q tests/render -k golden "$@"
.venv/bin/pytest -q tests/render -k golden "$@"
