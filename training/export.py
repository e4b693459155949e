"""Export the trained demo model in the Wan2.1 release formats.

samples/demo-model/checkpoint/
  diffusion_pytorch_model.safetensors  DiT, F32, original key names, __metadata__ {format: pt}
  config.json                          diffusers-style WanModel config, every field explicit
  Wan2.1_VAE.pth                       torch.save(WanVAE_.state_dict()), float32
  vae_config.json                      constructor args + latent mean/std (the wrapper's scale)
  models_t5_umt5-xxl-enc-bf16.pth      torch.save(T5Encoder.state_dict()) in bfloat16
  t5_config.json                       constructor args + text_len + tokenizer ids
  google/umt5-xxl/tokenizer.json       umT5-format (Unigram) tokenizer, release folder layout
  diffsparse.json                      pipeline name, defaults and trained sizes (`diffsparse convert` copies them)

--dit PATH exports another DiT state dict than <out>/dit.pt (e.g. out-v2/dit_v2c.pt), without touching <out>/.
"""
import argparse
import json
import os
import torch

from common import CKPT, GUIDANCE, OUT, dit_config_for, T5_CONFIG, TEXT_LEN, VAE_CONFIG, NEGATIVE_PROMPT, save_json
from dataset import FRAMES, GEOMETRY, SIZE
from safetensors_np import write_safetensors
from text_encoder import EOS, PAD, UNK, Tokenizer, build_tokenizer_json, make_encoder
from wan_modules.dit import WanModel
from wan_modules.vae import WanVAE_


def torch_save(obj, path):
    # torch names the zip's inner folder after the file stem; write under the final
    # name in a scratch folder (so the prefix is e.g. 'Wan2.1_VAE/'), then rename into place
    tmpdir = os.path.join(os.path.dirname(path), '.export-tmp')
    os.makedirs(tmpdir, exist_ok=True)
    tmp = os.path.join(tmpdir, os.path.basename(path))
    torch.save(obj, tmp)
    os.replace(tmp, path)
    os.rmdir(tmpdir)


# the pipeline each geometry ships as: v2 is the default built-in pipeline, tiny the fast one for tests
PIPELINE_NAMES = {'tiny': 'wan-demo-tiny', 'v2': 'wan-demo'}
DESCRIPTIONS = {
    'tiny': 'Built-in demo, tiny and fast (64x64, 9 frames): a small Wan2.1-architecture model trained on procedural '
            'shape videos (see model_card.md)',
    'v2': 'Built-in demo (default; 128x128, 17 frames): a small Wan2.1-architecture model trained on procedural shape '
          'videos (see model_card.md)',
}


def diffsparse_json():
    """What `diffsparse convert` copies into the converted pipeline.json: name, defaults, trained sizes."""
    return {
        'name': PIPELINE_NAMES[GEOMETRY],
        'description': DESCRIPTIONS[GEOMETRY],
        'defaults': {'width': SIZE, 'height': SIZE, 'frames': FRAMES, 'steps': 20, 'shift': 5, 'guidance': GUIDANCE,
                     'solver': 'unipc', 'fps': 8},
        'trained': {'sizes': [f'{SIZE}x{SIZE}'], 'frames': [FRAMES],
                    'source': f'model_card.md: procedural shape clips, {FRAMES} frames of {SIZE}x{SIZE}'},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dit', default=f'{OUT}/dit.pt', help='DiT state dict to export (default <out>/dit.pt)')
    args = ap.parse_args()
    os.makedirs(os.path.join(CKPT, 'google', 'umt5-xxl'), exist_ok=True)
    # DiT: load through the module so the key set is exactly WanModel.state_dict()
    state = torch.load(args.dit, map_location='cpu')
    print('DiT', args.dit)
    dit_config = dit_config_for(state)
    dit = WanModel(**dit_config)
    dit.load_state_dict(state, strict=True)
    write_safetensors(os.path.join(CKPT, 'diffusion_pytorch_model.safetensors'),
                      {k: v.detach().float().numpy() for k, v in dit.state_dict().items()},
                      metadata={'format': 'pt'})
    cfg = {'_class_name': 'WanModel', '_diffusers_version': '0.30.0'}
    cfg.update({k: dit_config[k] for k in ['dim', 'eps', 'ffn_dim', 'freq_dim', 'in_dim', 'model_type', 'num_heads',
                                           'num_layers', 'out_dim', 'text_len', 'text_dim', 'patch_size',
                                           'window_size', 'qk_norm', 'cross_attn_norm']})
    save_json(os.path.join(CKPT, 'config.json'), cfg)

    vae = WanVAE_(**VAE_CONFIG)
    vae.load_state_dict(torch.load(f'{OUT}/vae.pt'), strict=True)
    torch_save(vae.state_dict(), os.path.join(CKPT, 'Wan2.1_VAE.pth'))
    stats = json.load(open(f'{OUT}/latent_stats.json'))
    save_json(os.path.join(CKPT, 'vae_config.json'), dict(
        VAE_CONFIG, mean=stats['mean'], std=stats['std'], vae_stride=[4, 8, 8],
        note='WanVAE wrapper: scale = [mean, 1/std]; encode (mu-mean)/std, decode z*std+mean'))

    tok = Tokenizer()
    t5 = make_encoder(tok.vocab_size)
    torch_save({k: v.to(torch.bfloat16) for k, v in t5.state_dict().items()},
               os.path.join(CKPT, 'models_t5_umt5-xxl-enc-bf16.pth'))
    save_json(os.path.join(CKPT, 't5_config.json'), dict(
        T5_CONFIG, vocab=tok.vocab_size, text_len=TEXT_LEN, pad_id=PAD, eos_id=EOS, unk_id=UNK,
        negative_prompt=NEGATIVE_PROMPT))
    with open(os.path.join(CKPT, 'google', 'umt5-xxl', 'tokenizer.json.tmp'), 'w', encoding='utf-8') as f:
        json.dump(build_tokenizer_json(), f, ensure_ascii=False, indent=1)
    os.replace(os.path.join(CKPT, 'google', 'umt5-xxl', 'tokenizer.json.tmp'),
               os.path.join(CKPT, 'google', 'umt5-xxl', 'tokenizer.json'))
    save_json(os.path.join(CKPT, 'diffsparse.json'), diffsparse_json())
    for root, _, files in os.walk(CKPT):
        for fn in sorted(files):
            p = os.path.join(root, fn)
            print(f'{os.path.relpath(p, CKPT):45s} {os.path.getsize(p):>10,d} bytes')


if __name__ == '__main__':
    main()
