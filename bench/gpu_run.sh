#!/usr/bin/env bash
# The one device call for bench/sdxl_gpu.py (run bench/gpu_wheels.sh here first;
# the call carries .whl). As the device tool's `command`:
#   bash bench/gpu_run.sh
# It writes the markdown tables to $OUT/gpu.md (and the log to $OUT/gpu.log).
# Each configuration runs in its own process on the same machine; every fast/reference
# ratio is measured inside one process.
set -uo pipefail
source "$(dirname "$0")/gpu_setup.sh"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.log"
# the default (CUDA graphs, fused q/k/v) with single-call times by batch size; the same with separate
# q/k/v (the previous default); cuDNN's attention kernel; model CPU offload (which keeps q/k/v separate)
{
  python3 bench/sdxl_gpu.py --steps 50 --cuda-graphs --calls
  python3 bench/sdxl_gpu.py --steps 50 --cuda-graphs --separate-projections --edits move
  python3 bench/sdxl_gpu.py --steps 50 --cuda-graphs --sdpa cudnn --edits move
  python3 bench/sdxl_gpu.py --steps 50 --offload --edits move
} 2>&1 | tee -a "$OUT/gpu.log" | grep -E '^\||^#|^SDXL|^UNet call|peak|target|Error' > "$OUT/gpu.md"
