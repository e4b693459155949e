/** Graphs for the time, text and patch embeddings. */
import { GraphBuilder } from '../../../../onnx/builder.js';
import { patchFeatures, type WanDiTConfig } from '../config.js';
import { torchLinear, type StageBuildOptions, type StageWeights } from './common.js';
import { STAGE } from './stages.js';

/** t_sinusoid [1, freq_dim] -> e [1, D] (time_embedding), e0 [1, 6, D] (time_projection of e). */
export function buildTimeEmbed(c: WanDiTConfig, w: StageWeights, options: StageBuildOptions = {}): GraphBuilder {
  const g = new GraphBuilder(STAGE.timeEmbed);
  const s = g.input('t_sinusoid', 'float32', [1, c.freqDim]);
  const h = g.silu(torchLinear(g, s, w, 'time_embedding.0', c.freqDim, c.dim, options));
  const e = torchLinear(g, h, w, 'time_embedding.2', c.dim, c.dim, options);
  const e0 = torchLinear(g, g.silu(e), w, 'time_projection.1', c.dim, 6 * c.dim, options);
  g.output(e, 'e', 'float32', [1, c.dim]);
  g.output(g.reshape(e0, [1, 6, c.dim]), 'e0', 'float32', [1, 6, c.dim]);
  return g;
}

/** context [1, text_len, text_dim] (zero-padded) -> [1, text_len, D]: Linear, GELU(tanh), Linear. */
export function buildTextEmbed(c: WanDiTConfig, w: StageWeights, options: StageBuildOptions = {}): GraphBuilder {
  const g = new GraphBuilder(STAGE.textEmbed);
  const ctx = g.input('context', 'float32', [1, 'text_len', c.textDim]);
  const h = g.gelu(torchLinear(g, ctx, w, 'text_embedding.0', c.textDim, c.dim, options), 'tanh');
  g.output(torchLinear(g, h, w, 'text_embedding.2', c.dim, c.dim, options), 'context_embed', 'float32', [1, 'text_len', c.dim]);
  return g;
}

/** patches [1, n, C·pt·ph·pw] in (c, kt, kh, kw) order -> x [1, n, D]; the Conv3d as a matmul. */
export function buildPatchEmbed(c: WanDiTConfig, w: StageWeights, options: StageBuildOptions = {}): GraphBuilder {
  const g = new GraphBuilder(STAGE.patchEmbed);
  const feat = patchFeatures(c);
  const patches = g.input('patches', 'float32', [1, 'n', feat]);
  // the conv weight [D, C, pt, ph, pw] is exactly a Linear weight [D, feat] in this order
  g.output(torchLinear(g, patches, w, 'patch_embedding', feat, c.dim, options), 'x', 'float32', [1, 'n', c.dim]);
  return g;
}
