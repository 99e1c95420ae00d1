#!/usr/bin/env bash
# The one prepared GPU check (crowd_perception/pipeline/gpu_check.py) for a session lent a GPU machine:
# FP16 (and INT8) TensorRT engines of the three shipped networks checked against ONNX Runtime, then
# the models and the pipeline timed on TensorRT at 1920x1080, and `bench pipeline`'s sweep there
# (the pipeline end to end and per stage with 10 / 40 / 80 people). Results land in $OUT (RESULTS.md
# sections to carry into docs/RESULTS.md, gpu_check.json, gpu_check.log, gpu.txt).
#
#   here, with PyPI:      bash scripts/gpu_check.sh fetch   # the wheels the GPU image lacks -> .whl/
#   on the GPU machine:   bash scripts/gpu_check.sh [gpu-check options]   # with .whl carried; < 8 min
#
# The GPU image has Python 3.12 with numpy, scipy, onnx, onnxruntime, opencv-python-headless, PyYAML,
# safetensors, tqdm and cuda-python's cuda.bindings (the 'tensorrt' extra's cuda-python); it lacks
# lap (the tracker) and TensorRT itself, which travel as cp312 wheels in .whl/.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS="${GPU_CHECK_WHEELS:-.whl}"  # the wheels folder (carried to the GPU machine)
TRT_VERSION=11.4.0.106  # tensorrt-cu13: the image's driver and libraries are CUDA 13
PYTHON="${PYTHON:-python3}"

if [[ "${1:-}" == fetch ]]; then
    [[ -x .venv/bin/python ]] && PYTHON=.venv/bin/python
    grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
    download() {
        "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
            --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
            -d "$WHEELS" "$@"
    }
    download lap==0.5.13 "tensorrt-cu13-bindings==$TRT_VERSION"
    if ! download "tensorrt-cu13-libs==$TRT_VERSION" 2> /dev/null; then
        echo "gpu_check.sh: PyPI has no wheel of tensorrt-cu13-libs==$TRT_VERSION (its sdist fetches the" \
            "libraries from NVIDIA's own index at install time); put that cp312 manylinux wheel into $WHEELS/" >&2
        exit 1
    fi
    exit 0
fi

OUT="${OUT:?set OUT to the folder for the results (the device tool sets it)}"
mkdir -p "$OUT"
if compgen -G "$WHEELS/*.whl" > /dev/null; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/gpu_check_site "$WHEELS"/*.whl
    export PYTHONPATH=/tmp/gpu_check_site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$OUT/gpu.txt" 2>&1 || true
# 450 s for the check itself keeps the whole script under 8 minutes; what it measured by then is in $OUT.
timeout 450 "$PYTHON" -m crowd_perception.pipeline.gpu_check --out "$OUT" "$@" 2>&1 | tee "$OUT/gpu_check.log"
