#!/usr/bin/env bash
# Fetch (here, where PyPI is reachable) the wheels the GPU machine lacks for
# bench/sdxl_gpu.py: it has torch, transformers, numpy, Pillow, OpenCV, lxml,
# accelerate, safetensors and huggingface_hub, but not diffusers or pydantic (typing-extensions travels too: pydantic needs a recent one).
# They land in .whl/ (ignored by git), which the device call carries.
set -euo pipefail
cd "$(dirname "$0")/.."
exclude=$(git rev-parse --git-path info/exclude)  # a worktree's .git is a file, not a folder
mkdir -p "$(dirname "$exclude")"
grep -qxF '/.whl/' "$exclude" 2>/dev/null || echo '/.whl/' >> "$exclude"
rm -rf .whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl \
  diffusers==0.42.1 pydantic==2.13.4 pydantic-core==2.46.4 annotated-types==0.7.0 typing-inspection==0.4.2 typing-extensions==4.16.0
ls .whl
