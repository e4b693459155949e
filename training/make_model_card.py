"""Write samples/demo-model/model_card.md (geometry v2: samples/demo-model-v2/model_card.md) from the
training logs in the training out dir, the exported files and the frame strips' adherence JSON.

--dit-tag TAG (e.g. _v2c): the DiT phase that was exported; the card lists the phases up to it.
"""
import argparse
import json
import os

from common import CKPT, FRAMES_DIR, OUT, T5_CONFIG, TEXT_LEN, VAE_CONFIG
from dataset import CENTRED_JITTER, FRAMES, GEOMETRY, HELD_OUT, SIZE

J = lambda p: json.load(open(p)) if os.path.exists(p) else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dit-tag', default=None, help='the exported DiT phase (e.g. _v2c); default: the last one logged')
    args = ap.parse_args()
    card = os.path.join(CKPT, '..', 'model_card.md')
    vae_choice = J(f'{OUT}/vae_choice.json') or {}
    dit_tags = ('_v2', '_v3', '_v6', '_v7') if GEOMETRY == 'tiny' else ('_v2a', '_v2b', '_v2c', '_v2d', '_v2e', '_v2f', '_v2g')
    if args.dit_tag in dit_tags:
        dit_tags = dit_tags[:dit_tags.index(args.dit_tag) + 1]
    dit_logs = [(t, J(f'{OUT}/dit_log{t}.json')) for t in dit_tags]
    adh = J(os.path.join(FRAMES_DIR, 'adherence_pytorch.json'))
    v2 = GEOMETRY != 'tiny'
    lt, lh = 1 + (FRAMES - 1) // 4, SIZE // 8
    tokens = lt * lh * lh // 4
    ref = J(os.path.join(CKPT, '..', 'reference', 'settings.json'))
    files = []
    for root, _, fs in os.walk(CKPT):
        for f in sorted(fs):
            p = os.path.join(root, f)
            files.append((os.path.relpath(p, CKPT), os.path.getsize(p)))
    L = []
    if v2:
        L.append('# diffsparse demo model v2 (`wan-demo`, the default; Wan2.1 architecture, trained on procedural shapes)\n')
        L.append(f'A small text-to-video model with the exact Wan2.1 T2V architecture and release file formats, trained '
                 f'on CPU in this repository (`training/run_v2.sh`): {SIZE}×{SIZE}, {FRAMES} frames, {tokens} DiT tokens per '
                 'video, so that token-level sparsity has background tokens to skip. It draws one coloured shape moving '
                 'in a straight line. Its DiT and VAE were continued from the tiny demo model\'s (`wan-demo-tiny`, '
                 '`samples/demo-model/`, 48 tokens), which stays as the faster pipeline for tests.\n')
    else:
        L.append('# diffsparse demo model, tiny (`wan-demo-tiny`; Wan2.1 architecture, trained on procedural shapes)\n')
        L.append('A very small text-to-video model with the exact Wan2.1 T2V architecture and release file '
                 'formats, trained from scratch on CPU in this repository (`training/`). It draws one '
                 'coloured shape moving in a straight line; it exists so the pipeline, the token-sparsity '
                 'code and the evaluations have a real trained model to run in seconds.\n')
    L.append('## Files (`checkpoint/`, release formats)\n')
    L.append('| file | bytes |\n|---|---:|')
    L += [f'| `{f}` | {n:,} |' for f, n in files]
    L.append(f'\nTotal: {sum(n for _, n in files) / 1e6:.2f} MB.\n')
    L.append('## Architecture\n')
    dit_config = {k: v for k, v in json.load(open(os.path.join(CKPT, 'config.json'))).items() if not k.startswith('_')}
    L.append(f'- DiT `WanModel` t2v: {json.dumps(dit_config)}')
    L.append(f'- VAE `WanVAE_`: {json.dumps(VAE_CONFIG)}; latent mean/std in `vae_config.json` '
             '(wrapper `scale = [mean, 1/std]`).')
    L.append(f'- Text encoder `T5Encoder` (umT5 layout, frozen random weights from the official init, '
             f'seed 3, stored bf16): {json.dumps(dict(T5_CONFIG, vocab=40))}, text_len {TEXT_LEN}; '
             'word-level Unigram `tokenizer.json` (pad 0, eos 1, unk 2; NFKC + lowercase normalizer, Metaspace).')
    L.append(f'- Video: {FRAMES} frames of {SIZE}×{SIZE} (latent 16×{lt}×{lh}×{lh}, {tokens} tokens).\n')
    L.append('## Default generation settings\n')
    if ref:
        L.append(f'UniPC (release scheduler), {ref["steps"]} steps, shift {ref["shift"]}, guidance '
                 f'{ref["guide_scale"]}, negative prompt `"{ref["negative_prompt"]}"` (the empty prompt the '
                 f'caption dropout was trained with), {SIZE}×{SIZE}, {FRAMES} frames.\n')
    L.append('## Data\n')
    L.append('Procedural clips (`training/dataset.py`): circle/square/triangle; red, green, blue, yellow, '
             'white, purple; small/large; left/right/up/down; slow/fast; dark/light background. The VAE learnt '
             f'from paths placed anywhere in the frame; the DiT{"" if v2 else " (from v6 on)"} from paths whose middle is the frame '
             f'centre, moved by up to ±{CENTRED_JITTER:g} px, so the caption decides where the object is in each frame. Held-out '
             '(colour, shape, direction) triples never seen in training: '
             + ', '.join(' '.join(t) for t in HELD_OUT) + '.\n')
    L.append('## Training (CPU, 2 cores, `nice -n 5`, 1 torch thread per process)\n')
    # the shipped VAE is a chain of runs, each started from the previous one's weights
    vae_stages = (
        ('_l', 'VAE from the tiny model\'s, joint fine-tune on 17-frame clips in 64×64 windows with a frame-difference loss'),
        ('_m', 'the same without the frame-difference loss (the one continued)'),
        ('_p', 'joint fine-tune from m: 5-frame clips at the full 128×128 and 17-frame clips in 64×64 windows'),
        ('_r', 'decoder fine-tune from p (encoder frozen), object pixels weighted more'),
    ) if GEOMETRY != 'tiny' else (
        ('_b', 'VAE, joint encoder + decoder training from scratch'),
        ('_g', 'decoder fine-tune (encoder frozen)'),
        ('_h', 'decoder fine-tune, object pixels weighted more (the decoder washed colours out to grey)'),
        ('_i', 'decoder fine-tune, same loss, lower lr'),
        ('_j', 'joint training resumed, plus a per-frame mean-object-colour loss and latent noise '
               '(a smoother latent space, a decoder that tolerates imperfect DiT samples)'),
    )
    for tag, what in vae_stages:
        v = J(f'{OUT}/vae_stats{tag}.json')
        if not v:
            continue
        a = v.get('args', {})
        extra = [f'object weight {a.get("obj_weight", 8):g}']
        if a.get('colour_weight'):
            extra.append(f'colour weight {a["colour_weight"]:g}')
        if a.get('latent_noise'):
            extra.append(f'latent noise {a["latent_noise"]:g}')
        # a run stopped by its time limit records the index of the step it did not take
        done = v['steps_done'] - (v['steps_done'] < v['steps'])
        L.append(f'- {what} (`{tag[1:]}`): {done} steps, AdamW OneCycle lr {v["lr"]}, '
                 f'{", ".join(extra)}; {v["train_seconds"] / 60:.1f} min; reconstruction MAE on fresh clips '
                 f'{v["heldout_recon_mae"]:.4f}.')
    if vae_choice:
        L.append(f'- VAE shipped: `{vae_choice.get("tag")}` ({vae_choice.get("why", "lowest reconstruction MAE")}).')
    for t, d in dit_logs:
        if d:
            mult = d.get('args', {}).get('text_lr_mult', 1.0)
            ffw = d.get('args', {}).get('first_frame_weight', 1.0)
            stage = {'_v2a': 'DiT, continued from the tiny model\'s DiT v7 at 320 tokens',
                     '_v2b': 'DiT, continued', '_v2c': 'DiT, continued', '_v2d': 'DiT, continued',
                     '_v2e': 'DiT, continued',
                     '_v2f': 'DiT grown from 3 to 6 blocks (a zero-initialised block after each trained one, '
                             'so it starts as the same function), continued',
                     '_v2g': 'DiT (6 blocks), continued',
                     '_v2': 'DiT from scratch', '_v3': 'DiT, continued from that snapshot',
                     '_v6': 'DiT, continued on centred-path clips', '_v7': 'DiT, continued with the object-weighted loss'}[t]
            ow = d.get('args', {}).get('object_weight', 0.0)
            note = f' ({d["note"]})' if d.get('note') else ''
            L.append(f'- {stage}: {d["steps_done"]} steps, batch {d["bs"]} ({d["world"]} data-parallel '
                     f'processes), AdamW lr {d["lr"]}'
                     f'{f" (×{mult:g} on text_embedding, cross-attention, norm3)" if mult != 1 else ""} cosine, '
                     f'EMA {d["ema"]}, caption dropout {d["caption_dropout"]}, '
                     f'{f"latent frame 0 loss ×{ffw:g}, " if ffw != 1 else ""}'
                     f'{f"object latent pixels ×(1 + {ow:g}·coverage), " if ow else ""}'
                     f'{d["n_latents"]} clips; {d["train_seconds"] / 60:.1f} min; final loss {d["final_loss"]:.4f}'
                     f'{note}.')
    if args.dit_tag:
        L.append(f'- DiT shipped: the EMA weights of phase `{args.dit_tag[1:]}`.')
    L.append(f'\nSeeds: data 20261128, VAE 1, DiT 2 (batch generator 1234), T5 3. Commands: '
             f'`training/{"run_v2.sh" if v2 else "run_all.sh"}`{", shipped with `training/ship_v2.sh`" if v2 else ""}, '
             'times in `training/README.md`.\n')
    if adh:
        L.append('## Prompt adherence (PyTorch sampler, held-out captions)\n')
        L.append(f'{len(adh["rows"])} generations ({adh["seeds"]} seeds × 8 held-out captions), {adh["steps"]} steps, '
                 f'shift {adh["shift"]}, guidance {adh["guide"]}; measured from the frames '
                 'without any network (`training/adherence.py`'
                 f'{", the same measurement as `npm run bench -- adherence`" if "shape_acc" in adh else ""}).\n')
        n = len(adh['rows'])
        L.append('| measure | accuracy | chance |\n|---|---:|---:|')
        L.append(f'| colour | {adh["colour_acc"]:.2f} ({round(adh["colour_acc"] * n)}/{n}) | {adh["chance_colour"]:.2f} |')
        L.append(f'| direction | {adh["direction_acc"]:.2f} ({round(adh["direction_acc"] * n)}/{n}) | {adh["chance_direction"]:.2f} |')
        if 'shape_acc' in adh:
            L.append(f'| shape | {adh["shape_acc"]:.2f} ({round(adh["shape_acc"] * n)}/{n}) | {adh["chance_shape"]:.2f} |')
            L.append(f'| continuity (one object in every frame, no jumps) | {adh["continuity_acc"]:.2f} '
                     f'({round(adh["continuity_acc"] * n)}/{n}) | – |')
            L.append(f'| colour stable across frames | {adh["colour_stable_acc"]:.2f} '
                     f'({round(adh["colour_stable_acc"] * n)}/{n}) | – |')
            L.append(f'| all of the above | {adh["all_acc"]:.2f} ({round(adh["all_acc"] * n)}/{n}) | – |')
        L.append('')
        frames_rel = os.path.relpath(FRAMES_DIR, os.path.join(CKPT, '..'))
        L.append(f'Frame strips of seed 0 for each held-out caption: [`{frames_rel}/`]({frames_rel}).\n')
    L.append('## Limits\n')
    L.append(f'Toy model: blurry shapes, {SIZE}×{SIZE}, {FRAMES} frames, only the caption vocabulary of the dataset '
             f'(other words map to `<unk>`). Not for anything but demos, tests and benchmarks.\n')
    if adh and v2:
        L.append('The numbers above are the PyTorch sampler\'s; the README gives the TypeScript pipeline\'s '
                 '(`npm run bench -- adherence`). Look at the frame strips before trusting any of them: the '
                 'measurement can call a fragmented blob that drifts the right way a correct direction.\n')
    if adh and GEOMETRY == 'tiny':
        L.append(f'On held-out captions the model draws the caption\'s motion direction in {adh["direction_acc"]:.0%} of '
                 f'clips (chance {adh["chance_direction"]:.0%}) and its colour in {adh["colour_acc"]:.0%} (chance '
                 f'{adh["chance_colour"]:.0%}). What it does not do well yet:\n')
        L.append('- Shapes come out as rounded blobs: circle, square and triangle are hard to tell apart.')
        misses = [r for r in adh['rows'] if r['colour'] != r['caption'].split()[1]]
        purple = sum(r['colour'] == 'purple' and r['caption'].split()[1] in ('red', 'blue') for r in misses)
        L.append(f'- Red and blue are sometimes drawn purple ({purple} of the {len(misses)} colour misses above).')
        L.append('- The path always crosses the frame centre: the DiT learnt from centred paths (a 0.5M-parameter '
                 'DiT trained for 70 CPU minutes on paths placed anywhere did not produce coherent motion from noise).')
        L.append('- The object can jump or smear between video frames 4 and 5 (the boundary between the second and '
                 'third latent frames).\n')
    tmp = card + '.tmp'
    open(tmp, 'w').write('\n'.join(L))
    os.replace(tmp, card)
    print('wrote', os.path.normpath(card))


if __name__ == '__main__':
    main()
