import { rangeProblems, T5_LIMITS } from '../limits.js';

/**
 * umT5 encoder configurations. The release uses `umt5_xxl` (encoder only); the tiny fixture
 * shrinks every width but keeps the structure (per-layer position tables, gated GELU FFN).
 */
export interface T5EncoderConfig {
  vocab: number;
  dim: number;
  /** Width of q/k/v (heads × head_dim); equals `dim` in the released models. */
  dimAttn: number;
  dimFfn: number;
  numHeads: number;
  numLayers: number;
  numBuckets: number;
  /** Relative distances at or beyond this share the last bucket. */
  maxDistance: number;
  /** Tokens per prompt after padding/truncation (512 in the release). */
  textLen: number;
  eps: number;
}

export const UMT5_XXL: Readonly<T5EncoderConfig> = {
  vocab: 256384, dim: 4096, dimAttn: 4096, dimFfn: 10240, numHeads: 64, numLayers: 24,
  numBuckets: 32, maxDistance: 128, textLen: 512, eps: 1e-6,
};

/** Original (Wan) state-dict key names of one encoder. */
export const t5Keys = {
  embedding: 'token_embedding.weight',
  finalNorm: 'norm.weight',
  block: (i: number) => ({
    norm1: `blocks.${i}.norm1.weight`,
    q: `blocks.${i}.attn.q.weight`,
    k: `blocks.${i}.attn.k.weight`,
    v: `blocks.${i}.attn.v.weight`,
    o: `blocks.${i}.attn.o.weight`,
    norm2: `blocks.${i}.norm2.weight`,
    gate: `blocks.${i}.ffn.gate.0.weight`,
    fc1: `blocks.${i}.ffn.fc1.weight`,
    fc2: `blocks.${i}.ffn.fc2.weight`,
    posEmbedding: `blocks.${i}.pos_embedding.embedding.weight`,
  }),
};

/**
 * Reads the widths from tensor shapes so any umT5-style checkpoint converts without a config
 * file. The head count comes from the position tables ([buckets, heads]); pass `numHeads` to
 * check it.
 */
export function inferT5Config(shapeOf: (key: string) => number[] | undefined, options: { textLen: number; numHeads?: number }): T5EncoderConfig {
  const optionProblems = rangeProblems([['text_len', options.textLen, T5_LIMITS.text_len], ...(options.numHeads === undefined ? [] : [['num_heads', options.numHeads, T5_LIMITS.num_heads] as [string, unknown, typeof T5_LIMITS.num_heads]])]);
  if (optionProblems.length) throw new T5ConfigError(`text encoder config: ${optionProblems.join('; ')}; fix t5_config.json (or the DiT's text_len)`);
  const need = (key: string): number[] => {
    const s = shapeOf(key);
    if (!s) throw new T5ConfigError(`the checkpoint has no tensor ${key}; is this a umT5 encoder state dict?`);
    return s;
  };
  const [vocab, dim] = need(t5Keys.embedding);
  let numLayers = 0;
  while (shapeOf(t5Keys.block(numLayers).norm1)) numLayers++;
  if (numLayers === 0) throw new T5ConfigError(`the checkpoint has no ${t5Keys.block(0).norm1}; is this a umT5 encoder state dict?`);
  const [dimAttn] = need(t5Keys.block(0).q);
  const [dimFfn] = need(t5Keys.block(0).fc1);
  const [numBuckets, heads] = need(t5Keys.block(0).posEmbedding);
  const numHeads = options.numHeads ?? heads;
  if (heads !== numHeads) throw new T5ConfigError(`position table ${t5Keys.block(0).posEmbedding} has ${heads} heads, expected ${numHeads}`);
  if (dimAttn % numHeads) throw new T5ConfigError(`attention width ${dimAttn} does not split into ${numHeads} heads`);
  const config = { vocab, dim, dimAttn, dimFfn, numHeads, numLayers, numBuckets, maxDistance: 128, textLen: options.textLen, eps: 1e-6 };
  const problems = t5ConfigProblems(config);
  if (problems.length) throw new T5ConfigError(`text encoder checkpoint: ${problems.join('; ')} (read from the tensor shapes); is this a umT5 encoder state dict?`);
  return config;
}

/** Values outside T5_LIMITS (issue 18), named by their snake_case keys; empty when the config fits. */
export function t5ConfigProblems(c: Partial<T5EncoderConfig>): string[] {
  const problems = rangeProblems([
    ['vocab', c.vocab, T5_LIMITS.vocab],
    ['dim', c.dim, T5_LIMITS.dim],
    ['dim_attn', c.dimAttn, T5_LIMITS.dim_attn],
    ['dim_ffn', c.dimFfn, T5_LIMITS.dim_ffn],
    ['num_heads', c.numHeads, T5_LIMITS.num_heads],
    ['num_layers', c.numLayers, T5_LIMITS.num_layers],
    ['num_buckets', c.numBuckets, T5_LIMITS.num_buckets],
    ['max_distance', c.maxDistance, T5_LIMITS.max_distance],
    ['text_len', c.textLen, T5_LIMITS.text_len],
    ['eps', c.eps, T5_LIMITS.eps],
  ]);
  if (!problems.length && c.dimAttn! % c.numHeads! !== 0) problems.push(`"dim_attn" ${c.dimAttn} does not split into "num_heads" ${c.numHeads} heads`);
  return problems;
}

export class T5ConfigError extends Error {
  override readonly name = 'T5ConfigError';
}
