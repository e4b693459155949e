"""Load the exported release-format files back (what the TypeScript converter reads)."""
import json
import os
import torch

from common import CKPT
from safetensors_np import read_safetensors
from text_encoder import Tokenizer
from wan_modules.dit import WanModel
from wan_modules.t5 import T5Encoder
from wan_modules.vae import WanVAE, WanVAE_


def load_all(ckpt=CKPT):
    cfg = json.load(open(os.path.join(ckpt, 'config.json')))
    dit = WanModel(**{k: v for k, v in cfg.items() if not k.startswith('_')}).eval()
    sd = {k: torch.from_numpy(v) for k, v in read_safetensors(os.path.join(ckpt, 'diffusion_pytorch_model.safetensors')).items()}
    dit.load_state_dict(sd, strict=True)
    vcfg = json.load(open(os.path.join(ckpt, 'vae_config.json')))
    vae_m = WanVAE_(**{k: vcfg[k] for k in ['dim', 'z_dim', 'dim_mult', 'num_res_blocks', 'attn_scales',
                                            'temperal_downsample', 'dropout']}).eval()
    vae_m.load_state_dict(torch.load(os.path.join(ckpt, 'Wan2.1_VAE.pth'), map_location='cpu'), strict=True)
    vae = WanVAE(vae_m, vcfg['mean'], vcfg['std'])
    tcfg = json.load(open(os.path.join(ckpt, 't5_config.json')))
    t5 = T5Encoder(**{k: tcfg[k] for k in ['vocab', 'dim', 'dim_attn', 'dim_ffn', 'num_heads', 'num_layers',
                                           'num_buckets', 'shared_pos', 'dropout']}).eval()
    t5.load_state_dict(torch.load(os.path.join(ckpt, 'models_t5_umt5-xxl-enc-bf16.pth'), map_location='cpu'), strict=True)
    t5.float()  # bf16 weights, float32 compute
    return dict(dit=dit, vae=vae, t5=t5, tokenizer=Tokenizer(), config=cfg, t5_config=tcfg, vae_config=vcfg)
