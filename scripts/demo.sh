#!/usr/bin/env bash
# The main job: rotated-MNIST training demo. Sets up .venv if needed, trains the default C8 model
# (and a plain CNN as the baseline) on rotated MNIST, prints the test accuracy and the invariance
# error of the logits (90° rotations: exact; other angles: bicubic resampling), exports and int8-quantises
# the C8 model, and draws OUT/accuracy.png and OUT/invariance.png (runs and figures go under OUT only).
#
#   ./scripts/demo.sh                 # the demo (a few minutes on 2 CPU cores)
#   ./scripts/demo.sh --docs          # the demo, then the README's figures: docs/accuracy.png, docs/invariance.png
#   ./scripts/demo.sh --compare       # c8 and cnn, 3 seeds each: mean ± std test accuracy (README table)
#
# Environment: EPOCHS (demo: 6, compare: 15), OUT (default out/demo, out/compare-EPOCHSep), DEVICE (cpu|cuda|auto,
# default cpu), SEEDS (compare: "0 1 2"), MODELS (compare: "c8 cnn"). Runs go to out/ (git-ignored).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MODE="demo"
DOCS=""
case "${1:-}" in
  "") ;;
  --compare) MODE="compare" ;;
  --docs) DOCS="docs" ;;
  -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "demo.sh: unknown option '$1' (expected --docs, --compare or nothing)" >&2; exit 2 ;;
esac
if [ "$#" -gt 1 ]; then
  echo "demo.sh: one option at most, got: $*" >&2; exit 2
fi

bash "$ROOT/scripts/setup.sh" examples
PY="$ROOT/.venv/bin/python"
S() { "$PY" -m steerable "$@"; }
DEVICE="${DEVICE:-cpu}"
EPOCHS="${EPOCHS:-}"
start=$(date +%s)

if [ "$MODE" = "compare" ]; then
  EPOCHS="${EPOCHS:-15}"
  OUT="${OUT:-out/compare-${EPOCHS}ep}"
  # shellcheck disable=SC2086
  S compare --models ${MODELS:-c8 cnn} --seeds ${SEEDS:-0 1 2} --epochs "$EPOCHS" --device "$DEVICE" \
    --out "$OUT" --invariance --quiet
  echo "compare: $(( $(date +%s) - start )) s in all"
  exit 0
fi

EPOCHS="${EPOCHS:-6}"
OUT="${OUT:-out/demo}"
echo "== training C8 (regular fields of the 8 rotations) on rotated MNIST, $EPOCHS epochs"
S train --model c8 --epochs "$EPOCHS" --device "$DEVICE" --out "$OUT/c8" --overwrite
echo "== training the plain CNN baseline, $EPOCHS epochs"
S train --model cnn --epochs "$EPOCHS" --device "$DEVICE" --out "$OUT/cnn" --overwrite
echo "== evaluating: test accuracy and invariance of the logits under rotations of the input"
S evaluate "$OUT/c8" --quiet
S evaluate "$OUT/cnn" --quiet
echo "== export to plain torch (verified) and int8 static quantisation of the C8 model"
S export "$OUT/c8"
S quantize "$OUT/c8"
echo "== figures"
S plot "$OUT/c8" "$OUT/cnn" --out "$OUT"
FIGS="$OUT/accuracy.png, $OUT/invariance.png"
if [ -n "$DOCS" ]; then
  S plot "$OUT/c8" "$OUT/cnn" --out "$DOCS"
  FIGS="$FIGS; README figures $DOCS/accuracy.png, $DOCS/invariance.png"
fi
echo "demo: $(( $(date +%s) - start )) s in all (runs in $OUT; figures $FIGS)"
