#!/usr/bin/env bash
# Device call: the --offload memory target only (move, both schedules). Carry .whl, as for gpu_run.sh.
set -uo pipefail
source "$(dirname "$0")/gpu_setup.sh"
python3 bench/sdxl_gpu.py --steps 50 --offload --edits move 2>&1 | grep -E '^\||^SDXL|peak|Error|Traceback' | tee "$OUT/offload.md"
