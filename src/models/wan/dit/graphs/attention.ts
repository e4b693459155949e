/** The weight-free attention stage shared by every block (self-attention over query chunks). */
import { GraphBuilder } from '../../../../onnx/builder.js';
import { STAGE } from './stages.js';

/** q [1, nq, D], k/v [1, nk, D] -> softmax(q·kᵀ/√hd)·v per head, [1, nq, D]. No mask. */
export function buildAttention(numHeads: number, headDim: number): GraphBuilder {
  const g = new GraphBuilder(STAGE.attention);
  const dim = numHeads * headDim;
  const q = g.input('q', 'float32', [1, 'nq', dim]);
  const k = g.input('k', 'float32', [1, 'nk', dim]);
  const v = g.input('v', 'float32', [1, 'nk', dim]);
  g.output(g.multiHeadAttention(q, k, v, numHeads, 1 / Math.sqrt(headDim)), 'attn', 'float32', [1, 'nq', dim]);
  return g;
}
