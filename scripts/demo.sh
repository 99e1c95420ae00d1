#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the demo: synthetic street bag -> the whole stack on CPU with
# the shipped default models -> metrics, annotated MP4 and end-to-end FPS in out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/crowd-perception demo --out out/demo "$@"
