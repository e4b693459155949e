/**
 * What a schedule records about its model, and the FLOPs shape of a generation, derived
 * from a loaded WanDiT. The fingerprint hashes the converted stage files' sha256 values
 * (from the manifest), so it changes whenever any weight changes.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { WanDiT } from '../models/wan/dit/runtime.js';
import type { Latent } from '../core/types.js';
import type { FlopsShape } from './flops.js';
import type { ScheduleModel } from './schedule.js';

/** What these functions read of a DiT: a loaded WanDiT, or its manifest alone (the preflight loads no sessions). */
export type DiTDescription = Pick<WanDiT, 'config' | 'manifest'>;

export function modelFingerprint(dit: DiTDescription): string {
  const h = createHash('sha256');
  for (const stage of Object.keys(dit.manifest.stages).sort()) {
    const e = dit.manifest.stages[stage];
    h.update(`${stage}:${e.sha256}:${e.weights?.sha256 ?? ''}\n`);
  }
  return `sha256:${h.digest('hex')}`;
}

/** The schedule's model record; `id` defaults to the converted folder's name. */
export function scheduleModelFor(dit: WanDiT, id = basename(dit.modelDir)): ScheduleModel {
  return { id, fingerprint: modelFingerprint(dit), layers: dit.config.numLayers, dim: dit.config.dim, heads: dit.config.numHeads };
}

/** FLOPs shape of one model evaluation on a latent of this shape. */
export function flopsShapeFor(dit: DiTDescription, latentShape: Latent['shape']): FlopsShape {
  const c = dit.config;
  const [, f, h, w] = latentShape;
  const [pt, ph, pw] = c.patchSize;
  return {
    dim: c.dim,
    ffnDim: c.ffnDim,
    textLen: c.textLen,
    textDim: c.textDim,
    layers: c.numLayers,
    tokens: (f / pt) * (h / ph) * (w / pw),
    patchFeatures: dit.manifest.tokens.patchFeatures,
    headFeatures: dit.manifest.tokens.headFeatures,
    freqDim: c.freqDim,
  };
}
