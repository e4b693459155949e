#!/bin/sh
# Builds the default demo model (geometry v2: 128x128, 17 frames, 5x8x8 = 320 DiT tokens) from the
# tiny demo model's shipped weights (maintainer tool; needs Debian's python3-torch). Intermediate
# files go to out-v2/. README.md lists the wall times of each step. Resumable: every DiT phase
# continues from the EMA snapshot of the one before (`--init`), and milestone snapshots are committed
# under checkpoints-v2/ so training can go on in a later session.
set -eu
cd "$(dirname "$0")"
PY=/usr/bin/python3
export DEMO_GEOMETRY=v2
OUT=out-v2
mkdir -p $OUT

# VAE: the tiny model's VAE decodes 17 frames of 128x128 with the object's colour bleeding over the
# background from the second causal chunk on. Step 1 (l, m): joint fine-tune on 17-frame clips in 64x64
# windows, with a frame-difference loss (l) and without (m): m wins (fresh-clip MAE 0.069 vs 0.105), but
# both still bleed at 128x128 (the per-frame mid attention only saw 8x8 latents). Step 2 (p, q): from m,
# cheap steps at the full 128x128 on 5-frame clips and every other step 17 frames in 64x64 windows; p
# (lr 3e-4) wins, fresh-clip MAE 0.055.
V="--init-release ../samples/demo-model/checkpoint/Wan2.1_VAE.pth --steps 1500 --max-minutes 28 --lr 5e-4 --kl 0
   --deterministic --bs 4 --crop 32 --crop-frames 5 --full-every 3 --full-bs 1 --full-crop 64 --obj-weight 16
   --colour-weight 2 --latent-noise 0.1"
nice -n 10 $PY train_vae.py $V --temporal-weight 1 --tag _l &
nice -n 10 $PY train_vae.py $V --temporal-weight 0 --tag _m
wait
V="--init $OUT/vae_m.pt --steps 600 --max-minutes 18 --kl 0 --deterministic --bs 2 --crop 128 --crop-frames 5
   --full-every 2 --full-crop 64 --full-bs 1 --obj-weight 16 --colour-weight 2 --latent-noise 0.1"
nice -n 10 $PY train_vae.py $V --lr 3e-4 --tag _p &
nice -n 10 $PY train_vae.py $V --lr 6e-4 --tag _q
wait
$PY pick_vae.py
# DiT data: VAE mu + T5 contexts of 2000 centred clips, two parts in parallel; object coverage
nice -n 5 $PY encode_latents.py --placement centred --part 0 --parts 2 --clips 2000 &
nice -n 5 $PY encode_latents.py --placement centred --part 1 --parts 2 --clips 2000
wait
$PY object_masks.py --placement centred
# DiT a: the tiny model's DiT (v7) continued at 320 tokens; latent statistics measured anew for the
# fine-tuned VAE; 2 data-parallel processes, global batch 64, lr cosine over 55 min of wall
# time, EMA snapshots every 15 min (out-v2/dit_v2a_snap.pt; milestones copied to checkpoints-v2/)
rm -f $OUT/ddp_rendezvous
A="--init-release ../samples/demo-model/checkpoint/diffusion_pytorch_model.safetensors --fresh-stats --tag _v2a
   --world 2 --bs 64 --steps 100000 --lr 5e-4 --text-lr-mult 2 --warmup 50 --first-frame-weight 3 --object-weight 8
   --max-minutes 55 --time-cosine --snapshot-minutes 15"
nice -n 5 $PY train_dit.py $A --rank 1 &
nice -n 5 $PY train_dit.py $A --rank 0
wait
# VAE r: decoder-only fine-tune of p beside the DiT (encoder frozen: the DiT's latents stay valid),
# shipped instead of p (fresh-clip MAE 0.039 against 0.055)
nice -n 5 $PY train_vae.py --init $OUT/vae_p.pt --freeze-encoder --steps 500 --max-minutes 40 --lr 3e-4 --kl 0 \
  --deterministic --bs 2 --crop 128 --crop-frames 5 --full-every 2 --full-crop 64 --full-bs 1 --obj-weight 24 \
  --colour-weight 2 --latent-noise 0.1 --tag _r
$PY pick_vae.py --tag _r --why 'decoder-only fine-tune of p'
# DiT b: continues a's EMA (latent statistics kept), lr 3e-4 cosine over 25 min
rm -f $OUT/ddp_rendezvous
B="--init $OUT/dit_v2a.pt --tag _v2b --world 2 --bs 64 --steps 100000 --lr 3e-4 --text-lr-mult 2 --warmup 20
   --first-frame-weight 3 --object-weight 8 --max-minutes 25 --time-cosine --snapshot-minutes 10"
nice -n 5 $PY train_dit.py $B --rank 1 &
nice -n 5 $PY train_dit.py $B --rank 0
wait
# DiT c: continues b's EMA, lr 3e-4 cosine over 100 min (session 5; ~950 steps at 4-9 s a step under load)
rm -f $OUT/ddp_rendezvous
C="--init $OUT/dit_v2b.pt --tag _v2c --world 2 --bs 64 --steps 100000 --lr 3e-4 --text-lr-mult 2 --warmup 20
   --first-frame-weight 3 --object-weight 8 --max-minutes 100 --time-cosine --snapshot-minutes 10"
nice -n 5 $PY train_dit.py $C --rank 1 &
nice -n 5 $PY train_dit.py $C --rank 0
wait
# ship the newest phase as the default demo model (export, reference, convert, frames, card, parity)
./ship_v2.sh $OUT/dit_v2c.pt
# DiT d: continues c's EMA, lr 2e-4 cosine over 55 min (session 5, at nice 19 beside benchmarks; not shipped yet)
rm -f $OUT/ddp_rendezvous
D="--init $OUT/dit_v2c.pt --tag _v2d --world 2 --bs 64 --steps 100000 --lr 2e-4 --text-lr-mult 2 --warmup 20
   --first-frame-weight 3 --object-weight 8 --max-minutes 55 --time-cosine --snapshot-minutes 10"
nice -n 5 $PY train_dit.py $D --rank 1 &
nice -n 5 $PY train_dit.py $D --rank 0
wait
# DiT e: continues d's EMA at lr 2e-4 (session 6); stopped by hand after 10 min (260 steps, loss flat at ~0.165:
# the 3-block DiT had stopped improving), its EMA snapshot kept as out-v2/dit_v2e.pt
rm -f $OUT/ddp_rendezvous
E="--init $OUT/dit_v2d.pt --tag _v2e --world 2 --bs 64 --steps 100000 --lr 2e-4 --text-lr-mult 2 --warmup 20
   --first-frame-weight 3 --object-weight 8 --max-minutes 120 --time-cosine --snapshot-minutes 10"
timeout 630 nice -n 5 $PY train_dit.py $E --rank 1 &
timeout 630 nice -n 5 $PY train_dit.py $E --rank 0 || true
wait || true
cp $OUT/dit_v2e_snap.pt $OUT/dit_v2e.pt
# DiT f: grown to 6 blocks (--layers 6: a zero-initialised block after each trained one), lr 3e-4 cosine over
# 115 min (session 6; ~4-6 s a step on the 2 cores)
rm -f $OUT/ddp_rendezvous
F="--init $OUT/dit_v2e.pt --layers 6 --tag _v2f --world 2 --bs 64 --steps 100000 --lr 3e-4 --text-lr-mult 2 --warmup 30
   --first-frame-weight 3 --object-weight 8 --max-minutes 115 --time-cosine --snapshot-minutes 10"
nice -n 5 $PY train_dit.py $F --rank 1 &
nice -n 5 $PY train_dit.py $F --rank 0
wait
./ship_v2.sh $OUT/dit_v2f.pt
# DiT g: continues f's EMA (6 blocks), lr 2e-4 cosine over 105 min (session 7; ~5-6 s a step beside other work)
rm -f $OUT/ddp_rendezvous
G="--init $OUT/dit_v2f.pt --layers 6 --tag _v2g --world 2 --bs 64 --steps 100000 --lr 2e-4 --text-lr-mult 2 --warmup 30
   --first-frame-weight 3 --object-weight 8 --max-minutes 105 --time-cosine --snapshot-minutes 10"
nice -n 5 $PY train_dit.py $G --rank 1 &
nice -n 5 $PY train_dit.py $G --rank 0
wait
./ship_v2.sh $OUT/dit_v2g.pt
# DiT h: continues g's EMA (6 blocks), lr 2e-4 cosine over 100 min (session 8)
rm -f $OUT/ddp_rendezvous
H="--init $OUT/dit_v2g.pt --layers 6 --tag _v2h --world 2 --bs 64 --steps 100000 --lr 2e-4 --text-lr-mult 2 --warmup 30
   --first-frame-weight 3 --object-weight 8 --max-minutes 100 --time-cosine --snapshot-minutes 10"
nice -n 5 $PY train_dit.py $H --rank 1 &
# VAE s beside it: decoder-only fine-tune of r (encoder frozen) with a per-frame object-centroid loss and
# stronger latent noise, against the within-chunk lag and catch-up that DiT latents show after decoding
# (not shipped: it did not help; see README.md)
nice -n 5 $PY train_vae.py --init $OUT/vae.pt --freeze-encoder --steps 500 --max-minutes 38 --lr 2e-4 --kl 0 \
  --deterministic --bs 2 --crop 128 --crop-frames 5 --full-every 2 --full-crop 64 --full-bs 1 --obj-weight 24 \
  --colour-weight 2 --latent-noise 0.2 --centroid-weight 0.05 --tag _s &
nice -n 5 $PY train_dit.py $H --rank 0
wait
# h was stopped by hand after 68 min and not shipped (README.md); its EMA snapshot is the next starting point
cp $OUT/dit_v2h_snap.pt $OUT/dit_v2h.pt
# milestone weights for the next session (checkpoints-v2/, float16); `checkpoint.py restore` brings them back
$PY checkpoint.py save
# DiT i: continues h's EMA (6 blocks) with an extra loss on frame-to-frame differences of the velocity error
# (--motion-weight), lr 1.5e-4 cosine over 900 steps (session 9; step-based, so pausing the ranks costs nothing);
# not shipped, no better than v2g (README.md): resume from dit_v2h.pt
rm -f $OUT/ddp_rendezvous
I="--init $OUT/dit_v2h.pt --layers 6 --tag _v2i --world 2 --bs 64 --steps 900 --lr 1.5e-4 --text-lr-mult 2 --warmup 30
   --first-frame-weight 3 --object-weight 8 --motion-weight 0.5 --max-minutes 150 --snapshot-minutes 10"
nice -n 19 $PY train_dit.py $I --rank 1 &
nice -n 19 $PY train_dit.py $I --rank 0
wait
# DiT j: continues h's EMA (6 blocks), the phase-h loss, lr 1e-4 cosine over 1,000 steps (session 10, nice 19
# beside other work, step-based); not shipped, no better than v2g (README.md): resume from dit_v2h.pt
rm -f $OUT/ddp_rendezvous
J="--init $OUT/dit_v2h.pt --layers 6 --tag _v2j --world 2 --bs 64 --steps 1000 --lr 1e-4 --text-lr-mult 2 --warmup 30
   --first-frame-weight 3 --object-weight 8 --max-minutes 165 --snapshot-minutes 10"
nice -n 19 $PY train_dit.py $J --rank 1 &
nice -n 19 $PY train_dit.py $J --rank 0
wait
# DiT l: v2g grown to 12 blocks (a zero-initialised block after each trained one), the phase-h loss, lr 3e-4
# cosine over 800 steps (session 11, nice 19 beside other work, step-based): loss 0.137 -> 0.126, held-out a clip or
# two better than v2g; not shipped (README.md), saved in checkpoints-v2/ as the next starting point
rm -f $OUT/ddp_rendezvous
L="--init $OUT/dit_v2g.pt --layers 12 --tag _v2l --world 2 --bs 64 --steps 800 --lr 3e-4 --text-lr-mult 2 --warmup 30
   --first-frame-weight 3 --object-weight 8 --max-minutes 165 --snapshot-minutes 15"
nice -n 19 $PY train_dit.py $L --rank 1 &
nice -n 19 $PY train_dit.py $L --rank 0
wait
# DiT m: continues l's EMA (12 blocks), the phase-h loss, lr 2e-4 cosine over 950 steps, stopped by the 135-minute
# limit at step 888 (session 12, nice 19 beside the sparsity work, step-based): loss flat at 0.126, held-out no better
# than l (README.md); not saved: dit_v2l.pt stays the starting point
rm -f $OUT/ddp_rendezvous
M="--init $OUT/dit_v2l.pt --layers 12 --tag _v2m --world 2 --bs 64 --steps 950 --lr 2e-4 --text-lr-mult 2 --warmup 20
   --first-frame-weight 3 --object-weight 8 --max-minutes 135 --snapshot-minutes 15"
nice -n 19 $PY train_dit.py $M --rank 1 &
nice -n 19 $PY train_dit.py $M --rank 0
wait
