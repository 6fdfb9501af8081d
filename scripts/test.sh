#!/usr/bin/env bash
# Sets up .venv if needed, then runs the test suite (doctests included; slow tests excluded).
# Extra arguments go to pytest, e.g. ./scripts/test.sh tests/group -x
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh" test
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest -m "not slow" "$@"
