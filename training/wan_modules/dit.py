"""Wan2.1 text-to-video DiT (`WanModel`, model_type 't2v') with the release key names.

Written from shared/reference/wan21-architecture.md §1 and the fixture README.
Batch-first: `forward(x [B,C,F,H,W], t [B], context [B,L,text_dim])`, where the
context is already zero-padded to `text_len` rows (the release pads the trimmed
T5 output; padded rows are attended, there is no text mask). All samples in a
batch share one latent shape, so no token padding or key masking is needed.
RoPE uses the interleaved real form (pairs (2j, 2j+1)), angles in float64.
"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


def sinusoidal_embedding_1d(dim, t):
    """[cos(t*w), sin(t*w)] with w_k = 10000^(-k/half), in float64, cast to f32."""
    half = dim // 2
    t = t.to(torch.float64)
    freqs = torch.pow(10000.0, -torch.arange(half, dtype=torch.float64, device=t.device) / half)
    ang = t[:, None] * freqs[None, :]
    return torch.cat([torch.cos(ang), torch.sin(ang)], dim=1).float()


def rope_axis_angles(max_pos, d_axis):
    freqs = 1.0 / torch.pow(10000.0, torch.arange(0, d_axis, 2, dtype=torch.float64) / d_axis)
    return torch.outer(torch.arange(max_pos, dtype=torch.float64), freqs)  # [max_pos, d_axis/2]


def rope_angles(head_dim, grid, max_pos=1024):
    """Per-token angles [L, head_dim/2] for a (F', H', W') grid, float64."""
    d_hw = 2 * (head_dim // 6)
    d_f = head_dim - 2 * d_hw
    af, ah, aw = (rope_axis_angles(max_pos, d) for d in (d_f, d_hw, d_hw))
    f, h, w = grid
    cf = af[:f][:, None, None, :].expand(f, h, w, -1)
    ch = ah[:h][None, :, None, :].expand(f, h, w, -1)
    cw = aw[:w][None, None, :, :].expand(f, h, w, -1)
    return torch.cat([cf, ch, cw], dim=-1).reshape(f * h * w, -1)


def rope_apply(x, angles):
    """x [B,L,heads,d]; rotate interleaved pairs by angles [L,d/2] (float64 math)."""
    b, l, n, d = x.shape
    xd = x.to(torch.float64).reshape(b, l, n, d // 2, 2)
    cos = torch.cos(angles)[None, :, None, :]
    sin = torch.sin(angles)[None, :, None, :]
    a, c = xd[..., 0], xd[..., 1]
    out = torch.stack([a * cos - c * sin, a * sin + c * cos], dim=-1)
    return out.reshape(b, l, n, d).float()


class WanRMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        y = x.float() * torch.rsqrt(x.float().pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return y.type_as(x) * self.weight


class WanLayerNorm(nn.LayerNorm):
    def __init__(self, dim, eps=1e-6, elementwise_affine=False):
        super().__init__(dim, eps=eps, elementwise_affine=elementwise_affine)

    def forward(self, x):
        return super().forward(x.float()).type_as(x)


def attention(q, k, v):
    """q [B,Lq,n,d], k/v [B,Lk,n,d] -> [B,Lq,n,d]; scale 1/sqrt(d), no mask."""
    d = q.shape[-1]
    q, k, v = (u.transpose(1, 2) for u in (q, k, v))
    s = torch.softmax((q @ k.transpose(-1, -2)) / math.sqrt(d), dim=-1)
    return (s @ v).transpose(1, 2)


class WanSelfAttention(nn.Module):
    def __init__(self, dim, num_heads, qk_norm=True, eps=1e-6):
        super().__init__()
        self.dim = dim
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)
        self.norm_q = WanRMSNorm(dim, eps) if qk_norm else nn.Identity()
        self.norm_k = WanRMSNorm(dim, eps) if qk_norm else nn.Identity()

    def _heads(self, x):
        return x.view(x.shape[0], x.shape[1], self.num_heads, self.head_dim)

    def forward(self, x, angles, record=None):
        q = self.norm_q(self.q(x))
        k = self.norm_k(self.k(x))
        v = self._heads(self.v(x))
        qr = rope_apply(self._heads(q), angles)
        kr = rope_apply(self._heads(k), angles)
        y = attention(qr, kr, v)
        if record is not None:
            record.update(q_normed=q, k_normed=k, q_rope=qr, k_rope=kr, v=v, attn=y)
        return self.o(y.flatten(2))


class WanT2VCrossAttention(WanSelfAttention):
    def forward(self, x, context, record=None):
        q = self._heads(self.norm_q(self.q(x)))
        k = self._heads(self.norm_k(self.k(context)))
        v = self._heads(self.v(context))
        y = attention(q, k, v)
        if record is not None:
            record.update(cross=y)
        return self.o(y.flatten(2))


class WanAttentionBlock(nn.Module):
    def __init__(self, dim, ffn_dim, num_heads, qk_norm=True, cross_attn_norm=True, eps=1e-6):
        super().__init__()
        self.norm1 = WanLayerNorm(dim, eps)
        self.self_attn = WanSelfAttention(dim, num_heads, qk_norm, eps)
        self.norm3 = WanLayerNorm(dim, eps, elementwise_affine=True) if cross_attn_norm else nn.Identity()
        self.cross_attn = WanT2VCrossAttention(dim, num_heads, qk_norm, eps)
        self.norm2 = WanLayerNorm(dim, eps)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn_dim), nn.GELU(approximate='tanh'), nn.Linear(ffn_dim, dim))
        self.modulation = nn.Parameter(torch.randn(1, 6, dim) / dim ** 0.5)

    def forward(self, x, e0, angles, context, record=None):
        m = (self.modulation + e0).chunk(6, dim=1)  # each [B,1,dim]
        y = self.self_attn(self.norm1(x).float() * (1 + m[1]) + m[0], angles, record)
        x = x + y * m[2]
        x = x + self.cross_attn(self.norm3(x), context, record)
        y = self.ffn(self.norm2(x).float() * (1 + m[4]) + m[3])
        return x + y * m[5]


class Head(nn.Module):
    def __init__(self, dim, out_dim, patch_size, eps=1e-6):
        super().__init__()
        self.norm = WanLayerNorm(dim, eps)
        self.head = nn.Linear(dim, math.prod(patch_size) * out_dim)
        self.modulation = nn.Parameter(torch.randn(1, 2, dim) / dim ** 0.5)

    def forward(self, x, e):
        m = (self.modulation + e[:, None, :]).chunk(2, dim=1)
        return self.head(self.norm(x) * (1 + m[1]) + m[0])


class WanModel(nn.Module):
    def __init__(self, model_type='t2v', patch_size=(1, 2, 2), text_len=512, in_dim=16, dim=2048,
                 ffn_dim=8192, freq_dim=256, text_dim=4096, out_dim=16, num_heads=16, num_layers=32,
                 window_size=(-1, -1), qk_norm=True, cross_attn_norm=True, eps=1e-6):
        super().__init__()
        assert model_type == 't2v'
        self.patch_size = tuple(patch_size)
        self.text_len = text_len
        self.dim = dim
        self.freq_dim = freq_dim
        self.out_dim = out_dim
        self.num_heads = num_heads
        self.patch_embedding = nn.Conv3d(in_dim, dim, kernel_size=self.patch_size, stride=self.patch_size)
        self.text_embedding = nn.Sequential(nn.Linear(text_dim, dim), nn.GELU(approximate='tanh'),
                                            nn.Linear(dim, dim))
        self.time_embedding = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.time_projection = nn.Sequential(nn.SiLU(), nn.Linear(dim, dim * 6))
        self.blocks = nn.ModuleList([
            WanAttentionBlock(dim, ffn_dim, num_heads, qk_norm, cross_attn_norm, eps) for _ in range(num_layers)])
        self.head = Head(dim, out_dim, self.patch_size, eps)
        self.init_weights()

    def init_weights(self):
        """The release's init: xavier linears, zero biases, std-0.02 embedders, zero head."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.xavier_uniform_(self.patch_embedding.weight.flatten(1))
        for m in list(self.text_embedding) + list(self.time_embedding):
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.02)
        nn.init.zeros_(self.head.head.weight)

    def pad_context(self, context):
        """[B,L,text_dim] -> [B,text_len,text_dim], zero rows appended."""
        b, l, c = context.shape
        if l == self.text_len:
            return context
        return torch.cat([context, context.new_zeros(b, self.text_len - l, c)], dim=1)

    def forward(self, x, t, context, record=None):
        b = x.shape[0]
        x = self.patch_embedding(x)
        grid = tuple(x.shape[2:])
        x = x.flatten(2).transpose(1, 2)
        if record is not None:
            record['x_embed'] = x
        angles = rope_angles(self.dim // self.num_heads, grid).to(x.device)
        sin = sinusoidal_embedding_1d(self.freq_dim, t.reshape(b))
        e = self.time_embedding(sin)
        e0 = self.time_projection(e).unflatten(1, (6, self.dim))
        ctx = self.text_embedding(self.pad_context(context))
        if record is not None:
            record.update(t_sinusoid=sin, e=e, e0=e0, context_embed=ctx, blocks=[], blk0={})
        for i, blk in enumerate(self.blocks):
            x = blk(x, e0, angles, ctx, record['blk0'] if (record is not None and i == 0) else None)
            if record is not None:
                record['blocks'].append(x)
        x = self.head(x, e)
        if record is not None:
            record['head_out'] = x
        return self.unpatchify(x, grid)

    def unpatchify(self, x, grid):
        b = x.shape[0]
        f, h, w = grid
        p, q, r = self.patch_size
        x = x.view(b, f, h, w, p, q, r, self.out_dim)
        x = x.permute(0, 7, 1, 4, 2, 5, 3, 6)
        return x.reshape(b, self.out_dim, f * p, h * q, w * r)
