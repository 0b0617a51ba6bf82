#!/usr/bin/env bash
# Sets everything up and runs the main job on the bundled example city (Jinan, stage 3):
# validate, draw, render, lab up, provision, push gear, verify (isolation with real
# packets), audit, report.
# Needs root (the lab). KEEP_LAB=1 leaves the lab up afterwards for exploring.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
./scripts/setup.sh
export PATH="$here/.venv/bin:$PATH"
TOPO=topologies/
DC="${DC:-jinan}"
out="${OUT:-out/main-job}"
mkdir -p "$out"

pesdc validate "$TOPO"
pesdc show "$TOPO" --dc "$DC" > "$out/$DC-show.txt"
pesdc show "$TOPO" --dc "$DC" --lang zh > "$out/$DC-show.zh.txt"
pesdc graph "$TOPO" --dc "$DC" -o "$out/$DC.svg"
pesdc render "$TOPO" --dc "$DC" -o "$out/render"
pesdc lab image build > /dev/null
cleanup() { [ "${KEEP_LAB:-0}" = 1 ] || pesdc lab down --name "$DC" || true; }
trap cleanup EXIT
pesdc lab up "$TOPO" --dc "$DC"
pesdc apply "$TOPO" --dc "$DC" --lab "$DC"
pesdc apply "$TOPO" --dc "$DC" --lab "$DC"          # converged: nothing left to change
pesdc lab probe "$TOPO" --dc "$DC" | tee "$out/$DC-probe.txt"
pesdc net apply "$TOPO" --dc "$DC" --lab "$DC"       # the lab's gear equals its rendered config
pesdc verify "$TOPO" --dc "$DC" --lab "$DC" --junit "$out/verify.xml" --html "$out/verify.html"
# graded protection (GB/T 22239-2019 level 3), with the lab's hosts and gear as evidence:
# reports for the auditors in Chinese and in English
pesdc audit "$TOPO" --dc "$DC" --lab "$DC" --format html --lang zh -o "$out/audit.zh.html"
pesdc audit "$TOPO" --dc "$DC" --lab "$DC" --format html --lang en -o "$out/audit.en.html"
echo "main-job: reports in $out/ (show, graph $DC.svg, rendered configs, probe matrix,"
echo "          verify.html / verify.xml, MLPS level-3 audit: audit.zh.html, audit.en.html)"
