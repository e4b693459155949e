/**
 * Wan2.1 VAE decoder configuration and the layer plan read from a checkpoint's keys.
 *
 * The decoder's structure (which `decoder.upsamples.N` is a residual block, an upsample3d
 * with a `time_conv`, or a spatial-only upsample2d) and all channel counts are derived from
 * the weight shapes, so any width (release dim 96, the tiny fixture's dim 8) converts with
 * the same code. Only the latent normalisation constants are not in the weight file.
 */

import { rangeProblems, VAE_LIMITS } from '../limits.js';

/** Per-channel latent statistics of the released Wan2.1 VAE (`WanVAE.__init__`). */
export const WAN21_LATENT_MEAN: readonly number[] = [
  -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921,
];
export const WAN21_LATENT_STD: readonly number[] = [
  2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.916,
];

export interface VaeDecoderConfig {
  /** Latent channels (z_dim). */
  zDim: number;
  /** Base width (`dim`); the release uses 96. */
  dim: number;
  /** Per-channel latent mean / std used to undo the DiT-space normalisation. */
  latentMean: number[];
  latentStd: number[];
  /** Spatial and temporal compression of the decoder (8 and 4 for Wan2.1). */
  spatialScale: number;
  temporalScale: number;
}

export const WAN21_VAE_DEFAULTS: VaeDecoderConfig = {
  zDim: 16,
  dim: 96,
  latentMean: [...WAN21_LATENT_MEAN],
  latentStd: [...WAN21_LATENT_STD],
  spatialScale: 8,
  temporalScale: 4,
};

/** One module of the decoder's `middle` / `upsamples` sequence. */
export type DecoderLayer =
  | { kind: 'residual'; prefix: string; inChannels: number; outChannels: number; shortcut: boolean }
  | { kind: 'attention'; prefix: string; channels: number }
  | { kind: 'upsample3d'; prefix: string; channels: number }
  | { kind: 'upsample2d'; prefix: string; channels: number };

export interface DecoderPlan {
  zDim: number;
  /** Channels after `decoder.conv1`. */
  inChannels: number;
  middle: DecoderLayer[];
  upsamples: DecoderLayer[];
  /** Channels entering the head (= base dim). */
  headChannels: number;
}

/** Shapes by key; the weight readers' `info(key).shape` provides this. */
export interface ShapeLookup {
  keys(): string[];
  has(key: string): boolean;
  shape(key: string): number[];
}

export class VaeWeightsError extends Error {
  override readonly name = 'VaeWeightsError';
}

function required(shapes: ShapeLookup, key: string): number[] {
  if (!shapes.has(key)) {
    throw new VaeWeightsError(`VAE weights: missing tensor "${key}". Pass the Wan2.1 VAE checkpoint (Wan2.1_VAE.pth or the diffusers vae folder).`);
  }
  return shapes.shape(key);
}

function layerAt(shapes: ShapeLookup, prefix: string): DecoderLayer | null {
  if (shapes.has(`${prefix}.residual.2.weight`)) {
    const conv1 = shapes.shape(`${prefix}.residual.2.weight`);
    return { kind: 'residual', prefix, inChannels: conv1[1], outChannels: conv1[0], shortcut: shapes.has(`${prefix}.shortcut.weight`) };
  }
  if (shapes.has(`${prefix}.to_qkv.weight`)) return { kind: 'attention', prefix, channels: shapes.shape(`${prefix}.proj.weight`)[0] };
  if (shapes.has(`${prefix}.resample.1.weight`)) {
    const channels = shapes.shape(`${prefix}.resample.1.weight`)[1];
    return shapes.has(`${prefix}.time_conv.weight`) ? { kind: 'upsample3d', prefix, channels } : { kind: 'upsample2d', prefix, channels };
  }
  return null;
}

/** Reads the decoder's layer sequence and channel counts from original-format (`decoder.*`) keys. */
export function planDecoder(shapes: ShapeLookup): DecoderPlan {
  const conv1 = required(shapes, 'decoder.conv1.weight');
  const conv2 = required(shapes, 'conv2.weight');
  const head = required(shapes, 'decoder.head.2.weight');
  if (conv2[0] !== conv1[1] || head[0] !== 3) {
    throw new VaeWeightsError(`VAE weights: inconsistent shapes (conv2 ${conv2}, decoder.conv1 ${conv1}, head ${head}); is this a Wan2.1 VAE?`);
  }
  const middle: DecoderLayer[] = [];
  for (let i = 0; ; i++) {
    const layer = layerAt(shapes, `decoder.middle.${i}`);
    if (!layer) break;
    middle.push(layer);
  }
  const upsamples: DecoderLayer[] = [];
  for (let i = 0; ; i++) {
    const layer = layerAt(shapes, `decoder.upsamples.${i}`);
    if (!layer) break;
    upsamples.push(layer);
  }
  if (middle.length === 0 || upsamples.length === 0) throw new VaeWeightsError('VAE weights: no decoder.middle / decoder.upsamples blocks found; is this a Wan2.1 VAE?');
  return { zDim: conv1[1], inChannels: conv1[0], middle, upsamples, headChannels: head[1] };
}

/** Channel/time/space factors the plan implies, checked against the config. */
export function planScales(plan: DecoderPlan): { spatial: number; temporal: number } {
  let spatial = 1;
  let temporal = 1;
  for (const l of plan.upsamples) {
    if (l.kind === 'upsample3d') { spatial *= 2; temporal *= 2; }
    if (l.kind === 'upsample2d') spatial *= 2;
  }
  return { spatial, temporal };
}

/**
 * Values outside VAE_LIMITS (issue 18), and latent statistics that are not z_dim finite
 * numbers (std > 0); empty when the config fits.
 */
export function vaeConfigProblems(c: Partial<VaeDecoderConfig>): string[] {
  const problems = rangeProblems([
    ['z_dim', c.zDim, VAE_LIMITS.z_dim],
    ['dim', c.dim, VAE_LIMITS.dim],
    ['spatial_scale', c.spatialScale, VAE_LIMITS.spatial_scale],
    ['temporal_scale', c.temporalScale, VAE_LIMITS.temporal_scale],
  ]);
  for (const [key, values, positive] of [['mean', c.latentMean, false], ['std', c.latentStd, true]] as const) {
    if (!Array.isArray(values) || (typeof c.zDim === 'number' && values.length !== c.zDim)) {
      problems.push(`latent "${key}" must be a list of ${c.zDim ?? 'z_dim'} numbers, one per latent channel (got ${Array.isArray(values) ? `${values.length} values` : JSON.stringify(values) ?? 'nothing'})`);
      continue;
    }
    const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0) || Math.abs(v) > 1e6);
    if (bad >= 0) problems.push(`latent "${key}"[${bad}] must be a finite number${positive ? ' greater than 0' : ''} of at most 1e6 in size (got ${JSON.stringify(values[bad])})`);
  }
  return problems;
}
