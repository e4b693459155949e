/** The output head: LN(x)·(1 + scale) + shift with (shift, scale) = head.modulation + e, then Linear. */
import { GraphBuilder } from '../../../../onnx/builder.js';
import { headFeatures, type WanDiTConfig } from '../config.js';
import { modulate, modulationSlice, plainLayerNorm, torchLinear, type StageBuildOptions, type StageWeights } from './common.js';
import { STAGE } from './stages.js';

/** x [1, n, D], e [1, D] -> [1, n, out_dim·pt·ph·pw] in (kt, kh, kw, c) order. */
export function buildHead(c: WanDiTConfig, w: StageWeights, options: StageBuildOptions = {}): GraphBuilder {
  const g = new GraphBuilder(STAGE.head);
  const x = g.input('x', 'float32', [1, 'n', c.dim]);
  const e = g.input('e', 'float32', [1, c.dim]);
  // uses e itself (not time_projection(e)); index 0 = shift, 1 = scale
  const m = g.add(g.weight('head.modulation', [1, 2, c.dim], w.get('head.modulation')), g.unsqueeze(e, [1]));
  const h = modulate(g, plainLayerNorm(g, x, c.dim, c.eps), modulationSlice(g, m, 0), modulationSlice(g, m, 1));
  g.output(torchLinear(g, h, w, 'head.head', c.dim, headFeatures(c), options), 'out', 'float32', [1, 'n', headFeatures(c)]);
  return g;
}
