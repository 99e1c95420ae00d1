#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run every check: ruff, then the whole pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
