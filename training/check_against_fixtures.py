"""Check the training re-implementations (wan_modules/) against the official-code fixtures.

Run from training/: /usr/bin/python3 check_against_fixtures.py
Exits non-zero if any comparison exceeds the fixture README tolerance (atol 1e-4).
"""
import json
import os
import sys
import numpy as np
import torch

from safetensors_np import read_safetensors
from wan_modules.dit import WanModel
from wan_modules.vae import WanVAE_, WanVAE
from wan_modules.t5 import T5Encoder, relative_buckets
from sampling import UniPC, unipc_sigmas

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.normpath(os.path.join(HERE, '..', '..', 'shared', 'fixtures', 'wan21-tiny'))
ATOL = 1e-4
results = []


def load(rel):
    return np.load(os.path.join(FIX, rel))


def compare(name, got, want, atol=ATOL):
    got = got.detach().numpy() if torch.is_tensor(got) else np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f'{name}: shape {got.shape} vs {want.shape}'
    diff = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
    ok = diff <= atol
    results.append((name, diff, ok))
    print(f'{"ok  " if ok else "FAIL"} {name:34s} max|diff| = {diff:.3e}')


def check_dit():
    cfg = json.load(open(os.path.join(FIX, 'dit', 'config.json')))
    keys = ['model_type', 'patch_size', 'text_len', 'in_dim', 'dim', 'ffn_dim', 'freq_dim', 'text_dim',
            'out_dim', 'num_heads', 'num_layers', 'window_size', 'qk_norm', 'cross_attn_norm', 'eps']
    model = WanModel(**{k: cfg[k] for k in keys}).eval()
    sd = {k: torch.from_numpy(v) for k, v in read_safetensors(os.path.join(FIX, 'dit', 'wan21_tiny_dit.safetensors')).items()}
    model.load_state_dict(sd, strict=True)
    x = torch.from_numpy(load('dit/x.npy'))[None]
    ctx = torch.from_numpy(load('dit/context.npy'))[None]
    for case in ('A', 'B'):
        t = torch.from_numpy(load(f'dit/case{case}_t.npy')).double()
        rec = {}
        with torch.no_grad():
            out = model(x, t, ctx, record=rec)[0]
        compare(f'dit case{case}_out', out, load(f'dit/case{case}_out.npy'))
        compare(f'dit case{case}_e0', rec['e0'], load(f'dit/case{case}_e0.npy'))
        if case == 'A':
            compare('dit caseA_x_embed', rec['x_embed'], load('dit/caseA_x_embed.npy'))
            compare('dit caseA_context_embed', rec['context_embed'], load('dit/caseA_context_embed.npy'))
            compare('dit caseA_block_outputs', torch.stack(rec['blocks']), load('dit/caseA_block_outputs.npy'))
            compare('dit caseA_blk0_self_q_rope', rec['blk0']['q_rope'], load('dit/caseA_blk0_self_q_rope.npy'))
            compare('dit caseA_blk0_cross_attn', rec['blk0']['cross'], load('dit/caseA_blk0_cross_attn.npy'))
            compare('dit caseA_head_out', rec['head_out'], load('dit/caseA_head_out.npy'))


def check_vae():
    model = WanVAE_(dim=8, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[],
                    temperal_downsample=[False, True, True], dropout=0.0).eval()
    model.load_state_dict(torch.load(os.path.join(FIX, 'vae', 'wan21_tiny_vae.pth'), map_location='cpu'), strict=True)
    man = json.load(open(os.path.join(FIX, 'manifest.json')))['fixtures']['vae']['wrapper']
    vae = WanVAE(model, man['mean'], man['std'])
    z = torch.from_numpy(load('vae/latent.npy'))
    chunks = {}
    with torch.no_grad():
        zu = z / vae._view(vae.inv_std) + vae._view(vae.mean)
        compare('vae decode_z_unscaled', zu, load('vae/decode_z_unscaled.npy'))
        raw = model.decode_raw(zu, chunk_hook=lambda i, o: chunks.__setitem__(i, o))
        for i in range(3):
            compare(f'vae decode_chunk{i}', chunks[i], load(f'vae/decode_chunk{i}.npy'))
        compare('vae decode_raw', raw, load('vae/decode_raw.npy'))
        compare('vae decode', vae.decode(z), load('vae/decode.npy'))
        video = torch.from_numpy(load('vae/encode_input.npy'))
        compare('vae encode_mu', vae.encode(video), load('vae/encode_mu.npy'))


def check_t5():
    model = T5Encoder(vocab=300, dim=32, dim_attn=32, dim_ffn=64, num_heads=4, num_layers=2, num_buckets=32,
                      shared_pos=False, dropout=0.0).eval()
    sd = torch.load(os.path.join(FIX, 't5', 'umt5_tiny_enc_bf16.pth'), map_location='cpu')
    model.load_state_dict(sd, strict=True)
    model.float()
    ids = torch.from_numpy(load('t5/ids.npy'))
    mask = torch.from_numpy(load('t5/mask.npy'))
    compare('t5 rel_buckets', relative_buckets(24, 24), load('t5/rel_buckets.npy'), atol=0)
    rec = []
    with torch.no_grad():
        out = model(ids, mask, record=rec)
    compare('t5 hidden_after_block0', rec[0], load('t5/hidden_after_block0.npy'))
    compare('t5 output_padded', out, load('t5/output_padded.npy'))
    compare('t5 output_0 (trimmed)', out[0, :10], load('t5/output_0.npy'))
    compare('t5 output_1 (trimmed)', out[1, :17], load('t5/output_1.npy'))


def check_unipc():
    for n in (8, 50):
        sig, ts = unipc_sigmas(n, 5.0)
        compare(f'unipc_{n} sigmas', sig, load(f'schedules/unipc_{n}_sigmas.npy'), atol=0)
        compare(f'unipc_{n} timesteps', ts, load(f'schedules/unipc_{n}_timesteps.npy'), atol=0)
    # scheduler alone: golden noise_pred in, latents out (README tolerance 1e-5 per step)
    sched = UniPC(8, 5.0)
    x = torch.from_numpy(load('sampler_unipc/noise.npy'))
    pred = load('sampler_unipc/noise_pred.npy')
    outs = []
    for i in range(8):
        x, _ = sched.step(torch.from_numpy(pred[i]), x)
        outs.append(x)
    compare('unipc latents (scheduler alone)', torch.stack(outs), load('sampler_unipc/latents.npy'), atol=1e-5)


if __name__ == '__main__':
    torch.set_num_threads(2)
    check_dit()
    check_vae()
    check_t5()
    check_unipc()
    bad = [r for r in results if not r[2]]
    print(f'{len(results) - len(bad)}/{len(results)} comparisons within tolerance')
    sys.exit(1 if bad else 0)
