/**
 * Self-attention influence per token (ToCa's s1: the column sums of the attention map),
 * computed at dense passes from the q/k the block already produced. Fused attention never
 * materialises probabilities, so a small separate graph recomputes them for a strided subset
 * of queries (every ⌈N/m⌉-th token): Σ_{heads, sampled queries} softmax(q·kᵀ/√hd)[·, j].
 * Cost 4·m·N·D FLOPs, about 1% of a dense block at m = 256.
 */
import { GraphBuilder } from '../onnx/builder.js';
import { createSession, f32Tensor, type Session } from '../runtime/session.js';
import { gatherRows } from '../models/wan/dit/rows.js';

export function buildAttentionInfluence(dim: number, heads: number): GraphBuilder {
  const hd = dim / heads;
  const g = new GraphBuilder('attention_influence');
  const q = g.input('q', 'float32', [1, 'm', dim]);
  const k = g.input('k', 'float32', [1, 'n', dim]);
  const qh = g.transpose(g.reshape(q, [1, -1, heads, hd]), [0, 2, 1, 3]);
  const kh = g.transpose(g.reshape(k, [1, -1, heads, hd]), [0, 2, 3, 1]);
  const scores = g.mul(g.matMul(qh, kh), g.constFloat([1 / Math.sqrt(hd)], [1]));
  const probs = g.softmax(scores, -1);
  const influence = g.op1('ReduceSum', [probs, g.constInt64([0, 1, 2])], { keepdims: 0 });
  g.output(influence, 'influence', 'float32', ['n']);
  return g;
}

/** Strided query rows: m evenly spaced tokens out of n. */
export function sampledQueryRows(n: number, m: number): Int32Array {
  if (m >= n) return Int32Array.from({ length: n }, (_, i) => i);
  return Int32Array.from({ length: m }, (_, i) => Math.floor((i * n) / m));
}

export class AttentionInfluence {
  private constructor(
    private readonly session: Session,
    readonly dim: number,
    readonly queries: number,
  ) {}

  static async create(dim: number, heads: number, queries = 256, intraOpThreads?: number): Promise<AttentionInfluence> {
    return new AttentionInfluence(await createSession(buildAttentionInfluence(dim, heads).toBytes(), { intraOpThreads }), dim, queries);
  }

  /** Influence of each of the n key tokens, from all-token q and k [n, D]. */
  async compute(q: Float32Array, k: Float32Array): Promise<Float32Array> {
    const n = k.length / this.dim;
    const rows = sampledQueryRows(n, this.queries);
    const qs = gatherRows(q, this.dim, rows);
    const out = await this.session.run({ q: f32Tensor(qs, [1, rows.length, this.dim]), k: f32Tensor(k, [1, n, this.dim]) });
    return out.influence.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
