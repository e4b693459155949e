#!/bin/sh
# Rebuilds the demo model from scratch (maintainer tool; needs Debian's python3-torch).
# The recipe and step counts are the ones the shipped model was trained with; README.md
# lists the wall times. Each process uses one torch thread; at most two run at once.
set -eu
cd "$(dirname "$0")"
PY=/usr/bin/python3
$PY check_against_fixtures.py
# VAE: joint training (the shipped run stopped by time after 621 of 700 planned steps),
# then a decoder-only fine-tune with the encoder (and so the latent space) frozen
nice -n 5 $PY train_vae.py --steps 700 --max-minutes 23 --lr 1e-3 --kl 0 --deterministic --tag _b
nice -n 5 $PY train_vae.py --init out/vae_b.pt --freeze-encoder --steps 900 --lr 1e-3 --kl 0 \
  --deterministic --bs 4 --crop 32 --full-every 4 --full-bs 2 --tag _g
$PY pick_vae.py
# DiT data: VAE mu + T5 contexts, two parts in parallel; 448 clips, then 448 more
for first in 0 448; do
  nice -n 5 $PY encode_latents.py --first $first --part 0 --parts 2 --clips 448 &
  nice -n 5 $PY encode_latents.py --first $first --part 1 --parts 2 --clips 448 &
  wait
  if [ $first = 0 ]; then nice -n 5 $PY train_dit.py --steps 1000 --bs 32; fi
done
rm -f out/ddp_rendezvous
nice -n 5 $PY train_dit.py --init out/dit_raw.pt --tag _cont --world 2 --rank 1 --bs 64 --lr 1e-3 --warmup 30 --steps 1300 &
nice -n 5 $PY train_dit.py --init out/dit_raw.pt --tag _cont --world 2 --rank 0 --bs 64 --lr 1e-3 --warmup 30 --steps 1300
wait
# third phase: larger lr on the text pathway (conditioning lagged behind)
rm -f out/ddp_rendezvous
nice -n 5 $PY train_dit.py --init out/dit_raw_cont.pt --tag _cont2 --world 2 --rank 1 --bs 64 --lr 6e-4 --text-lr-mult 4 --warmup 20 --steps 1000 &
nice -n 5 $PY train_dit.py --init out/dit_raw_cont.pt --tag _cont2 --world 2 --rank 0 --bs 64 --lr 6e-4 --text-lr-mult 4 --warmup 20 --steps 1000
wait
# fourth phase (issue 7: the model did not follow captions): two more decoder-only VAE
# fine-tunes with object pixels weighted 24x (the decoder washed colours out to grey; the
# encoder stays frozen, so the DiT latents are unchanged), then 30 more DiT minutes with a
# 5x lr on the text pathway, cosine over wall time; eval_dit.py compares checkpoints
nice -n 5 $PY train_vae.py --init out/vae.pt --freeze-encoder --steps 800 --max-minutes 16 --lr 5e-4 --kl 0 \
  --deterministic --bs 4 --crop 32 --full-every 4 --full-bs 2 --obj-weight 24 --tag _h
nice -n 5 $PY train_vae.py --init out/vae_h.pt --freeze-encoder --steps 650 --max-minutes 10 --lr 3e-4 --kl 0 \
  --deterministic --bs 4 --crop 32 --full-every 4 --full-bs 2 --obj-weight 24 --tag _i
rm -f out/ddp_rendezvous
A="--init out/dit_raw_cont2.pt --tag _cont3 --world 2 --bs 64 --lr 6e-4 --text-lr-mult 5 --warmup 50 --steps 100000 --max-minutes 30 --time-cosine --snapshot-minutes 6"
nice -n 5 $PY train_dit.py $A --rank 1 &
nice -n 5 $PY train_dit.py $A --rank 0
wait
cp out/dit_cont3.pt out/dit.pt
$PY pick_vae.py --tag _i --why 'better object colours than g (4/16 vs 2/16 reconstructions measured correct), at a higher overall MAE'
$PY export.py
$PY reference_run.py
$PY render_frames.py
$PY make_model_card.py
