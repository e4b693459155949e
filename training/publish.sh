#!/bin/sh
# Publishes out/dit.pt + out/vae.pt as the tiny demo model (pipeline wan-demo-tiny; the default demo
# model v2 is shipped by ship_v2.sh): release-format export, the
# PyTorch reference run for the parity test, the project's own conversion, frame strips, the
# model card, the demo schedules relearned for the new weights (they are bound to the DiT's
# fingerprint) and the TypeScript adherence bench. Run from a checkout with `npm install` done.
set -eu
cd "$(dirname "$0")"
PY=/usr/bin/python3
ROOT=..
REF=samples/demo-model/reference/red_circle_right  # relative to the checkout root
$PY export.py
$PY reference_run.py
(cd $ROOT && npx tsc -p . && rm -rf samples/demo-model/model.old && \
  { [ ! -d samples/demo-model/model ] || mv samples/demo-model/model samples/demo-model/model.old; } && \
  node bin/diffsparse.js convert samples/demo-model/checkpoint samples/demo-model/model && \
  rm -rf samples/demo-model/model.old)
nice -n 5 $PY render_frames.py --seeds 3 &
(cd $ROOT && npx tsx bench/sparsity-fidelity.ts samples/demo-model/model/dit --vae samples/demo-model/model/vae \
  --latent 16x3x8x8 --steps 20 --cond $REF/context.npy --uncond $REF/neg_context.npy --budgets 0.75,0.5,0.35 \
  --grouping 2x1 --iterations 1 --variants reuse --calib-seeds 101,102,103 --select-seeds 111,112,113 --eval-seeds 202,303,404,505 \
  --model-id wan-demo-tiny --save schedules/wan-demo-tiny)
wait
$PY make_model_card.py
(cd $ROOT && npm run bench -- adherence --pipeline wan-demo-tiny)
