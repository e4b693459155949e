/**
 * Names of the DiT stage models and their inputs/outputs: the contract between the
 * converter, the runtime and the sparse block executor. Token dimensions are dynamic.
 */
export const STAGE = {
  timeEmbed: 'time_embed',
  textEmbed: 'text_embed',
  patchEmbed: 'patch_embed',
  attention: 'attention',
  head: 'head',
  contextKV: (layer: number): string => `block${layer}_ctx_kv`,
  selfAttnQKV: (layer: number): string => `block${layer}_sa_qkv`,
  selfAttnOut: (layer: number): string => `block${layer}_sa_out`,
  post: (layer: number): string => `block${layer}_post`,
} as const;

export const stageFile = (stage: string): string => `${stage}.onnx`;

/** Every stage of a model with `numLayers` blocks, in the order the converter writes them. */
export function allStages(numLayers: number): string[] {
  const out: string[] = [STAGE.timeEmbed, STAGE.textEmbed, STAGE.patchEmbed, STAGE.attention];
  for (let l = 0; l < numLayers; l++) out.push(STAGE.contextKV(l), STAGE.selfAttnQKV(l), STAGE.selfAttnOut(l), STAGE.post(l));
  out.push(STAGE.head);
  return out;
}
