"""umT5-style encoder (`T5Encoder`) with the Wan release key names.

Written from shared/reference/wan21-architecture.md §4 and the fixture README:
pre-RMSNorm blocks, attention without 1/sqrt(d) scaling plus a per-layer
relative-position bias (shared_pos=False), key-only padding mask, gated-GELU FFN.
"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


class T5LayerNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        x = x * torch.rsqrt(x.float().pow(2).mean(dim=-1, keepdim=True) + self.eps)
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            x = x.type_as(self.weight)
        return self.weight * x


class T5Attention(nn.Module):
    def __init__(self, dim, dim_attn, num_heads, dropout=0.0):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim_attn // num_heads
        self.q = nn.Linear(dim, dim_attn, bias=False)
        self.k = nn.Linear(dim, dim_attn, bias=False)
        self.v = nn.Linear(dim, dim_attn, bias=False)
        self.o = nn.Linear(dim_attn, dim, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask, pos_bias):
        b, l, _ = x.shape
        n, d = self.num_heads, self.head_dim
        q = self.q(x).view(b, l, n, d).transpose(1, 2)
        k = self.k(x).view(b, l, n, d).transpose(1, 2)
        v = self.v(x).view(b, l, n, d).transpose(1, 2)
        scores = q @ k.transpose(-1, -2) + pos_bias
        if mask is not None:
            # mask applies to keys only; masked keys get the dtype's minimum
            keymask = mask.view(b, 1, 1, l) == 0
            scores = scores.masked_fill(keymask, torch.finfo(scores.dtype).min)
        attn = torch.softmax(scores.float(), dim=-1).type_as(scores)
        y = (self.dropout(attn) @ v).transpose(1, 2).reshape(b, l, n * d)
        return self.o(y)


class GELU(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class T5FeedForward(nn.Module):
    def __init__(self, dim, dim_ffn, dropout=0.0):
        super().__init__()
        self.gate = nn.Sequential(nn.Linear(dim, dim_ffn, bias=False), GELU())
        self.fc1 = nn.Linear(dim, dim_ffn, bias=False)
        self.fc2 = nn.Linear(dim_ffn, dim, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.fc2(self.dropout(self.fc1(x) * self.gate(x)))


def relative_buckets(lq, lk, num_buckets=32, max_dist=128):
    """Bidirectional T5 buckets of (key - query), computed in float32 like the release."""
    rel = torch.arange(lk)[None, :] - torch.arange(lq)[:, None]
    half = num_buckets // 2
    base = (rel > 0).long() * half
    n = rel.abs()
    max_exact = half // 2
    large = max_exact + (torch.log(n.float() / max_exact) / math.log(max_dist / max_exact)
                         * (half - max_exact)).long()
    large = torch.clamp(large, max=half - 1)
    return base + torch.where(n < max_exact, n, large)


class T5RelativeEmbedding(nn.Module):
    def __init__(self, num_buckets, num_heads, bidirectional=True, max_dist=128):
        super().__init__()
        self.num_buckets = num_buckets
        self.max_dist = max_dist
        self.embedding = nn.Embedding(num_buckets, num_heads)

    def forward(self, lq, lk):
        buckets = relative_buckets(lq, lk, self.num_buckets, self.max_dist).to(self.embedding.weight.device)
        return self.embedding(buckets).permute(2, 0, 1).unsqueeze(0)  # [1, heads, lq, lk]


class T5SelfAttention(nn.Module):
    def __init__(self, dim, dim_attn, dim_ffn, num_heads, num_buckets, shared_pos=True, dropout=0.0):
        super().__init__()
        self.shared_pos = shared_pos
        self.norm1 = T5LayerNorm(dim)
        self.attn = T5Attention(dim, dim_attn, num_heads, dropout)
        self.norm2 = T5LayerNorm(dim)
        self.ffn = T5FeedForward(dim, dim_ffn, dropout)
        self.pos_embedding = None if shared_pos else T5RelativeEmbedding(num_buckets, num_heads)

    def forward(self, x, mask=None, pos_bias=None):
        e = pos_bias if self.shared_pos else self.pos_embedding(x.shape[1], x.shape[1])
        x = x + self.attn(self.norm1(x), mask, e)
        return x + self.ffn(self.norm2(x))


class T5Encoder(nn.Module):
    def __init__(self, vocab, dim, dim_attn, dim_ffn, num_heads, num_layers, num_buckets,
                 shared_pos=True, dropout=0.0):
        super().__init__()
        self.shared_pos = shared_pos
        self.token_embedding = vocab if isinstance(vocab, nn.Embedding) else nn.Embedding(vocab, dim)
        self.pos_embedding = T5RelativeEmbedding(num_buckets, num_heads) if shared_pos else None
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([
            T5SelfAttention(dim, dim_attn, dim_ffn, num_heads, num_buckets, shared_pos, dropout)
            for _ in range(num_layers)])
        self.norm = T5LayerNorm(dim)
        self.init_weights(dim, dim_attn, dim_ffn, num_heads, num_buckets)

    def init_weights(self, dim, dim_attn, dim_ffn, num_heads, num_buckets):
        """T5's scaled-normal init (as the release's init_weights does)."""
        for m in self.modules():
            if isinstance(m, T5LayerNorm):
                nn.init.ones_(m.weight)
            elif isinstance(m, T5FeedForward):
                nn.init.normal_(m.gate[0].weight, std=dim ** -0.5)
                nn.init.normal_(m.fc1.weight, std=dim ** -0.5)
                nn.init.normal_(m.fc2.weight, std=dim_ffn ** -0.5)
            elif isinstance(m, T5Attention):
                d = dim_attn // num_heads
                nn.init.normal_(m.q.weight, std=(dim * d) ** -0.5)
                nn.init.normal_(m.k.weight, std=dim ** -0.5)
                nn.init.normal_(m.v.weight, std=dim ** -0.5)
                nn.init.normal_(m.o.weight, std=(num_heads * d) ** -0.5)
            elif isinstance(m, T5RelativeEmbedding):
                nn.init.normal_(m.embedding.weight, std=(2 * num_buckets * num_heads) ** -0.5)
        nn.init.normal_(self.token_embedding.weight, std=1.0)

    def forward(self, ids, mask=None, record=None):
        x = self.dropout(self.token_embedding(ids))
        e = self.pos_embedding(x.shape[1], x.shape[1]) if self.shared_pos else None
        for blk in self.blocks:
            x = blk(x, mask, e)
            if record is not None:
                record.append(x)
        return self.dropout(self.norm(x))
