/**
 * Wan2.1 DiT configuration. The release `config.json` omits the keys WanModel lists in
 * `ignore_for_config`, so those take the code's defaults (text_dim 4096, patch (1,2,2),
 * window (-1,-1), qk_norm and cross_attn_norm on).
 */
import { DiTConfigError } from './errors.js';

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

/** Rejects configurations this port does not implement. */
export function validateWanDiTConfig(c: WanDiTConfig): void {
  if (c.dim % c.numHeads !== 0) throw new DiTConfigError(`DiT config: dim ${c.dim} is not divisible by num_heads ${c.numHeads}`);
  if (headDim(c) % 2 !== 0) throw new DiTConfigError(`DiT config: head_dim ${headDim(c)} must be even for rotary embeddings`);
  if (!c.qkNorm || !c.crossAttnNorm) throw new DiTConfigError('DiT config: only qk_norm=true and cross_attn_norm=true (the Wan2.1 release settings) are supported');
  if (c.windowSize[0] !== -1 || c.windowSize[1] !== -1) throw new DiTConfigError(`DiT config: window_size ${JSON.stringify(c.windowSize)} is not supported; only global attention (-1,-1)`);
  for (const [k, v] of Object.entries({ ffn_dim: c.ffnDim, freq_dim: c.freqDim, num_layers: c.numLayers, text_len: c.textLen, text_dim: c.textDim, in_dim: c.inDim, out_dim: c.outDim }))
    if (!Number.isInteger(v) || v <= 0) throw new DiTConfigError(`DiT config: ${k} must be a positive integer (got ${v})`);
  if (c.freqDim % 2 !== 0) throw new DiTConfigError(`DiT config: freq_dim ${c.freqDim} must be even`);
}
