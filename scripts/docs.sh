#!/usr/bin/env bash
# Builds the documentation site into site/ (mkdocs-material + mkdocstrings), failing on any warning.
# Sets up .venv first (scripts/setup.sh), then installs docs/requirements.txt into it.
# Usage: ./scripts/docs.sh            build site/ (--strict)
#        ./scripts/docs.sh serve      live preview on http://127.0.0.1:8000
#        ./scripts/docs.sh test       also run the tutorials and examples as tests (tests/docs)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh" test
PY="$ROOT/.venv/bin/python"
"$PY" -m pip install --quiet --disable-pip-version-check -r "$ROOT/docs/requirements.txt"
cd "$ROOT"
export NO_MKDOCS_2_WARNING=1   # mkdocs-material's banner about its successor, not a docs problem
# docs/api/nn.md lists steerable.nn.__all__ (lazy exports that static analysis cannot see):
# regenerate it, so the site documents every public module (tests/docs checks it is committed fresh)
"$PY" docs/_hooks/make_nn_api.py
case "${1:-build}" in
  serve) exec "$PY" -m mkdocs serve ;;
  build|test)
    start=$(date +%s)
    "$PY" -m mkdocs build --strict -d site
    echo "docs: built site/ in $(( $(date +%s) - start )) s"
    if [ "${1:-build}" = test ]; then
      OMP_NUM_THREADS=1 "$PY" -m pytest -q -p no:cacheprovider tests/docs
    fi
    ;;
  *) echo "usage: $0 [build|serve|test]" >&2; exit 2 ;;
esac
