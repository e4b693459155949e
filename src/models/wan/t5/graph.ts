/**
 * The umT5 encoder as one ONNX graph: ids [B, L] int64 + mask [B, L] int64 → [B, L, dim].
 *
 * - T5 RMSNorm (no mean subtraction, eps 1e-6) via RMSNormalization-23.
 * - Attention with no 1/sqrt(d) scaling: MultiHeadAttention with scale = 1 and an
 *   attention_bias of position bias, where padded keys are overwritten with float32's
 *   minimum (the official `masked_fill(finfo.min)`, keys only).
 * - Buckets are derived once per run from L inside the graph through a 129-entry table
 *   (see buckets.ts); each layer gathers its own [buckets, heads] table from that one
 *   [L, L] bucket matrix, so no per-layer [heads, L, L] tensor is ever stored.
 * - Gated FFN fc2(fc1(x) · gelu_tanh(gate(x))).
 *
 * Weights come through `load`, one tensor at a time, so a converter can stream a 22 GB
 * model to disk layer by layer.
 */
import { floatAttr, GraphBuilder, type Value } from '../../../onnx/builder.js';
import { distanceBucketTable } from './buckets.js';
import { t5Keys, type T5EncoderConfig } from './config.js';

/** `linear` tensors are PyTorch [out, in] and must be delivered transposed to [in, out]. */
export type T5WeightKind = 'linear' | 'plain';
export type T5WeightLoader = (g: GraphBuilder, key: string, kind: T5WeightKind) => Promise<Value>;

export interface T5GraphOptions {
  /** Also output `hidden_after_block{i}` [B,L,dim] and `pos_bias_block{i}` [1,H,L,L] (parity checks). */
  debugOutputs?: boolean;
}

export const T5_INPUTS = { ids: 'ids', mask: 'mask' } as const;
export const T5_OUTPUT = 'context';
/** float32's most negative finite value: what `torch.finfo(float32).min` puts on padded keys. */
export const F32_MIN = -3.4028234663852886e38;

export async function buildT5EncoderGraph(cfg: T5EncoderConfig, load: T5WeightLoader, options: T5GraphOptions = {}): Promise<GraphBuilder> {
  const g = new GraphBuilder('umt5_encoder');
  const ids = g.input(T5_INPUTS.ids, 'int64', ['batch', 'tokens']);
  const mask = g.input(T5_INPUTS.mask, 'int64', ['batch', 'tokens']);

  const buckets = bucketMatrix(g, ids, cfg);
  const { paddedKey, minValue } = paddingBias(g, mask);

  let x = g.gather(await load(g, t5Keys.embedding, 'plain'), ids, 0);
  for (let i = 0; i < cfg.numLayers; i++) {
    const keys = t5Keys.block(i);
    const layer = await t5Layer(g, cfg, x, buckets, paddedKey, minValue, (key, kind) => load(g, keys[key], kind));
    x = layer.x;
    if (options.debugOutputs) {
      g.output(x, `hidden_after_block${i}`, 'float32', ['batch', 'tokens', cfg.dim]);
      g.output(layer.posBias, `pos_bias_block${i}`, 'float32', [1, cfg.numHeads, 'tokens', 'tokens']);
    }
  }
  const out = g.rmsNorm(x, await load(g, t5Keys.finalNorm, 'plain'), cfg.eps);
  g.output(out, T5_OUTPUT, 'float32', ['batch', 'tokens', cfg.dim]);
  return g;
}

export type T5LayerWeight = keyof ReturnType<typeof t5Keys.block>;

/**
 * One encoder layer (the same ops whether the whole encoder is one graph or each layer runs
 * alone, see layered.ts): position bias, self-attention, gated FFN, both pre-normed residuals.
 */
export async function t5Layer(g: GraphBuilder, cfg: T5EncoderConfig, x: Value, buckets: Value, paddedKey: Value, minValue: Value, load: (key: T5LayerWeight, kind: T5WeightKind) => Promise<Value>): Promise<{ x: Value; posBias: Value }> {
  // [L, L, H] → [1, H, L, L]
  const posBias = g.unsqueeze(g.transpose(g.gather(await load('posEmbedding', 'plain'), buckets, 0), [2, 0, 1]), [0]);
  const attnBias = g.op1('Where', [paddedKey, minValue, posBias]);

  const h = g.rmsNorm(x, await load('norm1', 'plain'), cfg.eps);
  const q = g.linear(h, await load('q', 'linear'));
  const k = g.linear(h, await load('k', 'linear'));
  const v = g.linear(h, await load('v', 'linear'));
  const attn = g.op1('MultiHeadAttention', [q, k, v, null, null, attnBias], { num_heads: cfg.numHeads, scale: floatAttr(1) }, 'com.microsoft');
  x = g.add(x, g.linear(attn, await load('o', 'linear')));

  const h2 = g.rmsNorm(x, await load('norm2', 'plain'), cfg.eps);
  const gate = g.gelu(g.linear(h2, await load('gate', 'linear')), 'tanh');
  const up = g.linear(h2, await load('fc1', 'linear'));
  x = g.add(x, g.linear(g.mul(up, gate), await load('fc2', 'linear')));
  return { x, posBias };
}

/** [B, 1, 1, L] true where the key is padding, and the value padded keys get. */
export function paddingBias(g: GraphBuilder, mask: Value): { paddedKey: Value; minValue: Value } {
  return { paddedKey: g.unsqueeze(g.op1('Equal', [mask, g.constInt64([0], [])]), [1, 2]), minValue: g.constFloat([F32_MIN], []) };
}

/** [L, L] int64 bucket of (key − query), computed from the sequence length alone. */
export function bucketMatrix(g: GraphBuilder, ids: Value, cfg: T5EncoderConfig): Value {
  const length = g.gather(g.shape(ids), g.constInt64([1], []), 0);
  const positions = g.op1('Range', [g.constInt64([0], []), length, g.constInt64([1], [])]);
  const rel = g.sub(g.unsqueeze(positions, [0]), g.unsqueeze(positions, [1]));
  const distance = g.op1('Min', [g.op1('Abs', [rel]), g.constInt64([cfg.maxDistance], [])]);
  const byDistance = g.gather(g.constInt64(distanceBucketTable(cfg.numBuckets, cfg.maxDistance)), distance, 0);
  const rightHalf = g.mul(g.cast(g.op1('Greater', [rel, g.constInt64([0], [])]), 'int64'), g.constInt64([cfg.numBuckets / 2], []));
  return g.add(byDistance, rightHalf);
}
