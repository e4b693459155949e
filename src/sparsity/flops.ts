/**
 * FLOPs accounting for dense and token-sparse Wan2.1 generations, from the formulas in
 * reference/token-caching-methods.md §5.4 (a multiply-add is 2 FLOPs; norms, activations,
 * RoPE, gates and gathers are O(N·d) and ignored). Attention matmuls are included, so every
 * ratio reported by this project is comparable.
 */

/** The self-attention treatment used for partially recomputed blocks. */
export type AttentionVariant =
  /** ToCa as shipped: the cached self-attention output is reused in full. */
  | 'reuse'
  /** B1: queries of the selected tokens against fresh keys/values of all tokens. */
  | 'fresh-kv'
  /** B2: fresh Q/K/V of the selected tokens, cached K/V of the others. */
  | 'cached-kv';

export const ATTENTION_VARIANTS: readonly AttentionVariant[] = ['reuse', 'fresh-kv', 'cached-kv'];

/** How a description names the self-attention of recomputed tokens ('' for the default, reuse). */
export const attentionNote = (variant: AttentionVariant | undefined): string =>
  variant === 'fresh-kv' ? 'recomputed tokens attend to fresh keys/values of all tokens' : variant === 'cached-kv' ? 'recomputed tokens attend to cached keys/values of the others' : '';

/** The model and problem sizes FLOPs depend on. */
export interface FlopsShape {
  dim: number;
  ffnDim: number;
  /** Text context rows attended by cross-attention (text_len, 512 for the release). */
  textLen: number;
  textDim: number;
  layers: number;
  /** Video tokens N. */
  tokens: number;
  /** Features of one patch entering the patch embedding (C·pt·ph·pw). */
  patchFeatures: number;
  /** Features of one token leaving the head (out_dim·pt·ph·pw). */
  headFeatures: number;
  freqDim: number;
}

/** Per-module FLOPs of one dense block on one guidance branch. */
export interface BlockFlops {
  selfAttention: number;
  crossAttention: number;
  ffn: number;
  total: number;
}

export function denseBlockFlops(s: FlopsShape): BlockFlops {
  const { tokens: n, dim: d, textLen: lc, ffnDim: f } = s;
  const selfAttention = 8 * n * d * d + 4 * n * n * d;
  const crossAttention = 4 * n * d * d + 4 * n * lc * d;
  const ffn = 4 * n * d * f;
  return { selfAttention, crossAttention, ffn, total: selfAttention + crossAttention + ffn };
}

/** Context K/V projections of one block: constant per prompt, computed once per layer and branch. */
export function contextKvFlops(s: FlopsShape): number {
  return 4 * s.textLen * s.dim * s.dim;
}

/** Variant A: cross-attention and FFN on k tokens, self-attention reused. */
export function reuseFlops(s: FlopsShape, k: number): number {
  const { dim: d, textLen: lc, ffnDim: f } = s;
  return 4 * k * d * d + 4 * k * lc * d + 4 * k * d * f;
}

/** Variant B1: variant A plus K/V for all tokens, Q and O for k tokens, k×N attention. */
export function freshKvFlops(s: FlopsShape, k: number): number {
  const { dim: d, tokens: n } = s;
  return reuseFlops(s, k) + 4 * n * d * d + 4 * k * d * d + 4 * k * n * d;
}

/** Variant B2: everything for k tokens only; exactly (k/N)·dense. */
export function cachedKvFlops(s: FlopsShape, k: number): number {
  return (k / s.tokens) * denseBlockFlops(s).total;
}

/** Number of tokens a level recomputes: round(level·N), at least 1 for a non-zero level. */
export function tokensForLevel(level: number, tokens: number): number {
  if (level <= 0) return 0;
  if (level >= 1) return tokens;
  return Math.min(tokens, Math.max(1, Math.round(level * tokens)));
}

/** FLOPs of one block at a recompute level (0 = full reuse, 1 = dense) on one branch. */
export function levelFlops(s: FlopsShape, level: number, variant: AttentionVariant): number {
  const k = tokensForLevel(level, s.tokens);
  if (k === 0) return 0;
  if (k === s.tokens) return denseBlockFlops(s).total;
  switch (variant) {
    case 'reuse':
      return reuseFlops(s, k);
    case 'fresh-kv':
      return freshKvFlops(s, k);
    case 'cached-kv':
      return cachedKvFlops(s, k);
  }
}

/**
 * Work done once per model evaluation (per step and branch) outside the blocks: time
 * embedding and projection, patch embedding and the head. Text embedding and context K/V
 * are per prompt and counted separately.
 */
export function perStepOverheadFlops(s: FlopsShape): number {
  const { dim: d, tokens: n } = s;
  const time = 2 * (s.freqDim * d + d * d) + 2 * d * 6 * d;
  const patch = 2 * n * s.patchFeatures * d;
  const head = 2 * n * d * s.headFeatures;
  return time + patch + head;
}

/** Text embedding plus every layer's context K/V, for one prompt. */
export function perPromptFlops(s: FlopsShape): number {
  const textEmbedding = 2 * s.textLen * (s.textDim * s.dim + s.dim * s.dim);
  return textEmbedding + s.layers * contextKvFlops(s);
}

export interface GenerationFlops {
  /** FLOPs of the sparse generation. */
  total: number;
  /** FLOPs of the dense generation with the same settings. */
  dense: number;
  /** total / dense. */
  ratio: number;
  /** FLOPs spent inside blocks, and the dense equivalent. */
  blocks: number;
  denseBlocks: number;
}

/**
 * FLOPs of a whole generation under a (step × layer) level table, the same table used for
 * every guidance branch. Step 0 counts as dense whatever the table says: nothing is cached
 * before it, so every method runs it whole (a table that claims otherwise would under-report).
 */
export function generationFlops(s: FlopsShape, table: readonly (readonly number[])[], variant: AttentionVariant, branches = 2): GenerationFlops {
  const dense = denseBlockFlops(s).total;
  let blocks = 0;
  table.forEach((row, t) => {
    for (const level of row) blocks += levelFlops(s, t === 0 ? 1 : level, variant);
  });
  blocks *= branches;
  const steps = table.length;
  const denseBlocks = steps * s.layers * dense * branches;
  const fixed = steps * branches * perStepOverheadFlops(s) + branches * perPromptFlops(s);
  const total = blocks + fixed;
  const denseTotal = denseBlocks + fixed;
  return { total, dense: denseTotal, ratio: total / denseTotal, blocks, denseBlocks };
}
