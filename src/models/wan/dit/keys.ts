/**
 * The checkpoint keys (original Wan names) and shapes a WanModel of a given config holds,
 * and which of them each stage graph reads. The converter uses the first to name missing
 * or unexpected keys and the second to read only one stage's tensors at a time.
 */
import { headFeatures, type WanDiTConfig } from './config.js';
import { STAGE } from './graphs/stages.js';

const linear = (out: Map<string, number[]>, prefix: string, inDim: number, outDim: number): void => {
  out.set(`${prefix}.weight`, [outDim, inDim]);
  out.set(`${prefix}.bias`, [outDim]);
};

/** Every key of the state dict with its shape (15 top-level + 27 per block). */
export function ditKeyShapes(c: WanDiTConfig): Map<string, number[]> {
  const D = c.dim;
  const m = new Map<string, number[]>();
  m.set('patch_embedding.weight', [D, c.inDim, ...c.patchSize]);
  m.set('patch_embedding.bias', [D]);
  linear(m, 'text_embedding.0', c.textDim, D);
  linear(m, 'text_embedding.2', D, D);
  linear(m, 'time_embedding.0', c.freqDim, D);
  linear(m, 'time_embedding.2', D, D);
  linear(m, 'time_projection.1', D, 6 * D);
  for (let l = 0; l < c.numLayers; l++) {
    const b = `blocks.${l}`;
    m.set(`${b}.modulation`, [1, 6, D]);
    for (const attn of ['self_attn', 'cross_attn']) {
      for (const p of ['q', 'k', 'v', 'o']) linear(m, `${b}.${attn}.${p}`, D, D);
      m.set(`${b}.${attn}.norm_q.weight`, [D]);
      m.set(`${b}.${attn}.norm_k.weight`, [D]);
    }
    m.set(`${b}.norm3.weight`, [D]);
    m.set(`${b}.norm3.bias`, [D]);
    linear(m, `${b}.ffn.0`, D, c.ffnDim);
    linear(m, `${b}.ffn.2`, c.ffnDim, D);
  }
  m.set('head.modulation', [1, 2, D]);
  linear(m, 'head.head', D, headFeatures(c));
  return m;
}

const wb = (prefix: string): string[] => [`${prefix}.weight`, `${prefix}.bias`];

/** The checkpoint keys one stage graph reads. */
export function stageKeys(stage: string): string[] {
  switch (stage) {
    case STAGE.timeEmbed:
      return [...wb('time_embedding.0'), ...wb('time_embedding.2'), ...wb('time_projection.1')];
    case STAGE.textEmbed:
      return [...wb('text_embedding.0'), ...wb('text_embedding.2')];
    case STAGE.patchEmbed:
      return wb('patch_embedding');
    case STAGE.attention:
      return [];
    case STAGE.head:
      return ['head.modulation', ...wb('head.head')];
  }
  const match = /^block(\d+)_(ctx_kv|sa_qkv|sa_out|post)$/.exec(stage);
  if (!match) throw new Error(`unknown DiT stage ${stage}`);
  const b = `blocks.${match[1]}`;
  switch (match[2]) {
    case 'ctx_kv':
      return [...wb(`${b}.cross_attn.k`), `${b}.cross_attn.norm_k.weight`, ...wb(`${b}.cross_attn.v`)];
    case 'sa_qkv':
      return [`${b}.modulation`, ...['q', 'k', 'v'].flatMap((p) => wb(`${b}.self_attn.${p}`)), `${b}.self_attn.norm_q.weight`, `${b}.self_attn.norm_k.weight`];
    case 'sa_out':
      return wb(`${b}.self_attn.o`);
    default:
      return [
        `${b}.modulation`, ...wb(`${b}.norm3`), ...wb(`${b}.cross_attn.q`), `${b}.cross_attn.norm_q.weight`, ...wb(`${b}.cross_attn.o`),
        ...wb(`${b}.ffn.0`), ...wb(`${b}.ffn.2`),
      ];
  }
}
