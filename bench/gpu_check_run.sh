#!/usr/bin/env bash
# Device call: graphed vs eager latents and a cold graphed render (bench/gpu_graph_check.py). Carry .whl.
set -uo pipefail
source "$(dirname "$0")/gpu_setup.sh"
python3 bench/gpu_graph_check.py --steps 50 2>&1 | grep -v "kept in float32\|ImageProcessor" | tee "$OUT/check.md"
