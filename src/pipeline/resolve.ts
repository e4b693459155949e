/**
 * A request with the pipeline's defaults filled in and checked against the model's sizes,
 * with no model loaded: Pipeline.resolve and the preflight (preflight.ts) share it.
 */
import { randomInt } from 'node:crypto';
import type { GenerateRequest, ResolvedRequest } from '../core/renderer.js';
import type { WanDiTConfig } from '../models/wan/dit/config.js';
import type { VaeDecoderConfig } from '../models/wan/vae/config.js';
import { formatOf } from '../video/format.js';
import type { PipelineDefinition } from './definition.js';

export class GenerateRequestError extends Error {
  override name = 'GenerateRequestError';
}

/** Fills defaults and checks the request against the model; throws GenerateRequestError. */
export function resolveRequest(definition: Pick<PipelineDefinition, 'defaults'>, dit: Pick<WanDiTConfig, 'patchSize'>, vae: Pick<VaeDecoderConfig, 'spatialScale' | 'temporalScale'>, req: GenerateRequest): ResolvedRequest {
  const d = definition.defaults;
  if (typeof req.prompt !== 'string') throw new GenerateRequestError('prompt is missing; give the text to turn into a video');
  if (!req.output) throw new GenerateRequestError('output is missing; give the path of the video to write');
  const r: ResolvedRequest = {
    prompt: req.prompt,
    negativePrompt: req.negativePrompt ?? d.negativePrompt,
    width: req.width ?? d.width,
    height: req.height ?? d.height,
    frames: req.frames ?? d.frames,
    steps: req.steps ?? d.steps,
    shift: req.shift ?? d.shift,
    guidance: req.guidance ?? d.guidance,
    seed: req.seed ?? randomInt(0, 2 ** 31),
    solver: req.solver ?? d.solver,
    output: req.output,
    format: formatOf(req.output, req.format),
    fps: req.fps ?? d.fps,
    saveLatent: req.saveLatent ?? false,
    noise: req.noise,
    schedule: req.schedule,
    budget: req.budget,
    method: req.method,
    forecast: req.forecast,
    ...(req.preview !== undefined && { preview: req.preview, previewEvery: req.previewEvery ?? 5 }),
  };
  const stride = vae.spatialScale * dit.patchSize[1];
  for (const [name, v] of [['width', r.width], ['height', r.height]] as const) {
    if (!Number.isInteger(v) || v <= 0 || v % stride !== 0) {
      throw new GenerateRequestError(`${name} ${v} does not fit the model: it must be a positive multiple of ${stride} (VAE stride ${vae.spatialScale} × patch ${dit.patchSize[1]}), e.g. ${Math.max(stride, Math.round(v / stride) * stride)}`);
    }
  }
  const t = vae.temporalScale;
  if (!Number.isInteger(r.frames) || r.frames < 1 || (r.frames - 1) % t !== 0) {
    throw new GenerateRequestError(`frames ${r.frames} does not fit the model: it must be ${t}k+1 (1, ${t + 1}, ${2 * t + 1}, ...), e.g. ${Math.max(1, Math.round((r.frames - 1) / t)) * t + 1}`);
  }
  if (!Number.isInteger(r.steps) || r.steps < 1 || r.steps > 1000) throw new GenerateRequestError(`steps ${r.steps} must be an integer from 1 to 1000`);
  if (!(r.shift > 0)) throw new GenerateRequestError(`shift ${r.shift} must be positive (Wan2.1 uses 5 for t2v)`);
  if (!Number.isFinite(r.guidance) || r.guidance < 0) throw new GenerateRequestError(`guidance ${r.guidance} must be a number ≥ 0 (1 turns guidance off; Wan2.1 uses 5)`);
  if (!Number.isInteger(r.seed) || r.seed < 0 || r.seed >= 2 ** 32) throw new GenerateRequestError(`seed ${r.seed} must be an integer from 0 to 4294967295`);
  if (!(r.fps > 0)) throw new GenerateRequestError(`fps ${r.fps} must be positive`);
  if (r.previewEvery !== undefined && (!Number.isInteger(r.previewEvery) || r.previewEvery < 1)) throw new GenerateRequestError(`previewEvery ${r.previewEvery} must be a positive integer`);
  return r;
}
