"""Milestone checkpoints of a training run, small enough to commit, so training goes on in a later session.

  checkpoint.py save     out-<geometry>/ -> checkpoints-<geometry>/ (float16 weights, JSON as is)
  checkpoint.py restore  checkpoints-<geometry>/ -> out-<geometry>/ (float32 again)

Saved: the chosen VAE (vae.pt, vae_choice.json, vae_stats.json), the DiT latent statistics and the
latest DiT EMA weights of every phase (dit_<tag>.pt, else its newest snapshot dit_<tag>_snap.pt) with
their logs. The latents are not saved: encode_latents.py rebuilds them from the VAE (deterministic clips).
float16 storage loses nothing that matters for continued training (EMA weights, AdamW restarts with warmup).
"""
import argparse
import glob
import os
import shutil
import torch

from common import HERE, OUT
from dataset import GEOMETRY

CKPT_DIR = os.path.join(HERE, f'checkpoints-{GEOMETRY}')
JSON = ('vae_choice.json', 'vae_stats.json', 'latent_stats.json')


def weights(folder):
    """The .pt files worth keeping: the VAE and, per DiT phase, its final EMA or else its newest snapshot."""
    keep = ['vae.pt']
    finals = {os.path.basename(p) for p in glob.glob(f'{folder}/dit_v*.pt') if '_snap' not in p and 'raw' not in p}
    keep += sorted(finals)
    for snap in glob.glob(f'{folder}/dit_v*_snap.pt'):
        if os.path.basename(snap).replace('_snap', '') not in finals:
            keep.append(os.path.basename(snap))
    return [k for k in keep if os.path.exists(os.path.join(folder, k))]


def copy(src, dst, dtype):
    os.makedirs(dst, exist_ok=True)
    for name in weights(src):
        state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in torch.load(os.path.join(src, name)).items()}
        torch.save(state, os.path.join(dst, name + '.tmp'))
        os.replace(os.path.join(dst, name + '.tmp'), os.path.join(dst, name))
        print(f'{name}: {os.path.getsize(os.path.join(dst, name)) / 1e6:.1f} MB')
    # the logs of finished VAE runs and of the DiT phases (rank 0)
    logs = glob.glob(f'{src}/dit_log_v*.json') + glob.glob(f'{src}/vae_stats_*.json') + [
        p for p in glob.glob(f'{src}/dit_v*.log') if '_r1' not in p] + [
        p for p in glob.glob(f'{src}/vae_*.log') if os.path.exists(p.replace('vae_', 'vae_stats_').replace('.log', '.json'))]
    for name in list(JSON) + [os.path.basename(p) for p in logs]:
        if os.path.exists(os.path.join(src, name)):
            shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('action', choices=['save', 'restore'])
    args = ap.parse_args()
    if args.action == 'save':
        copy(OUT, CKPT_DIR, torch.float16)
    else:
        copy(CKPT_DIR, OUT, torch.float32)


if __name__ == '__main__':
    main()
