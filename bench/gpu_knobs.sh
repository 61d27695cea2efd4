#!/usr/bin/env bash
# A second device call after bench/gpu_run.sh: does cuDNN autotuning or a channels-last layout change
# the graphed fast/reference ratio? Move only, each variant in its own process on the same machine.
#   bash bench/gpu_knobs.sh     (carry .whl, as for gpu_run.sh)
set -uo pipefail
source "$(dirname "$0")/gpu_setup.sh"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/knobs.log"
{
  python3 bench/sdxl_gpu.py --steps 50 --cuda-graphs --edits move
  python3 bench/sdxl_gpu.py --steps 50 --cuda-graphs --edits move --cudnn-benchmark
  python3 bench/sdxl_gpu.py --steps 50 --cuda-graphs --edits move --channels-last
} 2>&1 | tee -a "$OUT/knobs.log" | grep -E '^\||^#|^SDXL|^UNet call|peak|target' > "$OUT/knobs.md"
