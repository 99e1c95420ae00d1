#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run every check: ruff, mypy (configured in pyproject.toml), then the whole pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/python -m mypy
.venv/bin/python -m pytest "$@"
