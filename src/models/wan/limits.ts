/**
 * Bounds on model configuration values (issue 18): a config that asks for a million layers,
 * −2 heads or a text length of 1e9 is refused with the key and the allowed range before any
 * conversion or loading work, instead of failing later with an internal error or huge memory.
 * The bounds are generous: the Wan2.1 14B release is dim 5120, ffn 13824, 40 heads, 40 layers,
 * text_len 512, umT5-XXL vocab 256384.
 */

export interface ValueRange {
  min: number;
  max: number;
  /** Whole numbers only (default true). */
  integer?: boolean;
  even?: boolean;
  /** The minimum itself is excluded (for eps-like values). */
  exclusiveMin?: boolean;
}

/** Why `value` is outside `range`, as `"key" must be ... (got ...)`, or undefined when it fits. */
export function rangeProblem(key: string, value: unknown, range: ValueRange): string | undefined {
  const integer = range.integer ?? true;
  const low = range.exclusiveMin ? `greater than ${range.min}` : `from ${range.min}`;
  const what = integer ? `an integer ${low} to ${range.max}` : `a number ${low} to ${range.max}`;
  const got = typeof value === 'number' ? String(value) : JSON.stringify(value) ?? 'nothing';
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!integer || Number.isInteger(value)) &&
    (range.exclusiveMin ? value > range.min : value >= range.min) &&
    value <= range.max;
  if (!ok) return `"${key}" must be ${what}${range.even ? ' and even' : ''} (got ${got})`;
  if (range.even && (value as number) % 2 !== 0) return `"${key}" must be even (got ${got})`;
  return undefined;
}

/** DiT config.json keys (original WanModel names). */
export const DIT_LIMITS = {
  dim: { min: 1, max: 65536 },
  ffn_dim: { min: 1, max: 262144 },
  freq_dim: { min: 2, max: 65536, even: true },
  num_heads: { min: 1, max: 1024 },
  num_layers: { min: 1, max: 512 },
  in_dim: { min: 1, max: 1024 },
  out_dim: { min: 1, max: 1024 },
  text_dim: { min: 1, max: 65536 },
  text_len: { min: 1, max: 4096 },
  patch_size: { min: 1, max: 16 },
  eps: { min: 0, max: 1, integer: false, exclusiveMin: true },
} satisfies Record<string, ValueRange>;

/** umT5 encoder values (read from tensor shapes, t5_config.json or the converted text_encoder.json). */
export const T5_LIMITS = {
  vocab: { min: 1, max: 1_048_576 },
  dim: { min: 1, max: 65536 },
  dim_attn: { min: 1, max: 65536 },
  dim_ffn: { min: 1, max: 262144 },
  num_heads: { min: 1, max: 1024 },
  num_layers: { min: 1, max: 512 },
  num_buckets: { min: 1, max: 1024 },
  max_distance: { min: 1, max: 65536 },
  text_len: { min: 1, max: 4096 },
  eps: { min: 0, max: 1, integer: false, exclusiveMin: true },
} satisfies Record<string, ValueRange>;

/** VAE decoder values. */
export const VAE_LIMITS = {
  z_dim: { min: 1, max: 1024 },
  dim: { min: 1, max: 4096 },
  spatial_scale: { min: 1, max: 64 },
  temporal_scale: { min: 1, max: 64 },
} satisfies Record<string, ValueRange>;

/** Checks every `[key, value, range]` and returns the problems found (empty when all fit). */
export function rangeProblems(entries: [string, unknown, ValueRange][]): string[] {
  return entries.map(([k, v, r]) => rangeProblem(k, v, r)).filter((p): p is string => p !== undefined);
}
