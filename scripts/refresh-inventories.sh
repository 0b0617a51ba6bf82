#!/usr/bin/env bash
# Regenerates inventories/ from the example topologies (tests fail when it is stale).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
.venv/bin/pesdc render topologies/ --only inventory -o inventories/example
