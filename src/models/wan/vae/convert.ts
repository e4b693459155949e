/**
 * VAE checkpoint → a folder with the two streaming decoder graphs and a manifest:
 *
 *   vae-decoder.json          manifest (config, graph files, cache slots)
 *   decoder_first.onnx/.weights   latent frame 0 → 1 RGB frame + caches
 *   decoder_next.onnx/.weights    latent frame i>0 + caches → 4 RGB frames + caches
 *
 * Every file is written under a temporary name and renamed; the manifest goes last, so a
 * folder with a manifest is complete.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveModelWithExternalData } from '../../../onnx/external.js';
import { planDecoder, planScales, vaeConfigProblems, WAN21_VAE_DEFAULTS, VaeWeightsError, type DecoderPlan, type VaeDecoderConfig } from './config.js';
import { buildDecoderGraph, type CacheSlot, type DecoderGraphOptions, type VaeTensorSource } from './decoder-graph.js';
import { openVaeWeights } from './weights.js';

export const VAE_MANIFEST_FILE = 'vae-decoder.json';
export const VAE_MANIFEST_FORMAT = 'diffsparse/wan-vae-decoder';

export interface VaeDecoderManifest {
  format: typeof VAE_MANIFEST_FORMAT;
  version: 1;
  config: VaeDecoderConfig;
  graphs: { first: string; next: string };
  /** RGB frames produced by the first chunk and by every later chunk. */
  framesPerChunk: { first: number; next: number };
  /** Cache slots, identical (same order and names) in both graphs. */
  caches: CacheSlot[];
  /** Whether the graphs also output `z_unscaled` and `conv2_out`. */
  intermediates: boolean;
}

export interface ConvertVaeOptions extends DecoderGraphOptions {
  /** Overrides of the release config (latent mean/std, ...). */
  config?: Partial<VaeDecoderConfig>;
}

/** Fills `dim` and `zDim` from the weights and checks the scales the layer plan implies. */
export function resolveVaeConfig(plan: DecoderPlan, overrides: Partial<VaeDecoderConfig> = {}): VaeDecoderConfig {
  const config: VaeDecoderConfig = { ...WAN21_VAE_DEFAULTS, ...overrides, zDim: plan.zDim, dim: plan.headChannels };
  const problems = vaeConfigProblems(config);
  if (problems.length) throw new VaeWeightsError(`VAE config: ${problems.join('; ')}; fix vae_config.json or check the VAE weights`);
  const scales = planScales(plan);
  if (scales.spatial !== config.spatialScale || scales.temporal !== config.temporalScale) {
    throw new VaeWeightsError(`VAE weights: the decoder upsamples ×${scales.spatial} in space and ×${scales.temporal} in time; Wan2.1 expects ×${config.spatialScale} and ×${config.temporalScale}.`);
  }
  return config;
}

export async function convertVaeDecoder(source: VaeTensorSource, outDir: string, options: ConvertVaeOptions = {}): Promise<VaeDecoderManifest> {
  const plan = planDecoder(source);
  const config = resolveVaeConfig(plan, options.config);
  mkdirSync(outDir, { recursive: true });
  const first = await buildDecoderGraph(source, plan, config, 'first', options);
  saveModelWithExternalData(first.graph.build(), join(outDir, 'decoder_first.onnx'));
  const next = await buildDecoderGraph(source, plan, config, 'next', options);
  saveModelWithExternalData(next.graph.build(), join(outDir, 'decoder_next.onnx'));
  if (JSON.stringify(first.caches) !== JSON.stringify(next.caches)) throw new Error('VAE conversion: first and next graphs disagree on cache slots');
  const manifest: VaeDecoderManifest = {
    format: VAE_MANIFEST_FORMAT,
    version: 1,
    config,
    graphs: { first: 'decoder_first.onnx', next: 'decoder_next.onnx' },
    framesPerChunk: { first: 1, next: config.temporalScale },
    caches: next.caches,
    intermediates: options.exposeIntermediates ?? false,
  };
  const path = join(outDir, VAE_MANIFEST_FILE);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
  return manifest;
}

/** Converts a checkpoint on disk (`Wan2.1_VAE.pth`, or a diffusers `vae/` folder or file). */
export async function convertVaeCheckpoint(weightsPath: string, outDir: string, options: ConvertVaeOptions = {}): Promise<VaeDecoderManifest> {
  const weights = await openVaeWeights(weightsPath);
  try {
    return await convertVaeDecoder(weights.tensors, outDir, options);
  } finally {
    await weights.close();
  }
}
