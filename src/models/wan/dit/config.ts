/**
 * Wan2.1 DiT configuration. The release `config.json` omits the keys WanModel lists in
 * `ignore_for_config`, so those take the code's defaults (text_dim 4096, patch (1,2,2),
 * window (-1,-1), qk_norm and cross_attn_norm on).
 */
import { DiTConfigError } from './errors.js';
import { DIT_LIMITS, rangeProblem, rangeProblems } from '../limits.js';

export interface WanDiTConfig {
  modelType: 't2v';
  dim: number;
  ffnDim: number;
  freqDim: number;
  numHeads: number;
  numLayers: number;
  inDim: number;
  outDim: number;
  textDim: number;
  textLen: number;
  patchSize: [number, number, number];
  eps: number;
  qkNorm: boolean;
  crossAttnNorm: boolean;
  windowSize: [number, number];
}

export const WAN_DIT_DEFAULTS = {
  textDim: 4096,
  textLen: 512,
  patchSize: [1, 2, 2] as [number, number, number],
  windowSize: [-1, -1] as [number, number],
  qkNorm: true,
  crossAttnNorm: true,
  eps: 1e-6,
  inDim: 16,
  outDim: 16,
  freqDim: 256,
};

/** Query rows per attention call and token rows per row-wise stage call (WanDiT's defaults; the estimate counts calls with them). */
export const DEFAULT_ATTENTION_CHUNK = 1024;
export const DEFAULT_ROW_CHUNK = 4096;

export const headDim = (c: WanDiTConfig): number => c.dim / c.numHeads;
/** Features of one patch entering the patch embedding: C·pt·ph·pw. */
export const patchFeatures = (c: WanDiTConfig): number => c.inDim * c.patchSize[0] * c.patchSize[1] * c.patchSize[2];
/** Features of one token leaving the head: out_dim·pt·ph·pw. */
export const headFeatures = (c: WanDiTConfig): number => c.outDim * c.patchSize[0] * c.patchSize[1] * c.patchSize[2];

function num(raw: Record<string, unknown>, key: string, fallback?: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DiTConfigError(`DiT config: "${key}" must be a number (got ${JSON.stringify(raw[key])}); fix config.json`);
  return v;
}

function bool(raw: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'boolean') throw new DiTConfigError(`DiT config: "${key}" must be true or false (got ${JSON.stringify(raw[key])}); fix config.json`);
  return v;
}

function ints(raw: Record<string, unknown>, key: string, fallback: number[]): number[] {
  const v = raw[key] ?? fallback;
  if (!Array.isArray(v) || v.length !== fallback.length || !v.every((x) => Number.isInteger(x)))
    throw new DiTConfigError(`DiT config: "${key}" must be ${fallback.length} integers (got ${JSON.stringify(raw[key])}); fix config.json`);
  return v as number[];
}

/**
 * Reads a WanModel `config.json` (original snake_case names). Diffusers-style configs
 * (`num_attention_heads`, `attention_head_dim`, ...) are accepted too.
 */
export function parseWanDiTConfig(raw: Record<string, unknown>): WanDiTConfig {
  const diffusers = raw.num_attention_heads !== undefined;
  const modelType = raw.model_type ?? 't2v';
  if (modelType !== 't2v') throw new DiTConfigError(`DiT config: model_type "${String(modelType)}" is not supported; only text-to-video (t2v) checkpoints can be converted`);
  const numHeads = num(raw, diffusers ? 'num_attention_heads' : 'num_heads');
  if (diffusers) {
    // dim is heads × head_dim here: check both before multiplying, naming the keys as written
    const problems = rangeProblems([['num_attention_heads', numHeads, DIT_LIMITS.num_heads], ['attention_head_dim', num(raw, 'attention_head_dim'), { min: 2, max: 4096, even: true }]]);
    if (problems.length) throw new DiTConfigError(`DiT config: ${problems.join('; ')}; fix config.json`);
  }
  const dim = diffusers ? numHeads * num(raw, 'attention_head_dim') : num(raw, 'dim');
  const qkNormRaw = raw.qk_norm;
  const config: WanDiTConfig = {
    modelType: 't2v',
    dim,
    ffnDim: num(raw, 'ffn_dim'),
    freqDim: num(raw, 'freq_dim', WAN_DIT_DEFAULTS.freqDim),
    numHeads,
    numLayers: num(raw, 'num_layers'),
    inDim: num(raw, diffusers ? 'in_channels' : 'in_dim', WAN_DIT_DEFAULTS.inDim),
    outDim: num(raw, diffusers ? 'out_channels' : 'out_dim', WAN_DIT_DEFAULTS.outDim),
    textDim: num(raw, 'text_dim', WAN_DIT_DEFAULTS.textDim),
    textLen: num(raw, 'text_len', WAN_DIT_DEFAULTS.textLen),
    patchSize: ints(raw, 'patch_size', WAN_DIT_DEFAULTS.patchSize) as [number, number, number],
    eps: num(raw, 'eps', WAN_DIT_DEFAULTS.eps),
    // diffusers writes qk_norm as the string "rms_norm_across_heads"
    qkNorm: typeof qkNormRaw === 'string' ? qkNormRaw === 'rms_norm_across_heads' : bool(raw, 'qk_norm', WAN_DIT_DEFAULTS.qkNorm),
    crossAttnNorm: bool(raw, 'cross_attn_norm', WAN_DIT_DEFAULTS.crossAttnNorm),
    windowSize: ints(raw, 'window_size', WAN_DIT_DEFAULTS.windowSize) as [number, number],
  };
  validateWanDiTConfig(config);
  return config;
}

/** Rejects configurations this port does not implement, and values outside the bounds of DIT_LIMITS (issue 18). */
export function validateWanDiTConfig(c: WanDiTConfig): void {
  const problems = rangeProblems([
    ['dim', c.dim, DIT_LIMITS.dim],
    ['ffn_dim', c.ffnDim, DIT_LIMITS.ffn_dim],
    ['freq_dim', c.freqDim, DIT_LIMITS.freq_dim],
    ['num_heads', c.numHeads, DIT_LIMITS.num_heads],
    ['num_layers', c.numLayers, DIT_LIMITS.num_layers],
    ['in_dim', c.inDim, DIT_LIMITS.in_dim],
    ['out_dim', c.outDim, DIT_LIMITS.out_dim],
    ['text_dim', c.textDim, DIT_LIMITS.text_dim],
    ['text_len', c.textLen, DIT_LIMITS.text_len],
    ['eps', c.eps, DIT_LIMITS.eps],
  ]);
  if (!Array.isArray(c.patchSize) || c.patchSize.length !== 3) problems.push(`"patch_size" must be 3 integers (got ${JSON.stringify(c.patchSize)})`);
  else c.patchSize.forEach((p, i) => {
    const problem = rangeProblem(`patch_size[${i}]`, p, DIT_LIMITS.patch_size);
    if (problem) problems.push(problem);
  });
  if (problems.length) throw new DiTConfigError(`DiT config: ${problems.join('; ')}; fix config.json`);
  if (c.dim % c.numHeads !== 0) throw new DiTConfigError(`DiT config: dim ${c.dim} is not divisible by num_heads ${c.numHeads}; dim must be a multiple of num_heads`);
  if (headDim(c) % 2 !== 0 || headDim(c) < 6)
    throw new DiTConfigError(`DiT config: head_dim ${headDim(c)} (dim ${c.dim} / num_heads ${c.numHeads}) must be even and at least 6: rotary embeddings split it over frames, rows and columns`);
  if (c.qkNorm !== true || c.crossAttnNorm !== true) throw new DiTConfigError('DiT config: only qk_norm=true and cross_attn_norm=true (the Wan2.1 release settings) are supported');
  if (!Array.isArray(c.windowSize) || c.windowSize[0] !== -1 || c.windowSize[1] !== -1) throw new DiTConfigError(`DiT config: window_size ${JSON.stringify(c.windowSize)} is not supported; only global attention (-1,-1)`);
}
