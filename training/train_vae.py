"""Train the small Wan-architecture VAE on procedural clips.

Loss: object-weighted L1 + MSE reconstruction of 5- or 9-frame clips through the
release's chunked causal encode/decode, plus a small KL term on the posterior.
Afterwards the per-channel latent mean/std (the wrapper's `scale = [mean, 1/std]`)
are measured on fresh clips. Output: out/vae.pt, out/vae_stats.json.
"""
import argparse
import time
import numpy as np
import torch

from common import DATA_SEED, OUT, VAE_CONFIG, setup, save_json
from dataset import BACKGROUNDS, FRAMES, SIZE, make_clip
from wan_modules.vae import WanVAE_


def batch(step, bs, frames, crop, rng, obj_weight=8.0):
    """Clips of `frames` frames; `crop` < SIZE cuts a window that usually contains the object."""
    vids, weights, backgrounds, masks = [], [], [], []
    for i in range(bs):
        clip = make_clip(DATA_SEED, step * 16 + i)
        k = int(rng.integers(0, FRAMES - frames + 1))
        v = clip['video'][:, k:k + frames]
        # weight object pixels (and a ring around them) more: they are ~3% of the frame
        m = clip['masks'][k:k + frames]
        m = np.maximum(m, np.pad(m, ((0, 0), (2, 2), (2, 2)))[:, 4:, 4:])
        if crop < v.shape[-1]:
            ys, xs = np.nonzero(m.max(0) > 0.5)
            cy = int(ys.mean()) if len(ys) else SIZE // 2
            cx = int(xs.mean()) if len(xs) else SIZE // 2
            y0 = int(np.clip(cy - crop // 2 + rng.integers(-10, 11), 0, SIZE - crop))
            x0 = int(np.clip(cx - crop // 2 + rng.integers(-10, 11), 0, SIZE - crop))
            v = v[:, :, y0:y0 + crop, x0:x0 + crop]
            m = m[:, y0:y0 + crop, x0:x0 + crop]
        vids.append(v)
        masks.append(m)
        weights.append(1.0 + obj_weight * m)
        backgrounds.append(np.array(BACKGROUNDS[clip['attrs']['background']], np.float32) * 2 - 1)
    batch.backgrounds = torch.from_numpy(np.stack(backgrounds))[:, :, None, None, None]
    batch.masks = torch.from_numpy(np.stack(masks))  # [B, T, H, W], the object with a 2-pixel ring
    return torch.from_numpy(np.stack(vids)), torch.from_numpy(np.stack(weights))[:, None]


def soft_centroids(video, background, window, floor=0.1):
    """Per-frame object centroid (y, x) in pixels, weighted by the distance from the background
    colour above `floor` inside `window` ([B, T, H, W], the object's neighbourhood: background
    noise elsewhere would pull the centroid to the middle): [B, 3, T, H, W] -> ([B, T, 2], weight sums [B, T])."""
    w = torch.relu((video - background).pow(2).sum(1).add(1e-8).sqrt() - floor) * window  # [B, T, H, W]
    H, W = w.shape[-2:]
    ys = torch.arange(H, dtype=w.dtype)[:, None] + 0.5
    xs = torch.arange(W, dtype=w.dtype)[None, :] + 0.5
    total = w.sum((-2, -1))
    c = torch.stack([(w * ys).sum((-2, -1)), (w * xs).sum((-2, -1))], -1) / total.clamp(min=1e-6)[..., None]
    return c, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=1200)
    ap.add_argument('--bs', type=int, default=4)
    ap.add_argument('--max-minutes', type=float, default=1e9)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--kl', type=float, default=1e-5)
    ap.add_argument('--stats-clips', type=int, default=32)
    ap.add_argument('--crop', type=int, default=32)
    ap.add_argument('--full-every', type=int, default=8)
    ap.add_argument('--full-bs', type=int, default=2)
    ap.add_argument('--full-frames', type=int, default=FRAMES)
    ap.add_argument('--full-crop', type=int, default=SIZE,
                    help='spatial window of the full-length steps (< SIZE: cheaper, still every causal chunk)')
    ap.add_argument('--crop-frames', type=int, default=5, help='frames of the cheap cropped steps')
    ap.add_argument('--temporal-weight', type=float, default=0.0,
                    help='weight of the frame-difference error (motion kept, no ghosting across causal chunks)')
    ap.add_argument('--init-release', default='',
                    help='start from a release-format Wan2.1_VAE.pth (e.g. the shipped demo VAE)')
    ap.add_argument('--init', default='', help='start from these weights (continued training)')
    ap.add_argument('--freeze-encoder', action='store_true',
                    help='train only conv2 + decoder (keeps the latent space of --init fixed)')
    ap.add_argument('--obj-weight', type=float, default=8.0, help='extra loss weight on object pixels')
    ap.add_argument('--tag', default='', help='suffix for the output files (parallel variants)')
    ap.add_argument('--deterministic', action='store_true', help='decode mu (no posterior sample)')
    ap.add_argument('--colour-weight', type=float, default=0.0,
                    help='weight of the per-frame mean object colour error (keeps hues from washing out)')
    ap.add_argument('--latent-noise', type=float, default=0.0,
                    help='gaussian noise, relative to the batch std of mu, added before decoding: a smoother '
                         'latent space and a decoder that tolerates imperfect DiT samples')
    ap.add_argument('--centroid-weight', type=float, default=0.0,
                    help='weight of the per-frame object centroid error in pixels (objects where the clip has them '
                         'in every frame: no within-chunk lag and catch-up)')
    args = ap.parse_args()
    setup(1)
    model = WanVAE_(**VAE_CONFIG)
    # the release zero-inits the attention proj; keep that, everything else default torch init,
    # except the log-variance half of conv1: start the posterior narrow (std ~e^-4) so the
    # sampled latent is not drowned in unit noise while mu is still small
    with torch.no_grad():
        model.conv1.bias[VAE_CONFIG['z_dim']:] = -8.0
    if args.init or args.init_release:
        model.load_state_dict(torch.load(args.init or args.init_release, map_location='cpu'))
    print(f'VAE parameters: {sum(p.numel() for p in model.parameters()):,}')
    params = list(model.parameters())
    if args.freeze_encoder:
        for p in list(model.encoder.parameters()) + list(model.conv1.parameters()):
            p.requires_grad_(False)
        params = [p for p in params if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.05)
    offset_rng = np.random.default_rng(7)
    t0 = time.time()
    log = []
    for step in range(args.steps):
        # mostly crops of short clips (cheap); every --full-every step full-length clips,
        # so the per-frame mid attention and the later chunks' causal caches see the real layout
        full = step % args.full_every == args.full_every - 1
        if full:
            x, w = batch(step, args.full_bs, args.full_frames, args.full_crop, offset_rng, args.obj_weight)
        else:
            x, w = batch(step, args.bs, args.crop_frames, args.crop, offset_rng, args.obj_weight)
        if time.time() - t0 > args.max_minutes * 60:
            print(f'stopping at step {step}: --max-minutes reached', flush=True)
            break
        with torch.set_grad_enabled(not args.freeze_encoder):
            mu, log_var = model.encode_raw(x)
        log_var = log_var.clamp(-30, 20)
        z = mu if args.deterministic else mu + torch.randn_like(mu) * torch.exp(0.5 * log_var)
        if args.latent_noise:
            z = z + torch.randn_like(z) * (args.latent_noise * mu.detach().std(dim=(0, 2, 3, 4), keepdim=True))
        rec = model.decode_raw(z)
        err = rec - x
        l_rec = (w * (err.abs() + err.pow(2))).mean()
        kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).mean()
        loss = l_rec + args.kl * kl
        if args.temporal_weight:
            d_err = err[:, :, 1:] - err[:, :, :-1]  # (rec_t - rec_t-1) - (x_t - x_t-1)
            loss = loss + args.temporal_weight * (w[:, :, 1:] * d_err.abs()).mean()
        if args.centroid_weight:
            bg = batch.backgrounds
            # the object's neighbourhood: its ringed mask grown by 6 more pixels
            window = torch.nn.functional.max_pool2d(batch.masks, 13, stride=1, padding=6)
            c_rec, _ = soft_centroids(rec, bg, window)
            c_true, mass = soft_centroids(x, bg, window)
            present = (mass > 2.0).float()[..., None]  # frames whose (cropped) object is visible
            l_cent = ((c_rec - c_true).abs() * present).sum() / present.sum().clamp(min=1)
            loss = loss + args.centroid_weight * l_cent
        if args.colour_weight:
            # w - 1 is the (ringed) object mask times obj_weight: compare mask-weighted mean colours
            m = (w - 1).clamp(min=0)
            area = m.sum(dim=(3, 4)).clamp(min=1e-3)
            col_err = ((rec * m).sum(dim=(3, 4)) - (x * m).sum(dim=(3, 4))) / area
            loss = loss + args.colour_weight * col_err.abs().mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 25 == 0 or step == args.steps - 1:
            el = time.time() - t0
            print(f'step {step:5d} rec {l_rec.item():.4f} kl {kl.item():.3f} '
                  f'mae {err.abs().mean().item():.4f}' + (f' centroid {l_cent.item():.3f}px' if args.centroid_weight else '')
                  + f' {el:.0f}s', flush=True)
            log.append(dict(step=step, rec=l_rec.item(), kl=kl.item(), mae=err.abs().mean().item(), seconds=el))
    train_s = time.time() - t0
    model.eval()
    torch.save(model.state_dict(), f'{OUT}/vae{args.tag}.pt')
    # latent statistics on fresh clips (indices past the training range)
    mus, maes = [], []
    with torch.no_grad():
        for j in range(0, args.stats_clips, 16):
            vids = torch.from_numpy(np.stack([make_clip(DATA_SEED, 10_000_000 + j + i)['video'] for i in range(16)]))
            mu, _ = model.encode_raw(vids)
            mus.append(mu)
            if j < 64:
                maes.append((model.decode_raw(mu).clamp(-1, 1) - vids).abs().mean().item())
    mu = torch.cat(mus)
    mean = mu.mean(dim=(0, 2, 3, 4))
    std = mu.std(dim=(0, 2, 3, 4))
    stats = dict(args=vars(args), deterministic=args.deterministic, mean=mean.tolist(), std=std.tolist(), heldout_recon_mae=float(np.mean(maes)),
                 train_seconds=train_s, steps=args.steps, batch=args.bs, lr=args.lr, kl_weight=args.kl, log=log)
    stats['steps_done'] = step + 1
    save_json(f'{OUT}/vae_stats{args.tag}.json', stats)
    print(f'done in {train_s:.0f}s; recon MAE on fresh clips {stats["heldout_recon_mae"]:.4f}')
    print('mean', [round(v, 3) for v in stats['mean']])
    print('std', [round(v, 3) for v in stats['std']])


if __name__ == '__main__':
    main()
