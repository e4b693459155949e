/** One entry point that builds any DiT stage graph by its name. */
import type { GraphBuilder } from '../../../../onnx/builder.js';
import { headDim, type WanDiTConfig } from '../config.js';
import { buildAttention } from './attention.js';
import { buildContextKV, buildPost, buildSelfAttnOut, buildSelfAttnQKV } from './block.js';
import type { StageBuildOptions, StageWeights } from './common.js';
import { buildPatchEmbed, buildTextEmbed, buildTimeEmbed } from './embeddings.js';
import { buildHead } from './head.js';
import { STAGE } from './stages.js';

export function buildStage(c: WanDiTConfig, stage: string, w: StageWeights, options: StageBuildOptions = {}): GraphBuilder {
  switch (stage) {
    case STAGE.timeEmbed: return buildTimeEmbed(c, w, options);
    case STAGE.textEmbed: return buildTextEmbed(c, w, options);
    case STAGE.patchEmbed: return buildPatchEmbed(c, w, options);
    case STAGE.attention: return buildAttention(c.numHeads, headDim(c));
    case STAGE.head: return buildHead(c, w, options);
  }
  const match = /^block(\d+)_(ctx_kv|sa_qkv|sa_out|post)$/.exec(stage);
  if (!match) throw new Error(`unknown DiT stage ${stage}`);
  const layer = Number(match[1]);
  switch (match[2]) {
    case 'ctx_kv': return buildContextKV(c, layer, w, options);
    case 'sa_qkv': return buildSelfAttnQKV(c, layer, w, options);
    case 'sa_out': return buildSelfAttnOut(c, layer, w, options);
    default: return buildPost(c, layer, w, options);
  }
}
