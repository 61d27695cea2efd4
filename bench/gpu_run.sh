#!/usr/bin/env bash
# The one device call for bench/sdxl_gpu.py (run bench/gpu_wheels.sh here first;
# the call carries .whl). As the device tool's `command`:
#   bash bench/gpu_run.sh
# It writes the markdown tables to $OUT/gpu.md (and the log to $OUT/gpu.log).
set -uo pipefail
source "$(dirname "$0")/gpu_setup.sh"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.log"
# eager (with single-call times by batch size), then CUDA graphs, then model CPU offload
{
  python3 bench/sdxl_gpu.py --steps 50 --calls
  python3 bench/sdxl_gpu.py --steps 50 --cuda-graphs
  python3 bench/sdxl_gpu.py --steps 50 --offload --edits move
} 2>&1 | tee -a "$OUT/gpu.log" | grep -E '^\||^#|^SDXL|^UNet call|peak|target' > "$OUT/gpu.md"
