#!/usr/bin/env bash
# The device call for bench/batch_throughput.py --full-size (run bench/gpu_wheels.sh here first; the call
# carries .whl). As the device tool's `command` (Ray is not installed there: --no-ray):
#   bash bench/gpu_batch_run.sh --scenes 20 --steps 50
# It writes the markdown table to $OUT/batch.md and the log to $OUT/batch.log.
set -uo pipefail
source "$(dirname "$0")/gpu_setup.sh"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/batch.log"
python3 bench/batch_throughput.py --full-size --no-ray --out "$OUT/batch.md" "$@" 2>&1 | tee -a "$OUT/batch.log" \
  | grep -vE 'Writing model shards|Loading pipeline|it/s\]'
