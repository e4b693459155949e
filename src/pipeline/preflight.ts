/**
 * Every check of a request that needs no model work (issue 17): the pipeline definition, the
 * converted folders' manifests, the size/frames/steps fit, the sparsity request (schedule
 * present and made for this model, budget reachable, or the user's choice when the model
 * ships no schedules) and the estimates of memory and time. It reads only small JSON files,
 * creates no session, and runs before the text encoder or the DiT is loaded.
 */
import type { GenerateRequest, ResolvedRequest } from '../core/renderer.js';
import { readDiTManifest, type DiTManifest } from '../models/wan/dit/manifest.js';
import type { T5EncoderConfig } from '../models/wan/t5/config.js';
import { readT5Manifest } from '../models/wan/t5/session.js';
import { readVaeManifest } from '../models/wan/vae/chunk-decoder.js';
import type { VaeDecoderManifest } from '../models/wan/vae/convert.js';
import { resolvePipeline, type ResolvedPipeline } from './definition.js';
import { estimateGeneration, type GenerationEstimate, type MachineSpeed, type ModelSizes } from './estimate.js';
import { GenerateRequestError, resolveRequest } from './resolve.js';
import { planSparsity } from './sparse-model.js';
import { trainedRangeWarnings } from './trained.js';

export interface PipelineSizes {
  definition: ResolvedPipeline;
  dit: DiTManifest;
  vae: VaeDecoderManifest;
  t5: T5EncoderConfig;
  sizes: ModelSizes;
}

/** The sizes of a pipeline's models, from their manifests. */
export function readPipelineSizes(pipeline?: string): PipelineSizes {
  const definition = resolvePipeline(pipeline);
  const dit = readDiTManifest(definition.models.dit);
  const vae = readVaeManifest(definition.models.vae);
  const t5Manifest = readT5Manifest(definition.models.text);
  const t5 = t5Manifest.config;
  if (t5.dim !== dit.config.textDim)
    throw new GenerateRequestError(`pipeline ${definition.name}: the text encoder's width ${t5.dim} does not match the DiT's text_dim ${dit.config.textDim}; the model folders come from different models`);
  return { definition, dit, vae, t5, sizes: { dit: dit.config, patchFeatures: dit.tokens.patchFeatures, headFeatures: dit.tokens.headFeatures, t5, vae: vae.config, t5Layered: t5Manifest.storedAs === 'checkpoint', ...(dit.quantized && { quantized: dit.quantized }), ...(dit.storageDtype === 'bfloat16' && { bfloat16: true }) } };
}

export interface Preflight {
  request: ResolvedRequest;
  latentShape: [number, number, number, number];
  /** The sparsity plan's share of dense FLOPs (1 when dense), what it is, and warnings for the user. */
  flopsRatio: number;
  sparsity?: string;
  schedule?: string;
  warnings: string[];
  estimate: GenerationEstimate;
  pipeline: PipelineSizes;
}

/**
 * Checks a request against a pipeline without loading it. Throws the same errors the render
 * would (GenerateRequestError, SparsityRequestError, ScheduleError) — but before any work.
 */
/** `speed`: the matmul speed and fixed costs the time estimate uses (or `gflops` alone: FLOPs only). */
export async function preflight(pipeline: string | undefined, req: GenerateRequest, options: { gflops?: number; speed?: MachineSpeed } = {}): Promise<Preflight> {
  const p = readPipelineSizes(pipeline);
  const r = resolveRequest(p.definition, p.dit.config, p.vae.config, req);
  const s = p.vae.config.spatialScale;
  const latentShape: [number, number, number, number] = [p.dit.config.inDim, (r.frames - 1) / p.vae.config.temporalScale + 1, r.height / s, r.width / s];
  const planned = await planSparsity({ config: p.dit.config, manifest: p.dit }, r, latentShape, p.definition);
  const sparse = planned && { flopsRatio: planned.flopsRatio, table: planned.made.plan.table, description: planned.made.description };
  const estimate = estimateGeneration({ sizes: p.sizes, latentShape, steps: r.steps, guidance: r.guidance, ...(sparse && { sparse }) }, options.speed ?? options.gflops);
  return {
    request: r, latentShape, flopsRatio: planned?.flopsRatio ?? 1,
    ...(planned && { sparsity: planned.made.description }), ...(planned?.made.source && { schedule: planned.made.source.file }),
    // Outside the trained sizes first (issue 19), then the sparsity warnings, as generate prints them.
    warnings: [...trainedRangeWarnings(p.definition.trained, r, p.definition.name), ...(planned?.warnings ?? [])], estimate, pipeline: p,
  };
}
