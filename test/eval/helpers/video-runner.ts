/**
 * A small real renderer for eval tests: the "latent" is the clip itself (3 × F × H × W in
 * [0, 1]), derived from the prompt and seed; finish() writes a real video through the
 * project's encoder. A budget below 1 (the accelerated run) adds a deterministic perturbation
 * that grows as the budget shrinks and does proportionally less busy work, so speed-up,
 * FLOPs ratio, PSNR and SSIM all move the way they would with a real model.
 * Options (JSON): width, height, frames, msPerFrame, failPrompt.
 */
import { createHash } from 'node:crypto';
import type { Renderer, DenoisedJob, GenerateRequest, GenerateResult, RunOptions } from '../../../src/batch/types.js';
import { openVideoWriter } from '../../../src/video/encode.js';

export interface VideoRunnerOptions {
  width?: number;
  height?: number;
  frames?: number;
  msPerFrame?: number;
  failPrompt?: string;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function budgetOf(req: GenerateRequest): number {
  if (req.budget !== undefined) return req.budget;
  if (req.schedule !== undefined) return Number(/budget-(\d+(?:\.\d+)?)/.exec(req.schedule)?.[1] ?? 0.5);
  return 1;
}

export async function createRunner(options: VideoRunnerOptions = {}): Promise<Renderer> {
  const W = options.width ?? 32;
  const H = options.height ?? 24;
  const msPerFrame = options.msPerFrame ?? 4;
  return {
    async denoise(req: GenerateRequest, opts?: RunOptions): Promise<DenoisedJob> {
      if (req.prompt === options.failPrompt) throw new RangeError(`cannot render "${req.prompt}"`);
      const F = req.frames ?? options.frames ?? 5;
      const seed = req.seed ?? 0;
      const budget = budgetOf(req);
      const t0 = Date.now();
      const until = t0 + msPerFrame * F * budget;
      while (Date.now() < until) { /* busy like a sampler */ }
      const promptHash = createHash('sha256').update(req.prompt).digest().readUInt32LE(0);
      const base = rng(seed ^ promptHash);
      const phase = base() * 6.28;
      const perturb = rng(seed + 7);
      const data = new Float32Array(3 * F * H * W);
      for (let c = 0; c < 3; c++) for (let f = 0; f < F; f++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        const v = 0.5 + 0.35 * Math.sin((x + 2 * f) / 4 + phase + c) * Math.cos((y - f) / 5 + phase);
        const noise = (perturb() - 0.5) * 0.25 * (1 - budget);
        data[((c * F + f) * H + y) * W + x] = Math.min(1, Math.max(0, v + noise));
      }
      opts?.onProgress?.({ phase: 'denoise', done: 1, total: 1 });
      // Defaults filled the way Pipeline.resolve fills them, so the job looks like a real one.
      const request = {
        negativePrompt: '', width: W, height: H, frames: F, steps: 4, shift: 3, guidance: 5, solver: 'unipc' as const,
        fps: 16, saveLatent: false, ...req, seed, format: req.format ?? 'mp4',
      };
      return { request, latent: { data, shape: [3, F, H, W] }, timings: { denoise: Date.now() - t0 }, flopsRatio: budget };
    },
    async finish(job: DenoisedJob): Promise<GenerateResult> {
      const t0 = Date.now();
      const [, F, h, w] = job.latent.shape;
      const sink = openVideoWriter({ output: job.request.output, width: w, height: h, settings: { prompt: job.request.prompt, seed: job.request.seed }, crf: 0 });
      for (let f = 0; f < F; f++) {
        const rgb = new Uint8Array(h * w * 3);
        for (let p = 0; p < h * w; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(job.latent.data[(c * F + f) * h * w + p]! * 255);
        await sink.write(rgb);
      }
      const r = await sink.finish();
      return { output: r.output, sidecar: r.sidecar, latent: null, seed: job.request.seed, frames: F, timings: { finish: Date.now() - t0 }, flopsRatio: job.flopsRatio };
    },
  };
}
