"""PyTorch reference generations of the exported demo model, for TypeScript parity.

Loads the release-format files from samples/demo-model/checkpoint/ (not the training
checkpoints), so it also proves the export. For each caption writes
samples/demo-model/reference/<name>/:
  ids.npy, mask.npy              [text_len] int64 tokenizer output ($A </s>, pad 0)
  context.npy                    [L, 64] trimmed T5 output (L = mask.sum())
  neg_ids.npy, neg_mask.npy, neg_context.npy   the same for the negative prompt ''
  noise.npy                      [16, 3, 8, 8] initial latent: torch.randn, CPU generator seeded SEED
  timesteps.npy (int64), sigmas.npy              UniPC schedule
  noise_pred_cond_step0.npy, noise_pred_uncond_step0.npy   DiT outputs at step 0
  latents.npy                    [steps, 16, 3, 8, 8] latent after each scheduler step
  final_latent.npy               [16, 3, 8, 8] (= latents[-1])
  video.npy                      [3, 9, 64, 64] decoded, clamped to [-1, 1]

A larger geometry (v2: 128x128, 17 frames, latent 16x5x16x16) keeps the committed reference small:
one caption, latents.npy only at the steps listed in settings.json's `latent_steps`, and video.npy
stored as float16 (rounding error at most 2.4e-4 in [-1, 1], a quarter of the 1e-3 video tolerance;
the test widens it back to float32).
"""
import os
import numpy as np
import torch

from common import CKPT, GUIDANCE, NEGATIVE_PROMPT, save_json
from dataset import FRAMES, SIZE
from load_release import load_all
from sampling import generate

REF = os.path.normpath(os.path.join(CKPT, '..', 'reference'))
SEED = 42
STEPS, SHIFT, GUIDE = 20, 5.0, GUIDANCE
LATENT_SHAPE = (16, 1 + (FRAMES - 1) // 4, SIZE // 8, SIZE // 8)  # the geometry's frames and size (tiny: 16x3x8x8)
SMALL = FRAMES * SIZE * SIZE <= 9 * 64 * 64
CAPTIONS = {'red_circle_right': 'a red circle moving right', 'blue_triangle_up': 'a blue triangle moving up'}
if not SMALL:
    del CAPTIONS['blue_triangle_up']  # one caption keeps the committed reference of a larger geometry small
# steps whose latent is kept: all for the tiny model; for a larger one both solver orders at the start, and a few after
LATENT_STEPS = list(range(STEPS)) if SMALL else [0, 1, 2, 5, 10, 15, STEPS - 1]
VIDEO_DTYPE = np.float32 if SMALL else np.float16


def context_of(m, text):
    ids, mask = m['tokenizer'](text, m['t5_config']['text_len'])
    with torch.no_grad():
        out = m['t5'](torch.from_numpy(ids)[None], torch.from_numpy(mask)[None])[0]
    trimmed = out[:int(mask.sum())]
    return ids, mask, trimmed, m['dit'].pad_context(trimmed[None])


def main():
    torch.set_num_threads(1)
    m = load_all()
    n_ids, n_mask, n_ctx, n_pad = context_of(m, NEGATIVE_PROMPT)
    summary = {}
    for name, text in CAPTIONS.items():
        d = os.path.join(REF, name)
        os.makedirs(d, exist_ok=True)
        ids, mask, ctx, pad = context_of(m, text)
        noise = torch.randn(LATENT_SHAPE, generator=torch.Generator().manual_seed(SEED))
        rec = []
        final, sched = generate(m['dit'], pad, n_pad, noise[None], STEPS, SHIFT, GUIDE, record=rec)
        with torch.no_grad():
            video = m['vae'].decode(final)[0]
        arrays = dict(ids=ids, mask=mask, context=ctx.numpy(), neg_ids=n_ids, neg_mask=n_mask,
                      neg_context=n_ctx.numpy(), noise=noise.numpy(), timesteps=sched.timesteps,
                      sigmas=sched.sigmas, noise_pred_cond_step0=rec[0]['cond'][0].numpy(),
                      noise_pred_uncond_step0=rec[0]['uncond'][0].numpy(),
                      latents=torch.stack([rec[i]['latent'][0] for i in LATENT_STEPS]).numpy(),
                      final_latent=final[0].numpy(), video=video.numpy().astype(VIDEO_DTYPE))
        for k, v in arrays.items():
            np.save(os.path.join(d, f'{k}.npy'), v)
        summary[name] = dict(caption=text, files=sorted(f'{k}.npy' for k in arrays))
        print(name, 'video range', float(video.min()), float(video.max()))
    save_json(os.path.join(REF, 'settings.json'), dict(
        seed=SEED, noise=f'torch.randn({",".join(map(str, LATENT_SHAPE))}, generator=torch.Generator().manual_seed(42)), float32',
        steps=STEPS, shift=SHIFT, guide_scale=GUIDE, solver='unipc (release FlowUniPCMultistepScheduler: bh2, '
        'order 2, lower_order_final, predict_x0; sigma_max 0.999)', negative_prompt=NEGATIVE_PROMPT,
        size_wh=[SIZE, SIZE], frame_num=FRAMES, latent_shape=list(LATENT_SHAPE), latent_steps=LATENT_STEPS,
        video_dtype=np.dtype(VIDEO_DTYPE).name, text_len=m['t5_config']['text_len'],
        dit_timestep='int64-truncated sigma*1000 (fed as float)', cfg='uncond + g*(cond - uncond), two batch-1 passes',
        precision='float32 everywhere; T5 from its bf16 weights widened to float32', captions=summary))


if __name__ == '__main__':
    main()
