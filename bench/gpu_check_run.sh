#!/usr/bin/env bash
# Device call: graphed vs eager latents and a cold graphed render (bench/gpu_graph_check.py). Carry .whl.
set -uo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
python3 bench/gpu_graph_check.py --steps 50 2>&1 | grep -v "kept in float32\|ImageProcessor" | tee "$OUT/check.md"
