"""Train the small Wan2.1 DiT by flow matching on the VAE latents.

x_t = (1 - s) x0 + s * noise, target v = noise - x0, t = 1000 s. s is drawn half
from a logit-normal(0, 1) and half from a shift-3 warped uniform (more weight at
high noise, where the release sampler's shift-5 schedule spends its steps).
10% of captions are replaced by the encoded negative prompt ('' -> just </s>)
so classifier-free guidance works. An EMA of the weights is what gets exported.
Output: out/dit.pt (EMA), out/dit_raw.pt, out/dit_log.json.
"""
import argparse
import copy
import glob
import json
import math
import os
import time
import numpy as np
import torch

from common import DIT_CONFIG, NEGATIVE_PROMPT, OUT, dit_config_for, setup, save_json
from safetensors_np import read_safetensors
from text_encoder import Tokenizer, make_encoder, padded_contexts
from wan_modules.dit import WanModel


def load_data(reuse_stats=False, object_masks=False):
    """Raw mu from encode_latents.py -> per-channel mean/std (saved for the VAE wrapper) -> normalised.

    With reuse_stats the existing out/latent_stats.json is kept (continued training must not
    change the latent normalisation the model was trained in). With object_masks, also the
    object_masks.py coverage [n, 3, 8, 8] of every clip (else None)."""
    paths = sorted(glob.glob(f'{OUT}/latents_*.npz'))
    parts = [np.load(p) for p in paths]
    masks = None
    if object_masks:
        mparts = [np.load(p.replace('latents_', 'objmask_')) for p in paths]
        for p, m in zip(parts, mparts):
            assert np.array_equal(p['index'], m['index']), 'object masks are stale: rerun object_masks.py'
        masks = torch.from_numpy(np.concatenate([m['masks'] for m in mparts]))
    lat = torch.from_numpy(np.concatenate([p['latents'] for p in parts]))
    ctx = np.concatenate([p['contexts'] for p in parts])
    if reuse_stats:
        st = json.load(open(f'{OUT}/latent_stats.json'))
        mean, std = torch.tensor(st['mean']), torch.tensor(st['std'])
    else:
        mean = lat.mean(dim=(0, 2, 3, 4))
        std = lat.std(dim=(0, 2, 3, 4))
        save_json(f'{OUT}/latent_stats.json', dict(mean=mean.tolist(), std=std.tolist(), n_clips=lat.shape[0]))
    lat = (lat - mean.view(1, -1, 1, 1, 1)) * (1.0 / std).view(1, -1, 1, 1, 1)
    return lat, torch.from_numpy(ctx), masks


def sample_sigma(n, gen, shift=3.0, shifted_share=0.5):
    u = torch.rand(n, generator=gen)
    logit_normal = torch.sigmoid(torch.randn(n, generator=gen))
    shifted = shift * u / (1 + (shift - 1) * u)
    pick = torch.rand(n, generator=gen) < shifted_share
    return torch.where(pick, logit_normal, shifted).clamp(1e-3, 0.999)


def grow_interleaved(state, num_layers):
    """Deepen a trained DiT without changing what it computes: a fresh block goes after each trained one,
    with its self-attention, cross-attention and FFN output projections zeroed, so it starts as the identity
    (Wan blocks are residual) and learns from there. Returns (model, state to load)."""
    old = dit_config_for(state)['num_layers']
    assert num_layers >= old, f'cannot shrink {old} blocks to {num_layers}'
    model = WanModel(**dict(DIT_CONFIG, num_layers=num_layers))
    grown = model.state_dict()
    trained_at = [round(i * num_layers / old) for i in range(old)]  # 3 -> 6: blocks 0, 2, 4
    for k, v in state.items():
        if k.startswith('blocks.'):
            _, i, rest = k.split('.', 2)
            grown[f'blocks.{trained_at[int(i)]}.{rest}'] = v
        else:
            grown[k] = v
    for i in set(range(num_layers)) - set(trained_at):
        for proj in ('self_attn.o', 'cross_attn.o', 'ffn.2'):
            grown[f'blocks.{i}.{proj}.weight'].zero_()
            grown[f'blocks.{i}.{proj}.bias'].zero_()
    return model, grown


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=3000)
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--ema', type=float, default=0.998)
    ap.add_argument('--drop', type=float, default=0.1)
    ap.add_argument('--max-minutes', type=float, default=1e9)
    ap.add_argument('--init', default='', help='continue from these weights (model and EMA)')
    ap.add_argument('--tag', default='', help='suffix for the output files')
    ap.add_argument('--warmup', type=int, default=100)
    ap.add_argument('--text-lr-mult', type=float, default=1.0)
    ap.add_argument('--sigma-shift', type=float, default=3.0, help='shift of the warped-uniform half of the noise levels')
    ap.add_argument('--shifted-share', type=float, default=0.5,
                    help='share of noise levels drawn warped-uniform (the rest logit-normal)')
    ap.add_argument('--first-frame-weight', type=float, default=1.0,
                    help='loss weight of latent frame 0 (it encodes one video frame alone; its normalised '
                         'values are ~0.6x the others, so equal weights leave it the least accurate)')
    ap.add_argument('--object-weight', type=float, default=0.0,
                    help='extra loss weight on latent pixels the object covers (object_masks.py): weight 1 + W * coverage; '
                         'the object is ~8%% of the latent, so unweighted the loss is mostly background')
    ap.add_argument('--motion-weight', type=float, default=0.0,
                    help='extra loss on the frame-to-frame differences of the velocity error (weighted like the '
                         'main loss): errors that jump between latent frames show up as an object jumping between '
                         'video frames, while a steady offset does not')
    ap.add_argument('--time-cosine', action='store_true',
                    help='cosine lr over --max-minutes of wall time instead of over --steps')
    ap.add_argument('--snapshot-minutes', type=float, default=0, help='save the EMA every N minutes (0: never)')
    ap.add_argument('--layers', type=int, default=DIT_CONFIG['num_layers'],
                    help='DiT blocks; with --init from a shallower DiT, new identity-initialised blocks are interleaved')
    ap.add_argument('--init-release', default='',
                    help='start from a release-format DiT (diffusion_pytorch_model.safetensors, e.g. the shipped '
                         'demo DiT: its patch grid and 3-D RoPE do not depend on the video size)')
    ap.add_argument('--fresh-stats', action='store_true',
                    help='measure the latent mean/std anew even when continuing (a new VAE, new clips)')
    ap.add_argument('--accum', type=int, default=1,
                    help='run each rank\'s batch in this many slices, adding up their gradients (same draws and '
                         'update, less memory: a 12-block step of batch 128 per rank needs about 12 GB at once)')
    ap.add_argument('--rank', type=int, default=0)
    ap.add_argument('--world', type=int, default=1,
                    help='data-parallel single-thread processes (gloo); --bs is the global batch')
    ap.add_argument('--device', default='cpu',
                    help="'cuda' on a GPU machine (one process, --world 1); the data stays in CPU memory and each batch moves")
    args = ap.parse_args()
    setup(2)
    dev = torch.device(args.device)
    assert args.world == 1 or dev.type == 'cpu', 'data-parallel ranks are CPU processes; on a GPU use --world 1'
    if args.world > 1:
        # several 1-thread processes get more of a contended CPU than 1 process with several threads
        torch.distributed.init_process_group('gloo', init_method=f'file://{OUT}/ddp_rendezvous',
                                             rank=args.rank, world_size=args.world)
    main_rank = args.rank == 0
    continuing = bool(args.init or args.init_release)
    lat, ctx, masks = load_data(reuse_stats=continuing and not args.fresh_stats, object_masks=args.object_weight > 0)
    n = lat.shape[0]
    tok = Tokenizer()
    t5 = make_encoder(tok.vocab_size)
    neg = padded_contexts(t5, tok, [NEGATIVE_PROMPT])  # [1, text_len, 64]
    print(f'{n} latents {tuple(lat.shape[1:])}, contexts {tuple(ctx.shape[1:])}', flush=True)
    model = WanModel(**dict(DIT_CONFIG, num_layers=args.layers))  # same seed on every rank -> same init
    if continuing:
        init = torch.load(args.init) if args.init else {
            k: torch.from_numpy(v) for k, v in read_safetensors(args.init_release).items()}
        model, state = grow_interleaved(init, args.layers)
        model.load_state_dict(state)
    print(f'DiT parameters: {sum(p.numel() for p in model.parameters()):,}', flush=True)
    model.to(dev)
    ema = copy.deepcopy(model).eval()
    cpu_state = lambda m: {k: v.detach().cpu() for k, v in m.state_dict().items()}  # loadable without a GPU
    local_bs = args.bs // args.world
    # text pathway (text_embedding, cross-attention, its norm) may get a larger lr: the
    # unconditional structure is learnt first and the conditioning lags behind
    text_names = ('text_embedding', 'cross_attn', 'norm3')
    groups = [dict(params=[p for n, p in model.named_parameters() if not any(t in n for t in text_names)], mult=1.0),
              dict(params=[p for n, p in model.named_parameters() if any(t in n for t in text_names)],
                   mult=args.text_lr_mult)]
    opt = torch.optim.AdamW(groups, lr=args.lr, weight_decay=0.01, betas=(0.9, 0.99))
    warm = args.warmup
    lr_at = lambda s, prog: args.lr * min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, prog)))
    gen = torch.Generator().manual_seed(1234 + args.rank)
    # on a GPU the noise is drawn there: a CPU thread drawing 5M normals a step would hold the GPU back
    noise_gen = gen if dev.type == 'cpu' else torch.Generator(device=dev).manual_seed(4321)
    t0 = time.time()
    log, run, snaps = [], [], []
    step = 0
    for step in range(args.steps):
        el = time.time() - t0
        prog = el / (args.max_minutes * 60) if args.time_cosine else step / args.steps
        sync = torch.tensor([float(el > args.max_minutes * 60), prog], dtype=torch.float64)
        if args.world > 1:
            torch.distributed.broadcast(sync, 0)  # all ranks stop at the same step, with the same lr
        prog = float(sync[1])
        if sync[0].item():
            print(f'stopping at step {step}: --max-minutes reached', flush=True)
            break
        i = torch.randint(0, n, (local_bs,), generator=gen)
        x0 = lat[i]
        c = ctx[i].clone()
        drop = torch.rand(local_bs, generator=gen) < args.drop
        c[drop] = neg[0]
        sigma = sample_sigma(local_bs, gen, args.sigma_shift, args.shifted_share)
        noise = torch.randn(x0.shape, generator=noise_gen, device=dev)
        w = torch.ones(1, 1, x0.shape[2], 1, 1)
        w[:, :, 0] = args.first_frame_weight
        if masks is not None:
            w = w * (1 + args.object_weight * masks[i][:, None])
        # the batch is drawn on the CPU, then moved
        x0, c, sigma, noise, w = (a.to(dev) for a in (x0, c, sigma, noise, w))
        w = w.expand_as(x0)
        wd = 0.5 * (w[:, :, 1:] + w[:, :, :-1])
        w_sum, wd_sum = w.sum(), wd.sum()
        for g in opt.param_groups:
            g['lr'] = lr_at(step, prog) * g['mult']
        opt.zero_grad()
        # --accum: the drawn batch runs in slices whose gradients add up to the whole batch's (the
        # loss is normalised by the whole batch's weights), so only the memory changes
        loss = 0.0
        for part in torch.arange(local_bs).chunk(args.accum):
            s = sigma[part].view(-1, 1, 1, 1, 1)
            xt = (1 - s) * x0[part] + s * noise[part]
            v = model(xt, sigma[part] * 1000.0, c[part])
            err = v - (noise[part] - x0[part])
            part_loss = (err.pow(2) * w[part]).sum() / w_sum
            if args.motion_weight:
                part_loss = part_loss + args.motion_weight * ((err[:, :, 1:] - err[:, :, :-1]).pow(2) * wd[part]).sum() / wd_sum
            part_loss.backward()
            loss = loss + part_loss.detach()
        if args.world > 1:
            grads = [p.grad for p in model.parameters()]
            flat = torch.cat([g.reshape(-1) for g in grads])
            torch.distributed.all_reduce(flat)  # one message per step
            flat.div_(args.world)
            torch.nn.utils.vector_to_parameters(flat, grads)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            d = args.ema if continuing else min(args.ema, (1 + step) / (10 + step))
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm, alpha=1 - d)
        run.append(loss.item())
        if main_rank and args.snapshot_minutes and el > args.snapshot_minutes * 60 * (len(snaps) + 1):
            snaps.append(step)
            torch.save(cpu_state(ema), f'{OUT}/dit{args.tag}_snap.pt.tmp')
            os.replace(f'{OUT}/dit{args.tag}_snap.pt.tmp', f'{OUT}/dit{args.tag}_snap.pt')
            print(f'snapshot at step {step}', flush=True)
        if step % 50 == 0 or step == args.steps - 1:
            el = time.time() - t0
            avg = float(np.mean(run[-50:]))
            print(f'step {step:5d} loss {avg:.4f} lr {lr_at(step, prog):.2e} {el:.0f}s', flush=True)
            log.append(dict(step=step, loss=avg, seconds=el))
    train_s = time.time() - t0
    if not main_rank:
        return
    torch.save(cpu_state(ema), f'{OUT}/dit{args.tag}.pt')
    torch.save(cpu_state(model), f'{OUT}/dit_raw{args.tag}.pt')
    save_json(f'{OUT}/dit_log{args.tag}.json', dict(args=vars(args), steps=args.steps, steps_done=step + 1, bs=args.bs, world=args.world, lr=args.lr,
                                          ema=args.ema, caption_dropout=args.drop, train_seconds=train_s,
                                          final_loss=float(np.mean(run[-100:])), log=log, n_latents=n))
    print(f'done in {train_s:.0f}s, final loss {np.mean(run[-100:]):.4f}')


if __name__ == '__main__':
    main()
