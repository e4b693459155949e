#!/usr/bin/env bash
# Ships the demo model v2 (geometry v2: 128x128, 17 frames, 320 DiT tokens) from a training out dir,
# as the default built-in pipeline `wan-demo` (pipelines/wan-demo.json points at samples/demo-model-v2/model):
#
#   training/ship_v2.sh [DIT_PT]        e.g. training/ship_v2.sh training/out-v2/dit_v2c.pt
#
# Reads DIT_PT (default: <out>/dit.pt, else the last DiT phase's EMA weights <out>/dit_v2?.pt) and
# <out>/vae.pt, <out>/latent_stats.json and the training logs (<out>/dit_log_*.json, vae_stats_*.json,
# vae_choice.json: the model card's training section), where <out> is $DEMO_TRAIN_OUT or training/out-v2.
# Nothing is written into <out>. Steps, each timed:
#   1. export.py           -> samples/demo-model-v2/checkpoint/ (release formats, diffsparse.json with `trained`)
#   2. reference_run.py    -> samples/demo-model-v2/reference/ (PyTorch run, fixed noise, one caption)
#   3. diffsparse convert  -> samples/demo-model-v2/model/
#   4. fit-latent-rgb.ts   -> model/vae/latent_rgb.json and checkpoint/latent_rgb.json (--preview projection)
#   5. render_frames.py    -> samples/frames/v2/ (8 held-out captions, strips of seed 0, PyTorch adherence of
#                             $FRAME_SEEDS seeds, default 3); it needs only the checkpoint, so it runs beside 3 and 4
#   6. make_model_card.py  -> samples/demo-model-v2/model_card.md
#   7. parity test         (test/pipeline/demo-parity.test.ts: TypeScript vs the PyTorch reference)
# Heavy steps run under $NICE (default `nice -n 10`). Needs `npm install` done and /usr/bin/python3 with torch.
# Afterwards: `npm run bench -- adherence --pipeline wan-demo-tiny,wan-demo` for the README's table.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
NICE=${NICE:-nice -n 10}
FRAME_SEEDS=${FRAME_SEEDS:-3}
export DEMO_GEOMETRY=v2
OUT=$(realpath -m "${DEMO_TRAIN_OUT:-$HERE/out-v2}")
export DEMO_TRAIN_OUT=$OUT
# the default paths of common.py (a DEMO_CKPT from the environment would send everything elsewhere)
unset DEMO_CKPT
MODEL_DIR=$ROOT/samples/demo-model-v2
FRAMES=$ROOT/samples/frames/v2

if [ $# -ge 1 ]; then
  DIT=$(realpath -m "$1")
elif [ -f "$OUT/dit.pt" ]; then
  DIT=$OUT/dit.pt
else
  DIT=$(ls "$OUT"/dit_v2?.pt 2>/dev/null | sort | tail -n 1 || true)
fi
for f in "$DIT" "$OUT/vae.pt" "$OUT/latent_stats.json"; do
  if [ -z "$f" ] || [ ! -f "$f" ]; then
    echo "ship_v2.sh: missing ${f:-a DiT state dict (pass DIT_PT or put dit.pt in $OUT)}" >&2
    exit 2
  fi
done
# the DiT phase tag (dit_v2c.pt -> _v2c) names the phase in the model card
TAG=$(basename "$DIT" .pt | sed -n 's/^dit\(_v2[a-z]\)$/\1/p')
echo "shipping DiT $DIT${TAG:+ (phase ${TAG#_})}, VAE $OUT/vae.pt, latent statistics $OUT/latent_stats.json"
sha256sum "$DIT" "$OUT/vae.pt" "$OUT/latent_stats.json"

TIMES=()
T_ALL=$(date +%s.%N)
step() {  # step NAME COMMAND...: runs it, prints and records its wall time
  local name=$1; shift
  echo; echo "== $name"
  local t0; t0=$(date +%s.%N)
  "$@"
  local dt; dt=$(echo "$(date +%s.%N) - $t0" | bc)
  TIMES+=("$(printf '%-28s %7.1f s' "$name" "$dt")")
  printf '== %s: %.1f s\n' "$name" "$dt"
}

export_checkpoint() {
  # a fresh folder: nothing stale from an earlier export survives (latent_rgb.json is fitted again in step 4)
  rm -rf "$MODEL_DIR/checkpoint"
  (cd "$HERE" && $NICE $PY export.py --dit "$DIT")
}
reference() {
  rm -rf "$MODEL_DIR/reference"
  (cd "$HERE" && $NICE $PY reference_run.py)
}
convert() {
  (cd "$ROOT" && $NICE npx tsc -p tsconfig.json)
  rm -rf "$MODEL_DIR/model.old"
  if [ -d "$MODEL_DIR/model" ]; then mv "$MODEL_DIR/model" "$MODEL_DIR/model.old"; fi
  (cd "$ROOT" && $NICE node bin/diffsparse.js convert samples/demo-model-v2/checkpoint samples/demo-model-v2/model)
  rm -rf "$MODEL_DIR/model.old"
}
fit_preview() {
  (cd "$ROOT" && $NICE npx tsx scripts/fit-latent-rgb.ts --pipeline samples/demo-model-v2/model \
    --checkpoint samples/demo-model-v2/checkpoint)
}
frames() {
  rm -f "$FRAMES"/*.png "$FRAMES"/adherence_pytorch.json
  (cd "$HERE" && $NICE $PY render_frames.py --seeds "$FRAME_SEEDS")
}
card() {
  (cd "$HERE" && $PY make_model_card.py ${TAG:+--dit-tag $TAG})
}
parity() {
  (cd "$ROOT" && $NICE npx vitest run test/pipeline/demo-parity.test.ts)
}

step "1 export" export_checkpoint
step "2 PyTorch reference" reference
# 5 (one torch thread) beside 3 and 4 (node); its output is printed when it is done
LOG5=$(mktemp)
( step "5 frame strips" frames; printf '%s\n' "${TIMES[-1]}" > "$LOG5.time" ) > "$LOG5" 2>&1 &
PID5=$!
# if 3 or 4 fails, the script still waits for 5, so nothing is left writing into samples/ after it exits
trap 'wait $PID5 2>/dev/null || true; rm -f "$LOG5" "$LOG5.time"' EXIT
step "3 convert" convert
step "4 preview projection fit" fit_preview
echo; echo "== waiting for 5 (frame strips, started after 2)"
if ! wait $PID5; then cat "$LOG5"; echo "ship_v2.sh: frame strips failed" >&2; exit 1; fi
cat "$LOG5"
TIMES+=("$(cat "$LOG5.time") (beside 3 and 4)")
step "6 model card" card
step "7 parity test" parity

echo
echo "== done: samples/demo-model-v2 ($(du -sh "$MODEL_DIR" | cut -f1)), samples/frames/v2 ($(du -sh "$FRAMES" | cut -f1))"
printf '%s\n' "${TIMES[@]}"
printf '%-28s %7.1f s\n' "total" "$(echo "$(date +%s.%N) - $T_ALL" | bc)"
