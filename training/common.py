"""Shared settings and helpers for the demo-model training scripts."""
import json
import os
import random
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
from dataset import GEOMETRY
# intermediate artefacts (not committed); one folder per video geometry (dataset.GEOMETRIES)
OUT = os.environ.get('DEMO_TRAIN_OUT', os.path.join(HERE, 'out' if GEOMETRY == 'tiny' else f'out-{GEOMETRY}'))
# DEMO_CKPT lets a re-export go to a staging copy of samples/ first (reference/, frames/ and the card follow it)
_MODEL_DIR = 'demo-model' if GEOMETRY == 'tiny' else f'demo-model-{GEOMETRY}'
CKPT = os.path.normpath(os.environ.get('DEMO_CKPT', os.path.join(HERE, '..', 'samples', _MODEL_DIR, 'checkpoint')))
# frame strips of the held-out captions: samples/frames/ for the tiny model, samples/frames/<geometry>/ otherwise
FRAMES_DIR = os.path.normpath(os.path.join(CKPT, '..', '..', 'frames', *([] if GEOMETRY == 'tiny' else [GEOMETRY])))

DATA_SEED = 20261128
VAE_CONFIG = dict(dim=8, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[],
                  temperal_downsample=[False, True, True], dropout=0.0)
T5_CONFIG = dict(vocab=None, dim=64, dim_attn=64, dim_ffn=128, num_heads=4, num_layers=2, num_buckets=32,
                 shared_pos=False, dropout=0.0)
TEXT_LEN = 32
DIT_CONFIG = dict(model_type='t2v', patch_size=[1, 2, 2], text_len=TEXT_LEN, in_dim=16, dim=96, ffn_dim=256,
                  freq_dim=256, text_dim=64, out_dim=16, num_heads=4, num_layers=3, window_size=[-1, -1],
                  qk_norm=True, cross_attn_norm=True, eps=1e-6)


def dit_config_for(state_dict):
    """DIT_CONFIG with num_layers read from a DiT state dict (a grown DiT has more blocks than the default)."""
    blocks = {int(k.split('.')[1]) for k in state_dict if k.startswith('blocks.')}
    return dict(DIT_CONFIG, num_layers=max(blocks) + 1)


NEGATIVE_PROMPT = ''  # the demo model's unconditional prompt (trained with caption dropout to it)
# Default classifier-free guidance of each geometry's pipeline. v2: 2, chosen on 8 training-split captions
# x 3 seeds (eval_dit.py --set train) with the 6-block DiT after 50 min: guidance 5 / 4 / 3 / 2 / 1.5 / 1 kept
# 2 / 5 / 11 / 15 / 18 / 17 of 24 clips continuous at about the same colour and direction accuracy
# (22-23 / 18-21 of 24); stronger guidance tears the object apart.
GUIDANCE = {'tiny': 5.0, 'v2': 2.0}[GEOMETRY]


def setup(seed):
    # one thread: on the shared 2-core box, 2 OpenMP threads ran ~10x slower (spin-waits under contention)
    torch.set_num_threads(1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    os.makedirs(OUT, exist_ok=True)


def save_json(path, obj):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')
    os.replace(tmp, path)
