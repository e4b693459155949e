"""Object masks at latent resolution for the DiT's object-weighted loss.

For every clip in out/latents_K.npz (its `index` array), re-render the clip and reduce its
object masks to the latent grid: latent frame 0 covers video frame 0, latent frame j > 0 covers
video frames 4j-3 .. 4j (Wan's causal 4x temporal stride); each latent pixel holds the share of
its 8x8 pixel block the object covers in any of those frames. Writes out/objmask_K.npz
(masks [n, 3, 8, 8], float32), which train_dit.py --object-weight reads.
"""
import argparse
import glob
import os
import numpy as np

from common import DATA_SEED, OUT
from dataset import PLACEMENTS, make_clip
from encode_latents import DIT_INDEX_BASE


def latent_mask(masks, stride=8):
    """[T, H, W] video-frame masks -> [1 + (T-1)//4, H/stride, W/stride] coverage."""
    t, h, w = masks.shape
    groups = [masks[:1]] + [masks[1 + 4 * j: 5 + 4 * j] for j in range((t - 1) // 4)]
    out = [g.max(0).reshape(h // stride, stride, w // stride, stride).mean((1, 3)) for g in groups]
    return np.stack(out).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--placement', default='centred', choices=PLACEMENTS, help='what the latents were encoded with')
    args = ap.parse_args()
    for path in sorted(glob.glob(f'{OUT}/latents_*.npz')):
        part = os.path.basename(path)[len('latents_'):-len('.npz')]
        index = np.load(path)['index']
        masks = np.stack([latent_mask(make_clip(DATA_SEED, DIT_INDEX_BASE + int(i), placement=args.placement)['masks'])
                          for i in index])
        np.savez(f'{OUT}/objmask_{part}.npz', masks=masks, index=index)
        print(f'{path}: {masks.shape}, mean coverage {masks.mean():.3f}', flush=True)


if __name__ == '__main__':
    main()
