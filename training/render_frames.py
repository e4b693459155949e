"""Generate the held-out captions with the exported model (PyTorch) and save frame strips as PNG.

samples/frames/<caption_with_underscores>.png: the 9 frames side by side (64x64 each, shown 2x);
for geometry v2 samples/frames/v2/: the 17 frames of 128x128 side by side, shown 1x (lossless: a palette
would change the colours of noisy clips visibly; a clean clip's strip is a few KB, a noisy one ~300 KB).
Also prints the adherence measurement for each caption and seed (colour and direction; shape,
continuity and colour stability too, in the JSON).
"""
import argparse
import os
import numpy as np
import torch
from PIL import Image

from adherence import measure
from common import FRAMES_DIR, GUIDANCE, NEGATIVE_PROMPT, save_json
from dataset import HELD_OUT, SIZE, caption
from load_release import load_all
from reference_run import LATENT_SHAPE, context_of
from sampling import generate



def strip(video, scale=2 if SIZE <= 64 else 1):
    rgb = ((np.clip(video, -1, 1) + 1) * 127.5 + 0.5).astype(np.uint8)  # [3,T,H,W]
    row = np.concatenate([rgb[:, t].transpose(1, 2, 0) for t in range(rgb.shape[1])], axis=1)
    return Image.fromarray(row).resize((row.shape[1] * scale, row.shape[0] * scale), Image.NEAREST)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seeds', type=int, default=2)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--shift', type=float, default=5.0)
    ap.add_argument('--guide', type=float, default=GUIDANCE)
    ap.add_argument('--no-png', action='store_true')
    ap.add_argument('--json', default='adherence_pytorch.json', help='result file name in samples/frames/')
    args = ap.parse_args()
    torch.set_num_threads(1)
    m = load_all()
    neg = context_of(m, NEGATIVE_PROMPT)[3]
    os.makedirs(FRAMES_DIR, exist_ok=True)
    ok_c = ok_d = ok_s = ok_cont = ok_stable = ok_all = n = 0
    rows = []
    for colour, shape, direction in HELD_OUT:
        text = caption(colour, shape, direction)
        pad = context_of(m, text)[3]
        for seed in range(args.seeds):
            noise = torch.randn(LATENT_SHAPE, generator=torch.Generator().manual_seed(seed))
            lat, _ = generate(m['dit'], pad, neg, noise[None], args.steps, args.shift, args.guide)
            with torch.no_grad():
                video = m['vae'].decode(lat)[0].numpy()
            r = measure(video)
            n += 1
            ok_c += r['colour'] == colour
            ok_d += r['direction'] == direction
            ok_s += r['shape'] == shape
            ok_cont += bool(r['continuous'])
            ok_stable += bool(r['colour_stable'])
            ok_all += (r['colour'], r['shape'], r['direction']) == (colour, shape, direction) and bool(
                r['continuous']) and bool(r['colour_stable'])
            rows.append(dict(caption=text, seed=seed, colour=r['colour'], direction=r['direction'], shape=r['shape'],
                             continuous=bool(r['continuous']), colour_stable=bool(r['colour_stable'])))
            print(f'{text:32s} seed {seed}: colour {r["colour"]} direction {r["direction"]} shape {r["shape"]}'
                  f'{"" if r["continuous"] else " discontinuous"}{"" if r["colour_stable"] else " colour-unstable"}',
                  flush=True)
            if seed == 0 and not args.no_png:
                strip(video).save(os.path.join(FRAMES_DIR, text.replace(' ', '_') + '.png'))
    print(f'colour accuracy {ok_c}/{n} (chance 1/6), direction accuracy {ok_d}/{n} (chance 1/4), shape {ok_s}/{n} '
          f'(chance 1/3), continuity {ok_cont}/{n}, colour stable {ok_stable}/{n}, all {ok_all}/{n}')
    save_json(os.path.join(FRAMES_DIR, args.json), dict(
        steps=args.steps, shift=args.shift, guide=args.guide, seeds=args.seeds, colour_acc=ok_c / n,
        direction_acc=ok_d / n, shape_acc=ok_s / n, continuity_acc=ok_cont / n, colour_stable_acc=ok_stable / n,
        all_acc=ok_all / n, chance_colour=1 / 6, chance_direction=1 / 4, chance_shape=1 / 3, rows=rows))


if __name__ == '__main__':
    main()
