"""Pick the VAE variant with the lower reconstruction error on fresh clips -> out/vae.pt.

--tag TAG --why TEXT ships a given variant instead (e.g. one chosen by prompt adherence)."""
import argparse
import glob
import json
import os
import shutil

from common import OUT

ap = argparse.ArgumentParser()
ap.add_argument('--tag', default=None)
ap.add_argument('--why', default='lowest reconstruction MAE')
args = ap.parse_args()
cands = []
for p in glob.glob(f'{OUT}/vae_stats_*.json'):
    tag = os.path.basename(p)[len('vae_stats'):-len('.json')]
    cands.append((json.load(open(p))['heldout_recon_mae'], tag))
cands.sort()
print('candidates (recon MAE, tag):', cands)
mae, tag = cands[0] if args.tag is None else next(c for c in cands if c[1] == args.tag)
if tag:
    shutil.copyfile(f'{OUT}/vae{tag}.pt', f'{OUT}/vae.pt')
    shutil.copyfile(f'{OUT}/vae_stats{tag}.json', f'{OUT}/vae_stats.json')
with open(f'{OUT}/vae_choice.json', 'w') as f:
    json.dump(dict(tag=tag or '(default)', recon_mae=mae, why=args.why, candidates=cands), f, indent=2)
print('chose', tag or '(default)')
