#!/bin/sh
# One DiT phase on a lent GPU machine (PyTorch with CUDA, 16 cores), in one call of at most 10 minutes:
#   run (device tool): sh training/gpu_session.sh   (timeout_s 600)
# Everything it needs is committed: checkpoints-v2/ (VAE, latent statistics, DiT phases) and the
# procedural dataset. It rebuilds the latents there (not committed: 174 MB), trains, evaluates the
# held-out captions and leaves the weights, logs and frame strips in $OUT, which comes back.
# Settings by environment: INIT (the DiT to continue, default the newest committed phase named in
# LAYERS' family), LAYERS (12), MINUTES of training (5), BS (256), LR (3e-4), TAG (_v2gpu),
# CLIPS (2000), PARTS (8 encoding processes), SEEDS (3) and THREADS (8) of the evaluation, PY (python3), DEVICE (cuda).
# On this CPU the same script is a plumbing check (about 2 min, session 11):
#   DEMO_TRAIN_OUT=/tmp/gpu-check DEVICE=cpu PY=/usr/bin/python3 CLIPS=32 PARTS=2 MINUTES=0.2 BS=8 SEEDS=1 THREADS=2 sh training/gpu_session.sh
set -eu
cd "$(dirname "$0")"
export DEMO_GEOMETRY=v2
# the training folder (out-v2/ unless DEMO_TRAIN_OUT names another: the CPU check keeps the real one intact)
export DEMO_TRAIN_OUT="${DEMO_TRAIN_OUT:-$PWD/out-v2}"
W=$DEMO_TRAIN_OUT
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
LAYERS=${LAYERS:-12}
MINUTES=${MINUTES:-5}
BS=${BS:-256}
LR=${LR:-3e-4}
TAG=${TAG:-_v2gpu}
CLIPS=${CLIPS:-2000}
PARTS=${PARTS:-8}
INIT=${INIT:-$W/dit_v2l.pt}
RESULT=${OUT:-$W/gpu-session}
mkdir -p "$RESULT"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$RESULT/session.log"; }

log "device $DEVICE: $($PY -c 'import torch; print(torch.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no cuda")')"
$PY checkpoint.py restore
[ -f "$INIT" ] || INIT=$W/dit_v2g.pt
log "continuing $INIT with $LAYERS blocks"

# latents and contexts of the DiT's clips (deterministic, as run_v2.sh made them), PARTS processes at once
rm -f "$W"/latents_*.npz "$W"/objmask_*.npz
p=0
while [ $p -lt "$PARTS" ]; do
  $PY encode_latents.py --placement centred --part $p --parts "$PARTS" --clips "$CLIPS" --device "$DEVICE" > "$RESULT/encode_$p.log" 2>&1 &
  p=$((p + 1))
done
wait
$PY object_masks.py --placement centred > "$RESULT/object_masks.log" 2>&1
log "latents: $(ls "$W"/latents_*.npz | wc -l) parts"

$PY train_dit.py --device "$DEVICE" --init "$INIT" --layers "$LAYERS" --tag "$TAG" --bs "$BS" --steps 1000000 \
  --lr "$LR" --text-lr-mult 2 --warmup 50 --first-frame-weight 3 --object-weight 8 --max-minutes "$MINUTES" \
  --time-cosine --snapshot-minutes 1 > "$RESULT/train.log" 2>&1
log "trained: $(tail -1 "$RESULT/train.log")"
cp "$W/dit$TAG.pt" "$W/dit_log$TAG.json" "$RESULT/"

$PY eval_dit.py --dit "$W/dit$TAG.pt" --seeds "${SEEDS:-3}" --threads "${THREADS:-8}" --device "$DEVICE" --png "$RESULT/strips" > "$RESULT/eval.log" 2>&1
log "held-out: $(tail -1 "$RESULT/eval.log")"
