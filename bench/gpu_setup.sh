# Sourced by the device-call scripts (gpu_run.sh, gpu_knobs.sh, gpu_check_run.sh): installs the carried
# wheels (.whl, from bench/gpu_wheels.sh) into /tmp/site and sets up the environment and $OUT.
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
python3 -c "import sys, torch, transformers, diffusers; print('python', sys.version.split()[0], '| torch', torch.__version__, '| transformers', transformers.__version__, '| diffusers', diffusers.__version__)"
