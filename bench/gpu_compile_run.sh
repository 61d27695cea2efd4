#!/usr/bin/env bash
# Kernel experiment for issue 5's GPU target: the renderer's --compile (torch.compile, inductor) against
# the default, all replayed from CUDA graphs, move only, each in its own process on one machine.
# As the device tool's `command`, carrying .whl (bench/gpu_wheels.sh), with timeout_s 600:
#   bash bench/gpu_compile_run.sh
# Writes $OUT/gpu.md (tables, line by line, so a run stopped at its limit keeps what it had) and
# $OUT/gpu.log. Compiling is billed to the untimed warm-ups. --compile unet compiles the whole UNet
# once per input shape, minutes each on an H200 (session 5: two shapes, batch 1 and 2, took most of
# a 600 s call), so it goes last; its kernels stay in /tmp/inductor while the machine is warm, and
# running this script again at once finishes it from that cache.
set -uo pipefail
source "$(dirname "$0")/gpu_setup.sh"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.log"
export TORCHINDUCTOR_CACHE_DIR=/tmp/inductor
{
  python3 bench/sdxl_gpu.py --steps 50 --cuda-graphs --calls --call-batches 1,2,8 --edits move --save-latents /tmp/default.pt
  python3 bench/sdxl_gpu.py --steps 50 --cuda-graphs --calls --call-batches 1,2,8 --edits move --compile blocks --save-latents /tmp/blocks.pt
  python3 bench/compare_latents.py /tmp/default.pt /tmp/blocks.pt
  python3 bench/sdxl_gpu.py --steps 50 --cuda-graphs --edits move --compile unet --save-latents /tmp/unet.pt
  python3 bench/compare_latents.py /tmp/default.pt /tmp/unet.pt
} 2>&1 | tee -a "$OUT/gpu.log" | grep --line-buffered -E '^\||^#|^SDXL|^UNet call|^warm-up|^latent|^dedit:|peak|target|Error|Exception|Traceback' > "$OUT/gpu.md"
