#!/usr/bin/env bash
# Creates .venv (once) with the CPU build of torch and steerable installed in editable mode.
# Usage: source scripts/setup.sh [extras]   (extras default: test)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EXTRAS="${1:-test}"
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  python3 -m venv "$ROOT/.venv"
fi
PY="$ROOT/.venv/bin/python"
# torch first and pinned, so no requirement can pull a multi-GB CUDA build
"$PY" -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
"$PY" -m pip install --quiet --disable-pip-version-check -e "$ROOT[$EXTRAS]"
