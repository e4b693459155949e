/**
 * One WanAttentionBlock split into four stages so that a sparse executor can run the
 * row-wise parts on a subset of tokens while attention sees every key:
 *   ctx_kv  (once per prompt)  ctx -> cross-attention K (RMS-normed) and V
 *   sa_qkv  x, e0, cos, sin -> q, k (RMS-normed over all of D, then 3-D RoPE), v
 *   attention (shared graph)  -> attn
 *   sa_out  attn -> y_sa (the `o` projection, ungated)
 *   post    x, y_sa, e0, k_ctx, v_ctx -> x_out, y_ca, y_ffn (raw module outputs)
 * Modulation rows: m = block.modulation + e0; 0/1/2 shift/scale/gate (self-attention),
 * 3/4/5 shift/scale/gate (FFN). Cross-attention has neither modulation nor gate.
 */
import { GraphBuilder, type Value } from '../../../../onnx/builder.js';
import { headDim, type WanDiTConfig } from '../config.js';
import { modulate, modulationSlice, plainLayerNorm, torchLinear, type StageBuildOptions, type StageWeights } from './common.js';
import { STAGE } from './stages.js';

export interface BlockBuildOptions extends StageBuildOptions {
  /** Also output intermediates (q/k before RoPE, cross-attention before `o`) for parity tests. */
  debugOutputs?: boolean;
}

const blockKey = (layer: number, name: string): string => `blocks.${layer}.${name}`;

function rmsNormWeight(g: GraphBuilder, x: Value, w: StageWeights, key: string, c: WanDiTConfig): Value {
  return g.rmsNorm(x, g.weight(key, [c.dim], w.get(key)), c.eps);
}

function blockModulation(g: GraphBuilder, c: WanDiTConfig, layer: number, w: StageWeights, e0: Value): Value {
  const key = blockKey(layer, 'modulation');
  return g.add(g.weight(key, [1, 6, c.dim], w.get(key)), e0);
}

/** ctx [1, text_len, D] -> k_ctx = norm_k(k(ctx)), v_ctx = v(ctx). */
export function buildContextKV(c: WanDiTConfig, layer: number, w: StageWeights, options: StageBuildOptions = {}): GraphBuilder {
  const g = new GraphBuilder(STAGE.contextKV(layer));
  const ctx = g.input('ctx', 'float32', [1, 'text_len', c.dim]);
  const p = blockKey(layer, 'cross_attn');
  const k = rmsNormWeight(g, torchLinear(g, ctx, w, `${p}.k`, c.dim, c.dim, options), w, `${p}.norm_k.weight`, c);
  const v = torchLinear(g, ctx, w, `${p}.v`, c.dim, c.dim, options);
  g.output(k, 'k_ctx', 'float32', [1, 'text_len', c.dim]);
  g.output(v, 'v_ctx', 'float32', [1, 'text_len', c.dim]);
  return g;
}

/** x [1, n, D], e0 [1, 6, D], cos/sin [1, n, hd/2] -> q, k (normed + RoPE), v, each [1, n, D]. */
export function buildSelfAttnQKV(c: WanDiTConfig, layer: number, w: StageWeights, options: BlockBuildOptions = {}): GraphBuilder {
  const g = new GraphBuilder(STAGE.selfAttnQKV(layer));
  const pairs = headDim(c) / 2;
  const x = g.input('x', 'float32', [1, 'n', c.dim]);
  const e0 = g.input('e0', 'float32', [1, 6, c.dim]);
  const cos = g.input('cos', 'float32', [1, 'n', pairs]);
  const sin = g.input('sin', 'float32', [1, 'n', pairs]);
  const m = blockModulation(g, c, layer, w, e0);
  const h = modulate(g, plainLayerNorm(g, x, c.dim, c.eps), modulationSlice(g, m, 0), modulationSlice(g, m, 1));
  const p = blockKey(layer, 'self_attn');
  const qn = rmsNormWeight(g, torchLinear(g, h, w, `${p}.q`, c.dim, c.dim, options), w, `${p}.norm_q.weight`, c);
  const kn = rmsNormWeight(g, torchLinear(g, h, w, `${p}.k`, c.dim, c.dim, options), w, `${p}.norm_k.weight`, c);
  const v = torchLinear(g, h, w, `${p}.v`, c.dim, c.dim, options);
  g.output(g.rotaryEmbedding(qn, cos, sin, c.numHeads, true), 'q', 'float32', [1, 'n', c.dim]);
  g.output(g.rotaryEmbedding(kn, cos, sin, c.numHeads, true), 'k', 'float32', [1, 'n', c.dim]);
  g.output(v, 'v', 'float32', [1, 'n', c.dim]);
  if (options.debugOutputs) {
    g.output(qn, 'q_normed', 'float32', [1, 'n', c.dim]);
    g.output(kn, 'k_normed', 'float32', [1, 'n', c.dim]);
  }
  return g;
}

/** attn [1, n, D] -> y_sa = o(attn) [1, n, D], before the gate. */
export function buildSelfAttnOut(c: WanDiTConfig, layer: number, w: StageWeights, options: StageBuildOptions = {}): GraphBuilder {
  const g = new GraphBuilder(STAGE.selfAttnOut(layer));
  const attn = g.input('attn', 'float32', [1, 'n', c.dim]);
  g.output(torchLinear(g, attn, w, `${blockKey(layer, 'self_attn')}.o`, c.dim, c.dim, options), 'y_sa', 'float32', [1, 'n', c.dim]);
  return g;
}

/**
 * The rest of the block, row-wise given k_ctx/v_ctx:
 *   x1 = x + y_sa·m2;  y_ca = CA(norm3(x1));  x2 = x1 + y_ca;
 *   y_ffn = FFN(LN(x2)·(1+m4)+m3);  x_out = x2 + y_ffn·m5.
 */
export function buildPost(c: WanDiTConfig, layer: number, w: StageWeights, options: BlockBuildOptions = {}): GraphBuilder {
  const g = new GraphBuilder(STAGE.post(layer));
  const tokens = [1, 'n', c.dim];
  const x = g.input('x', 'float32', tokens);
  const ySa = g.input('y_sa', 'float32', tokens);
  const e0 = g.input('e0', 'float32', [1, 6, c.dim]);
  const kCtx = g.input('k_ctx', 'float32', [1, 'text_len', c.dim]);
  const vCtx = g.input('v_ctx', 'float32', [1, 'text_len', c.dim]);
  const m = blockModulation(g, c, layer, w, e0);
  const x1 = g.add(x, g.mul(ySa, modulationSlice(g, m, 2)));

  const n3 = blockKey(layer, 'norm3');
  const normed = g.layerNorm(x1, g.weight(`${n3}.weight`, [c.dim], w.get(`${n3}.weight`)), g.weight(`${n3}.bias`, [c.dim], w.get(`${n3}.bias`)), c.eps);
  const p = blockKey(layer, 'cross_attn');
  const q = rmsNormWeight(g, torchLinear(g, normed, w, `${p}.q`, c.dim, c.dim, options), w, `${p}.norm_q.weight`, c);
  const caAttn = g.multiHeadAttention(q, kCtx, vCtx, c.numHeads, 1 / Math.sqrt(headDim(c)));
  const yCa = torchLinear(g, caAttn, w, `${p}.o`, c.dim, c.dim, options);
  const x2 = g.add(x1, yCa);

  const f = blockKey(layer, 'ffn');
  const h = modulate(g, plainLayerNorm(g, x2, c.dim, c.eps), modulationSlice(g, m, 3), modulationSlice(g, m, 4));
  const yFfn = torchLinear(g, g.gelu(torchLinear(g, h, w, `${f}.0`, c.dim, c.ffnDim, options), 'tanh'), w, `${f}.2`, c.ffnDim, c.dim, options);
  const xOut = g.add(x2, g.mul(yFfn, modulationSlice(g, m, 5)));

  g.output(xOut, 'x_out', 'float32', tokens);
  g.output(yCa, 'y_ca', 'float32', tokens);
  g.output(yFfn, 'y_ffn', 'float32', tokens);
  if (options.debugOutputs) g.output(caAttn, 'ca_attn', 'float32', tokens);
  return g;
}
