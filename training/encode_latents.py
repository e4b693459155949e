"""Encode training clips with the trained VAE (normalised mu) and their captions with the frozen T5.

Usage: encode_latents.py --part K --parts P --clips N   (parts run as separate 1-thread processes)
Writes out/latents_K.npz with raw (unnormalised) mu [n,16,3,8,8], contexts [n,32,64], captions.
The per-channel mean/std for the VAE wrapper are computed from all parts by train_dit.py.
"""
import argparse
import time
import numpy as np
import torch

from common import DATA_SEED, OUT, VAE_CONFIG, setup
from dataset import PLACEMENTS, make_clip
from text_encoder import Tokenizer, make_encoder, padded_contexts
from wan_modules.vae import WanVAE_

# DiT clips come from a different index range than the VAE's training clips
DIT_INDEX_BASE = 5_000_000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--part', type=int, default=0)
    ap.add_argument('--parts', type=int, default=1)
    ap.add_argument('--clips', type=int, default=1600)
    ap.add_argument('--first', type=int, default=0, help='first clip index (to add more clips later)')
    ap.add_argument('--placement', default='centred', choices=PLACEMENTS,
                    help="where paths lie ('anywhere' is what the session-2 DiT v2/v3 trained on)")
    ap.add_argument('--device', default='cpu', help="encode on 'cuda' (clips are drawn on the CPU either way)")
    args = ap.parse_args()
    setup(100 + args.part)
    dev = torch.device(args.device)
    model = WanVAE_(**VAE_CONFIG).eval()
    model.load_state_dict(torch.load(f'{OUT}/vae.pt'))
    model.to(dev)
    tok = Tokenizer()
    t5 = make_encoder(tok.vocab_size)
    idx = [i for i in range(args.first, args.first + args.clips) if i % args.parts == args.part]
    lat, caps = [], []
    t0 = time.time()
    for j in range(0, len(idx), 16):
        clips = [make_clip(DATA_SEED, DIT_INDEX_BASE + i, placement=args.placement) for i in idx[j:j + 16]]
        with torch.no_grad():
            lat.append(model.encode_raw(torch.from_numpy(np.stack([c['video'] for c in clips])).to(dev))[0].cpu())
        caps += [c['caption'] for c in clips]
        print(f'part {args.part}: {j + len(clips)}/{len(idx)} {time.time() - t0:.0f}s', flush=True)
    ctx = padded_contexts(t5, tok, caps)
    np.savez(f'{OUT}/latents_{args.first}_{args.part}.npz' if args.first else f'{OUT}/latents_{args.part}.npz', latents=torch.cat(lat).numpy(), contexts=ctx.numpy(),
             captions=np.array(caps), index=np.array(idx))


if __name__ == '__main__':
    main()
