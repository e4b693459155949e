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
$PY export.py
$PY reference_run.py
(cd $ROOT && npx tsc -p . && rm -rf samples/demo-model/model.old && \
  { [ ! -d samples/demo-model/model ] || mv samples/demo-model/model samples/demo-model/model.old; } && \
  node bin/diffsparse.js convert samples/demo-model/checkpoint samples/demo-model/model && \
  rm -rf samples/demo-model/model.old)
nice -n 5 $PY render_frames.py --seeds 3 &
# Learned schedules at 75/50/35% of dense FLOPs for the pipeline (token-level where learning beats the
# structured candidates on the selection captions; each file says what it is), with their held-out
# fidelity (8 held-out captions × 2 seeds) and learning cost, into schedules/<pipeline name>/; the
# markdown table goes to training/out/fidelity-<name>/. List the files in the definition's
# "schedules" (the bench prints the entries).
PIPELINE=${PIPELINE:-wan-demo-tiny}
GENERATIONS=${GENERATIONS:-24}
NAME=$(cd $ROOT && node -e "const p=process.argv[1];const f=p.endsWith('.json')?p:'pipelines/'+p+'.json';console.log(JSON.parse(require('fs').readFileSync(f,'utf8')).name)" "$PIPELINE")
(cd $ROOT && npm run bench -- sparsity-fidelity --pipeline "$PIPELINE" --generations "$GENERATIONS" \
  --save "schedules/$NAME" --out "training/out/fidelity-$NAME")
wait
$PY make_model_card.py
(cd $ROOT && npm run bench -- adherence --pipeline wan-demo-tiny)
