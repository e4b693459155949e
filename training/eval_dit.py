"""Quick adherence check of a training DiT checkpoint (out/*.pt) with the exported VAE and T5.

--set heldout: the 8 held-out captions; --set train: 8 caption triples seen in training.
--ceiling: also measure ground-truth clips and their VAE reconstructions (the measurement's upper bound).
Prints colour / direction accuracy; writes nothing.
"""
import argparse
import numpy as np
import torch

from adherence import measure
from common import DATA_SEED, NEGATIVE_PROMPT
from dataset import HELD_OUT, caption, make_clip
from load_release import load_all
from reference_run import LATENT_SHAPE, context_of
from sampling import generate

TRAIN_TRIPLES = (('blue', 'square', 'right'), ('red', 'square', 'left'), ('green', 'circle', 'up'),
                 ('yellow', 'triangle', 'left'), ('white', 'circle', 'down'), ('purple', 'circle', 'up'),
                 ('green', 'triangle', 'down'), ('yellow', 'square', 'right'))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dit', default='')
    ap.add_argument('--vae', default='', help='VAE state dict (out/vae*.pt) instead of the exported one')
    ap.add_argument('--set', default='heldout', choices=['heldout', 'train'])
    ap.add_argument('--seeds', type=int, default=2)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--guide', type=float, default=5.0)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--ceiling', action='store_true')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    m = load_all()
    if args.dit:
        m['dit'].load_state_dict(torch.load(args.dit))
    if args.vae:
        m['vae'].model.load_state_dict(torch.load(args.vae))
    if args.ceiling:
        ok = dict(gt_c=0, gt_d=0, rec_c=0, rec_d=0)
        for i in range(16):
            clip = make_clip(DATA_SEED, i, held_out_split=True)
            a = clip['attrs']
            with torch.no_grad():
                rec = m['vae'].decode(m['vae'].encode(torch.from_numpy(clip['video'])[None]))[0].numpy()
            for k, v in (('gt', clip['video']), ('rec', rec)):
                r = measure(v)
                ok[k + '_c'] += r['colour'] == a['colour']
                ok[k + '_d'] += r['direction'] == a['direction']
        print('ceiling /16', ok, flush=True)
        if args.seeds == 0:
            return
    triples = HELD_OUT if args.set == 'heldout' else TRAIN_TRIPLES
    neg = context_of(m, NEGATIVE_PROMPT)[3]
    ok_c = ok_d = n = 0
    for colour, shape, direction in triples:
        pad = context_of(m, caption(colour, shape, direction))[3]
        for seed in range(args.seeds):
            noise = torch.randn(LATENT_SHAPE, generator=torch.Generator().manual_seed(seed))
            lat, _ = generate(m['dit'], pad, neg, noise[None], args.steps, 5.0, args.guide)
            with torch.no_grad():
                r = measure(m['vae'].decode(lat)[0].numpy())
            n += 1
            ok_c += r['colour'] == colour
            ok_d += r['direction'] == direction
            print(f'{colour} {shape} {direction} seed {seed}: {r["colour"]} {r["direction"]}', flush=True)
    print(f'{args.set} {args.dit}: colour {ok_c}/{n} direction {ok_d}/{n}', flush=True)


if __name__ == '__main__':
    main()
