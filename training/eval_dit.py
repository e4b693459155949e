"""Quick adherence check of a training DiT checkpoint (out/*.pt) with the exported VAE and T5.

--set heldout: the 8 held-out captions; --set train: 8 caption triples seen in training.
--ceiling: also measure ground-truth clips and their VAE reconstructions (the measurement's upper bound).
--one-step: one-step x0 predictions from noised training latents (is the DiT right before sampling?).
Prints colour / direction / shape / continuity accuracy; writes nothing (but --png strips).
"""
import argparse
import json
import os
import numpy as np
import torch
from PIL import Image

from adherence import measure
from common import CKPT, DATA_SEED, GUIDANCE, NEGATIVE_PROMPT, OUT, dit_config_for
from dataset import HELD_OUT, caption, make_clip
from load_release import load_all
from reference_run import LATENT_SHAPE, context_of
from render_frames import strip
from sampling import generate, generate_free_init
from wan_modules.dit import WanModel
from wan_modules.vae import WanVAE

TRAIN_TRIPLES = (('blue', 'square', 'right'), ('red', 'square', 'left'), ('green', 'circle', 'up'),
                 ('yellow', 'triangle', 'left'), ('white', 'circle', 'down'), ('purple', 'circle', 'up'),
                 ('green', 'triangle', 'down'), ('yellow', 'square', 'right'))


class OnDevice(torch.nn.Module):
    """The DiT on a GPU behind a CPU interface: the sampler, the VAE and the measurement stay on the CPU."""

    def __init__(self, dit, device):
        super().__init__()
        self.dit, self.device = dit.to(device), device

    def forward(self, x, t, context):
        return self.dit(x.to(self.device), t.to(self.device), context.to(self.device)).cpu()


def one_step_check(m, n=16):
    """x0 = x_t - sigma * v on n training clips: where along the noise scale the DiT gets colour and direction right."""
    d = np.load(f'{OUT}/latents_0.npz')
    mean, inv_std = m['vae'].mean.view(1, -1, 1, 1, 1), m['vae'].inv_std.view(1, -1, 1, 1, 1)
    lat = (torch.from_numpy(d['latents'][:n]) - mean) * inv_std
    ctx = torch.from_numpy(d['contexts'][:n])
    words = [str(c).split() for c in d['captions'][:n]]
    gen = torch.Generator().manual_seed(0)
    for sigma in (0.3, 0.5, 0.7, 0.85, 0.95):
        xt = (1 - sigma) * lat + sigma * torch.randn(lat.shape, generator=gen)
        with torch.no_grad():
            x0 = xt - sigma * m['dit'](xt, torch.full((n,), sigma * 1000.0), ctx)
            video = m['vae'].decode(x0).numpy()
        rs = [measure(v) for v in video]
        ok_c = sum(r['colour'] in w for r, w in zip(rs, words))
        ok_d = sum(r['direction'] in w for r, w in zip(rs, words))
        print(f'one step from sigma {sigma}: colour {ok_c}/{n} direction {ok_d}/{n}', flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', default=CKPT, help='release-format folder the parts not given below come from '
                    '(during v2 training: the tiny model, with --dit, --vae and --stats of the run)')
    ap.add_argument('--dit', default='')
    ap.add_argument('--vae', default='', help='VAE state dict (out/vae*.pt) instead of the exported one')
    ap.add_argument('--stats', default='', help='latent mean/std JSON (out/latent_stats.json) the DiT was trained in, '
                                               'instead of the exported vae_config.json ones')
    ap.add_argument('--set', default='heldout', choices=['heldout', 'train'])
    ap.add_argument('--seeds', type=int, default=2)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--guide', type=float, default=GUIDANCE)
    ap.add_argument('--shift', type=float, default=5.0)
    ap.add_argument('--guide-interval', default='', help='LO,HI: guidance only at sigmas in [LO, HI] (experiment)')
    ap.add_argument('--free-init', type=int, default=1, help='sampling rounds with FreeInit-style re-initialisation '
                                                               '(sampling.generate_free_init; 1: plain sampling; experiment)')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--png', default='', help='also save every generated clip as a frame strip, one PNG per caption, here')
    ap.add_argument('--ceiling', action='store_true')
    ap.add_argument('--one-step', action='store_true',
                    help='also measure one-step x0 predictions from noised training latents at several noise levels '
                         '(needs --stats and the out/latents_0.npz the DiT trained on)')
    ap.add_argument('--device', default='cpu', help="run the DiT on 'cuda' (the rest stays on the CPU)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    m = load_all(args.ckpt)
    if args.dit:
        state = torch.load(args.dit)
        m['dit'] = WanModel(**dit_config_for(state)).eval()
        m['dit'].load_state_dict(state)
    if args.device != 'cpu':
        m['dit'] = OnDevice(m['dit'], torch.device(args.device)).eval()
    if args.vae:
        m['vae'].model.load_state_dict(torch.load(args.vae))
    if args.stats:
        st = json.load(open(args.stats))
        m['vae'] = WanVAE(m['vae'].model, st['mean'], st['std'])
    if args.ceiling:
        ok = {f'{k}_{a}': 0 for k in ('gt', 'rec') for a in 'cdsk'}  # colour, direction, shape, continuity
        for i in range(16):
            clip = make_clip(DATA_SEED, i, held_out_split=True)
            a = clip['attrs']
            with torch.no_grad():
                rec = m['vae'].decode(m['vae'].encode(torch.from_numpy(clip['video'])[None]))[0].numpy()
            for k, v in (('gt', clip['video']), ('rec', rec)):
                r = measure(v)
                ok[k + '_c'] += r['colour'] == a['colour']
                ok[k + '_d'] += r['direction'] == a['direction']
                ok[k + '_s'] += r['shape'] == a['shape']
                ok[k + '_k'] += bool(r['continuous'])
        print('ceiling /16', ok, flush=True)
        if args.seeds == 0:
            return
    if args.one_step:
        one_step_check(m)
        if args.seeds == 0:
            return
    triples = HELD_OUT if args.set == 'heldout' else TRAIN_TRIPLES
    neg = context_of(m, NEGATIVE_PROMPT)[3]
    ok_c = ok_d = ok_s = ok_k = n = 0
    for colour, shape, direction in triples:
        pad = context_of(m, caption(colour, shape, direction))[3]
        strips = []
        for seed in range(args.seeds):
            noise = torch.randn(LATENT_SHAPE, generator=torch.Generator().manual_seed(seed))
            kw = dict(steps=args.steps, shift=args.shift, guide=args.guide,
                      interval=tuple(map(float, args.guide_interval.split(','))) if args.guide_interval else None)
            if args.free_init > 1:
                lat, _ = generate_free_init(m['dit'], pad, neg, noise[None], args.free_init,
                                            gen=torch.Generator().manual_seed(10_000 + seed), **kw)
            else:
                lat, _ = generate(m['dit'], pad, neg, noise[None], **kw)
            with torch.no_grad():
                video = m['vae'].decode(lat)[0].numpy()
            r = measure(video)
            strips.append(strip(video))
            n += 1
            ok_c += r['colour'] == colour
            ok_d += r['direction'] == direction
            ok_s += r['shape'] == shape
            ok_k += r['continuous']
            print(f'{colour} {shape} {direction} seed {seed}: {r["colour"]} {r["shape"]} {r["direction"]}'
                  f'{"" if r["continuous"] else " (not continuous)"}', flush=True)
        if args.png:
            os.makedirs(args.png, exist_ok=True)
            sheet = Image.new('RGB', (strips[0].width, sum(x.height for x in strips)))
            for k, x in enumerate(strips):
                sheet.paste(x, (0, k * x.height))
            sheet.save(os.path.join(args.png, f'{colour}_{shape}_{direction}.png'))
    interval = args.guide_interval or 'all'
    print(f'{args.set} {args.dit} guide {args.guide} interval {interval} shift {args.shift} rounds {args.free_init}: colour {ok_c}/{n} direction {ok_d}/{n} '
          f'shape {ok_s}/{n} continuity {ok_k}/{n}', flush=True)


if __name__ == '__main__':
    main()
