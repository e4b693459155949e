/**
 * A small real runner for batch tests: it blocks its thread for a set time (as onnxruntime's
 * run() does), derives a latent from the seed, and writes a real PNG plus a JSON sidecar with
 * temp-file-and-rename, exactly where the request says. Options (JSON):
 *   denoiseMs, finishMs: busy time per half; failPrompt: a prompt whose job throws;
 *   log: a file that gets one line per finished render ("<pid> <output name>");
 *   loadLog: a file that gets one line each time the runner is created (its "model" loads).
 */
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { writeLatentNpy } from '../../../src/pipeline/latent-file.js';
import type { Renderer, DenoisedJob, GenerateRequest, GenerateResult, RunOptions } from '../../../src/batch/types.js';

export interface FastRunnerOptions {
  denoiseMs?: number;
  finishMs?: number;
  failPrompt?: string;
  log?: string;
  loadLog?: string;
}

const SIDE = 8;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Block the thread in slices, checking the signal between them like a sampler between steps.
 * Atomics.wait blocks the JS thread exactly as onnxruntime's run() does, without burning CPU.
 */
function block(ms: number, steps: number, opts: RunOptions | undefined, phase: 'denoise' | 'decode'): void {
  for (let step = 0; step < steps; step++) {
    Atomics.wait(sleeper, 0, 0, ms / steps);
    if (opts?.signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
    opts?.onProgress?.({ phase, done: step + 1, total: steps });
  }
}

/** The PNG pixels a seed must produce; tests use it to check outputs. */
export function expectedPixels(seed: number): Uint8Array {
  const out = new Uint8Array(SIDE * SIDE * 4);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i += 4) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state & 255;
    out[i + 1] = (state >>> 8) & 255;
    out[i + 2] = (state >>> 16) & 255;
    out[i + 3] = 255;
  }
  return out;
}

export async function createRunner(options: FastRunnerOptions = {}): Promise<Renderer> {
  if (options.loadLog) appendFileSync(options.loadLog, `${process.pid}\n`);
  const denoiseMs = options.denoiseMs ?? 50;
  const finishMs = options.finishMs ?? 50;
  return {
    async denoise(req: GenerateRequest, opts?: RunOptions): Promise<DenoisedJob> {
      if (req.prompt === options.failPrompt) throw new RangeError(`cannot render "${req.prompt}"`);
      const seed = req.seed ?? 0;
      const t0 = Date.now();
      block(denoiseMs, 4, opts, 'denoise');
      const pixels = expectedPixels(seed);
      const latent = { data: Float32Array.from(pixels, (v) => v / 255), shape: [4, 1, SIDE, SIDE] as [number, number, number, number] };
      // Defaults filled the way Pipeline.resolve fills them, so the job looks like a real one.
      const request = {
        negativePrompt: '', width: SIDE, height: SIDE, frames: 1, steps: 4, shift: 3, guidance: 5, solver: 'unipc' as const,
        fps: 16, saveLatent: false, ...req, seed, format: req.format ?? 'png',
      };
      return { request, latent, timings: { denoise: Date.now() - t0 }, flopsRatio: 1 };
    },
    async finish(job: DenoisedJob, opts?: RunOptions): Promise<GenerateResult> {
      const t0 = Date.now();
      block(finishMs, 2, opts, 'decode');
      const png = new PNG({ width: SIDE, height: SIDE });
      png.data = Buffer.from(Array.from(job.latent.data, (v) => Math.round(v * 255)));
      const output = job.request.output;
      const tmp = `${output}.tmp-${process.pid}`;
      writeFileSync(tmp, PNG.sync.write(png));
      renameSync(tmp, output);
      const sidecar = output.replace(/\.[^.]+$/, '') + '.json';
      writeFileSync(sidecar, JSON.stringify({ prompt: job.request.prompt, seed: job.request.seed }));
      let latent: string | null = null;
      if (job.request.saveLatent) {
        latent = `${output}.latent.npy`;
        writeLatentNpy(latent, job.latent);
      }
      if (options.log) appendFileSync(options.log, `${process.pid} ${path.basename(output)}\n`);
      return { output, sidecar, latent, seed: job.request.seed, frames: 1, timings: { finish: Date.now() - t0 }, flopsRatio: job.flopsRatio };
    },
  };
}
