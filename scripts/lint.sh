#!/usr/bin/env bash
# Lint (ruff check), format check (ruff format --check) and type check (mypy) of the sources.
# Sets up .venv first (scripts/setup.sh), then installs the lint extra into it.
# Usage: ./scripts/lint.sh          check only (what CI runs)
#        ./scripts/lint.sh fix      apply ruff's safe fixes and format, then check
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh" test
PY="$ROOT/.venv/bin/python"
"$PY" -m pip install --quiet --disable-pip-version-check -e "$ROOT[test,lint]"
cd "$ROOT"
PATHS=(src tests benchmarks examples scripts docs)
if [ "${1:-check}" = fix ]; then
  "$PY" -m ruff check --fix "${PATHS[@]}" || true
  "$PY" -m ruff format "${PATHS[@]}"
fi
"$PY" -m ruff check "${PATHS[@]}"
"$PY" -m ruff format --check "${PATHS[@]}"
"$PY" -m mypy
echo "lint: ruff and mypy clean"
