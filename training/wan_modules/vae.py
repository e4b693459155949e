"""Causal 3-D VAE with the Wan2.1 release module layout (`WanVAE_`).

Written from the specification in shared/reference/wan21-architecture.md §3 and
the fixture README. Parameter names follow the release state dict
(`encoder.downsamples.N.residual.2.weight`, `decoder.upsamples.3.time_conv.weight`,
...), so `load_state_dict` works on a release-format `.pth` unchanged.

Encoding and decoding are chunked in time exactly like the release: one latent
frame (decode) or four video frames (encode, after a first 1-frame chunk) per
call, with each causal conv caching the last two frames of its input.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

CACHE_FRAMES = 2
REP = 'Rep'  # marker: upsample3d skipped its time conv on the first chunk


class CausalConv3d(nn.Conv3d):
    """Conv3d whose temporal padding is all in front (2*p_t zero frames)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        pt, ph, pw = self.padding
        self.causal_pad = (pw, pw, ph, ph, 2 * pt, 0)
        self.padding = (0, 0, 0)

    def forward(self, x, cache=None):
        pad = list(self.causal_pad)
        if cache is not None and pad[4] > 0:
            x = torch.cat([cache, x], dim=2)
            pad[4] -= cache.shape[2]
        return super().forward(F.pad(x, pad))


class RMS_norm(nn.Module):
    """Channel-first L2 normalisation scaled by sqrt(C) and a learned gamma."""

    def __init__(self, dim, images=True):
        super().__init__()
        shape = (dim, 1, 1) if images else (dim, 1, 1, 1)
        self.scale = dim ** 0.5
        self.gamma = nn.Parameter(torch.ones(shape))

    def forward(self, x):
        return F.normalize(x, dim=1) * self.scale * self.gamma


class Cache:
    """Per-conv feature caches for one chunked encode/decode pass."""

    def __init__(self):
        self.slots = {}
        self.index = 0

    def start_chunk(self):
        self.index = 0

    def take(self):
        i = self.index
        self.index += 1
        return i


def cached_conv(conv, x, cache):
    """Run a k_t=3 causal conv with the release's 2-frame cache rule."""
    if cache is None:
        return conv(x)
    slot = cache.take()
    old = cache.slots.get(slot)
    keep = x[:, :, -CACHE_FRAMES:]
    if keep.shape[2] < CACHE_FRAMES and old is not None:
        keep = torch.cat([old[:, :, -1:], keep], dim=2)
    y = conv(x, old)
    cache.slots[slot] = keep
    return y


class Upsample(nn.Upsample):
    def forward(self, x):
        # computed in float32, as the release does
        return super().forward(x.float()).type_as(x)


class Resample(nn.Module):
    def __init__(self, dim, mode):
        super().__init__()
        self.dim = dim
        self.mode = mode
        if mode in ('upsample2d', 'upsample3d'):
            self.resample = nn.Sequential(
                Upsample(scale_factor=(2.0, 2.0), mode='nearest-exact'),
                nn.Conv2d(dim, dim // 2, 3, padding=1))
            if mode == 'upsample3d':
                self.time_conv = CausalConv3d(dim, dim * 2, (3, 1, 1), padding=(1, 0, 0))
        elif mode in ('downsample2d', 'downsample3d'):
            self.resample = nn.Sequential(
                nn.ZeroPad2d((0, 1, 0, 1)),
                nn.Conv2d(dim, dim, 3, stride=(2, 2)))
            if mode == 'downsample3d':
                self.time_conv = CausalConv3d(dim, dim, (3, 1, 1), stride=(2, 1, 1), padding=(0, 0, 0))
        else:
            raise ValueError(f'unknown resample mode {mode}')

    def _time_upsample(self, x, cache):
        slot = cache.take()
        old = cache.slots.get(slot)
        if old is None:
            # first chunk: the single frame passes through un-duplicated
            cache.slots[slot] = REP
            return x
        keep = x[:, :, -CACHE_FRAMES:]
        if keep.shape[2] < CACHE_FRAMES:
            first = torch.zeros_like(keep) if isinstance(old, str) else old[:, :, -1:]
            keep = torch.cat([first, keep], dim=2)
        y = self.time_conv(x) if isinstance(old, str) else self.time_conv(x, old)
        cache.slots[slot] = keep
        b, c2, t, h, w = y.shape
        c = c2 // 2
        # channel halves become frames (2k, 2k+1)
        y = y.reshape(b, 2, c, t, h, w).permute(0, 2, 3, 1, 4, 5)
        return y.reshape(b, c, t * 2, h, w)

    def _time_downsample(self, x, cache):
        slot = cache.take()
        old = cache.slots.get(slot)
        if old is None:
            cache.slots[slot] = x.clone()
            return x
        keep = x[:, :, -1:]
        y = self.time_conv(torch.cat([old[:, :, -1:], x], dim=2))
        cache.slots[slot] = keep
        return y

    def forward(self, x, cache=None):
        b, c, t, h, w = x.shape
        if self.mode == 'upsample3d' and cache is not None:
            x = self._time_upsample(x, cache)
            t = x.shape[2]
        x = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        x = self.resample(x)
        x = x.reshape(b, t, x.shape[1], x.shape[2], x.shape[3]).permute(0, 2, 1, 3, 4)
        if self.mode == 'downsample3d' and cache is not None:
            x = self._time_downsample(x, cache)
        return x


class ResidualBlock(nn.Module):
    def __init__(self, in_dim, out_dim, dropout=0.0):
        super().__init__()
        self.residual = nn.Sequential(
            RMS_norm(in_dim, images=False), nn.SiLU(),
            CausalConv3d(in_dim, out_dim, 3, padding=1),
            RMS_norm(out_dim, images=False), nn.SiLU(), nn.Dropout(dropout),
            CausalConv3d(out_dim, out_dim, 3, padding=1))
        self.shortcut = CausalConv3d(in_dim, out_dim, 1) if in_dim != out_dim else nn.Identity()

    def forward(self, x, cache=None):
        h = self.shortcut(x)
        for layer in self.residual:
            if isinstance(layer, CausalConv3d):
                x = cached_conv(layer, x, cache)
            else:
                x = layer(x)
        return x + h


class AttentionBlock(nn.Module):
    """Single-head self-attention over the H*W positions of each frame."""

    def __init__(self, dim):
        super().__init__()
        self.norm = RMS_norm(dim)
        self.to_qkv = nn.Conv2d(dim, dim * 3, 1)
        self.proj = nn.Conv2d(dim, dim, 1)
        nn.init.zeros_(self.proj.weight)

    def forward(self, x):
        identity = x
        b, c, t, h, w = x.shape
        x = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        x = self.norm(x)
        qkv = self.to_qkv(x).reshape(b * t, 3 * c, h * w).transpose(1, 2)
        q, k, v = qkv.chunk(3, dim=-1)
        att = torch.softmax(q @ k.transpose(1, 2) / c ** 0.5, dim=-1)
        x = (att @ v).transpose(1, 2).reshape(b * t, c, h, w)
        x = self.proj(x)
        x = x.reshape(b, t, c, h, w).permute(0, 2, 1, 3, 4)
        return x + identity


def _run(module, x, cache):
    if isinstance(module, (ResidualBlock, Resample)):
        return module(x, cache)
    return module(x)


class Encoder3d(nn.Module):
    def __init__(self, dim, z_dim, dim_mult, num_res_blocks, attn_scales, temperal_downsample, dropout):
        super().__init__()
        dims = [dim * u for u in [1] + list(dim_mult)]
        scale = 1.0
        self.conv1 = CausalConv3d(3, dims[0], 3, padding=1)
        blocks = []
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
            for _ in range(num_res_blocks):
                blocks.append(ResidualBlock(d_in, d_out, dropout))
                if scale in attn_scales:
                    blocks.append(AttentionBlock(d_out))
                d_in = d_out
            if i != len(dim_mult) - 1:
                mode = 'downsample3d' if temperal_downsample[i] else 'downsample2d'
                blocks.append(Resample(d_out, mode))
                scale /= 2.0
        self.downsamples = nn.Sequential(*blocks)
        out = dims[-1]
        self.middle = nn.Sequential(ResidualBlock(out, out, dropout), AttentionBlock(out),
                                    ResidualBlock(out, out, dropout))
        self.head = nn.Sequential(RMS_norm(out, images=False), nn.SiLU(),
                                  CausalConv3d(out, z_dim, 3, padding=1))

    def forward(self, x, cache):
        x = cached_conv(self.conv1, x, cache)
        for m in self.downsamples:
            x = _run(m, x, cache)
        for m in self.middle:
            x = _run(m, x, cache)
        x = self.head[1](self.head[0](x))
        return cached_conv(self.head[2], x, cache)


class Decoder3d(nn.Module):
    def __init__(self, dim, z_dim, dim_mult, num_res_blocks, attn_scales, temperal_upsample, dropout):
        super().__init__()
        dims = [dim * u for u in [dim_mult[-1]] + list(dim_mult)[::-1]]
        scale = 1.0 / 2 ** (len(dim_mult) - 2)
        self.conv1 = CausalConv3d(z_dim, dims[0], 3, padding=1)
        self.middle = nn.Sequential(ResidualBlock(dims[0], dims[0], dropout), AttentionBlock(dims[0]),
                                    ResidualBlock(dims[0], dims[0], dropout))
        blocks = []
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
            if i in (1, 2, 3):
                d_in = d_in // 2  # the previous resample halved the channels
            for _ in range(num_res_blocks + 1):
                blocks.append(ResidualBlock(d_in, d_out, dropout))
                if scale in attn_scales:
                    blocks.append(AttentionBlock(d_out))
                d_in = d_out
            if i != len(dim_mult) - 1:
                mode = 'upsample3d' if temperal_upsample[i] else 'upsample2d'
                blocks.append(Resample(d_out, mode))
                scale *= 2.0
        self.upsamples = nn.Sequential(*blocks)
        out = dims[-1]
        self.head = nn.Sequential(RMS_norm(out, images=False), nn.SiLU(),
                                  CausalConv3d(out, 3, 3, padding=1))

    def forward(self, x, cache):
        x = cached_conv(self.conv1, x, cache)
        for m in self.middle:
            x = _run(m, x, cache)
        for m in self.upsamples:
            x = _run(m, x, cache)
        x = self.head[1](self.head[0](x))
        return cached_conv(self.head[2], x, cache)


class WanVAE_(nn.Module):
    def __init__(self, dim=96, z_dim=16, dim_mult=(1, 2, 4, 4), num_res_blocks=2, attn_scales=(),
                 temperal_downsample=(False, True, True), dropout=0.0):
        super().__init__()
        self.dim = dim
        self.z_dim = z_dim
        self.temperal_downsample = list(temperal_downsample)
        self.temperal_upsample = list(temperal_downsample)[::-1]
        self.encoder = Encoder3d(dim, z_dim * 2, dim_mult, num_res_blocks, list(attn_scales),
                                 self.temperal_downsample, dropout)
        self.conv1 = CausalConv3d(z_dim * 2, z_dim * 2, 1)
        self.conv2 = CausalConv3d(z_dim, z_dim, 1)
        self.decoder = Decoder3d(dim, z_dim, dim_mult, num_res_blocks, list(attn_scales),
                                 self.temperal_upsample, dropout)

    def encode_raw(self, x):
        """Video [B,3,1+4k,H,W] -> (mu, log_var), each [B,z,1+k,H/8,W/8], unnormalised."""
        cache = Cache()
        outs = []
        t = x.shape[2]
        for i in range(1 + (t - 1) // 4):
            cache.start_chunk()
            chunk = x[:, :, :1] if i == 0 else x[:, :, 1 + 4 * (i - 1):1 + 4 * i]
            outs.append(self.encoder(chunk, cache))
        mu, log_var = self.conv1(torch.cat(outs, dim=2)).chunk(2, dim=1)
        return mu, log_var

    def decode_raw(self, z, chunk_hook=None):
        """Unnormalised latent [B,z,F,h,w] -> video [B,3,1+4(F-1),8h,8w], not clamped."""
        x = self.conv2(z)
        cache = Cache()
        outs = []
        for i in range(x.shape[2]):
            cache.start_chunk()
            out = self.decoder(x[:, :, i:i + 1], cache)
            if chunk_hook is not None:
                chunk_hook(i, out)
            outs.append(out)
        return torch.cat(outs, dim=2)


class WanVAE:
    """Wrapper with the release's latent normalisation: scale = [mean, 1/std]."""

    def __init__(self, model, mean, std):
        self.model = model
        self.mean = torch.as_tensor(mean, dtype=torch.float32)
        self.inv_std = 1.0 / torch.as_tensor(std, dtype=torch.float32)

    def _view(self, v):
        return v.view(1, -1, 1, 1, 1)

    def encode(self, video):
        mu, _ = self.model.encode_raw(video)
        return (mu - self._view(self.mean)) * self._view(self.inv_std)

    def decode(self, z):
        z = z / self._view(self.inv_std) + self._view(self.mean)
        return self.model.decode_raw(z).clamp(-1, 1)
