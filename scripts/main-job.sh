#!/usr/bin/env bash
# Sets everything up and runs the main job on the bundled example tree:
# validate, show and draw every center. (Later: lab up, provision, verify, audit.)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
./scripts/setup.sh
out="${OUT:-out/main-job}"
mkdir -p "$out"
.venv/bin/pesdc validate topologies/
.venv/bin/pesdc show topologies/
for f in topologies/*/*.yaml; do
  name="$(basename "$f" .yaml)"
  [ "$name" = "defaults" ] && continue
  .venv/bin/pesdc graph topologies/ --dc "$name" -o "$out/$name.svg"
done
echo "main-job: pictures in $out/"
