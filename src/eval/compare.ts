/**
 * Dense vs accelerated fidelity check: the same prompts and seeds rendered densely and with
 * each accelerated variant (a schedule file, a FLOPs budget, or a baseline method's schedule),
 * in one run and one process, so wall-clock speed-ups compare like with like. Fidelity is
 * measured the way the acceleration papers do it, on the decoded videos: PSNR per frame and
 * SSIM per RGB channel (TeaCache/MagCache), plus VBench temporal flickering of both sides and
 * the relative L2 of the final latents. A quality gate turns the numbers into pass/fail.
 *
 * Layout of `outDir`: `dense/videos/` and `<variant>/videos/` hold VBench-named videos (each
 * folder can be scored by VBench as it is), `<name>/sidecars/` their settings, `frames/` the
 * middle frame of the first video of each side (for the report), `compare.json` the results.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import { slugify } from '../batch/naming.js';
import type { Renderer, DenoisedJob, GenerateRequest, GenerateResult } from '../batch/types.js';
import { isSparsityMethod, type SparsityMethod } from '../sparsity/methods/index.js';
import { loadSchedule } from '../sparsity/schedule.js';
import { readVideoFrames } from '../video/probe.js';
import { withRenderer, type RendererChoice } from './renderer.js';
import { firstSidecarSettings, runInfo, type RunInfo } from './run-info.js';
import { latentRelativeL2, mean, psnr, ssim, temporalFlickering, type Clip } from '../video/metrics.js';
import type { RenderSettings } from './run.js';
import { planJobs, type EvalJob, type SeedRule } from './vbench.js';

export interface CompareVariant {
  /** Name in tables and plots (default: the schedule's file name or "budget N%"). */
  label?: string;
  /** A schedule file (`diffsparse schedule solve`, or a baseline's schedule). */
  schedule?: string;
  /** A FLOPs budget in (0, 1]; the pipeline solves a schedule for it. */
  budget?: number;
  /**
   * Method family for grouping in plots (default: the schedule's provenance method, else
   * "diffsparse"). With a budget, a registered method (src/sparsity/methods/) is also passed
   * to the pipeline, which then meets the budget that way.
   */
  method?: string;
}

function pipelineMethod(v: CompareVariant | null): SparsityMethod | undefined {
  return v?.budget !== undefined && v.method !== undefined && isSparsityMethod(v.method) ? v.method : undefined;
}

export interface QualityGate {
  /** Minimum mean PSNR (dB) every variant must reach. */
  minPsnr?: number;
  /** Minimum mean SSIM every variant must reach. */
  minSsim?: number;
}

/** Renders every video in this process: `runner` (a loaded `Pipeline`, any Renderer), else the pipeline named by `pipeline`. */
export interface CompareOptions extends RendererChoice {
  prompts: string[];
  /** Videos per prompt (default 1). */
  samples?: number;
  baseSeed?: number;
  seedRule?: SeedRule;
  /** Shared generation settings; schedule/budget come from the variants. */
  settings?: Omit<RenderSettings, 'schedule' | 'budget'>;
  variants: CompareVariant[];
  outDir: string;
  gate?: QualityGate;
  /** Render one extra dense video first and discard it, so session warm-up is not timed (default false). */
  warmup?: boolean;
  signal?: AbortSignal;
  onEvent?(event: CompareEvent): void;
}

export type CompareEvent =
  | { type: 'render'; side: string; job: EvalJob; done: number; total: number }
  | { type: 'measured'; side: string; job: EvalJob; psnr: number; ssim: number };

export interface VideoComparison {
  fileName: string;
  prompt: string;
  seed: number;
  psnr: number;
  /** Frames identical to the dense ones (their PSNR is the 100 dB cap). */
  cappedFrames: number;
  psnrWholeVideo: number;
  ssim: number;
  latentRelL2: number;
  flicker: number;
  denseFlicker: number;
  wallMs: number;
  denseWallMs: number;
  denoiseMs: number;
  denseDenoiseMs: number;
  flopsRatio: number;
}

export interface VariantResult {
  label: string;
  /** Folder name under outDir. */
  slug: string;
  method: string;
  schedule?: string;
  budget?: number;
  /** Mean FLOPs ratio the pipeline reported (generation FLOPs / dense FLOPs). */
  flopsRatio: number;
  /** Σ dense wall / Σ variant wall, end to end (denoise + decode + encode). */
  speedup: number;
  /** The same over the denoising half only. */
  denoiseSpeedup: number;
  wallMs: number;
  psnr: number;
  psnrWholeVideo: number;
  ssim: number;
  latentRelL2: number;
  flicker: number;
  /** Per-video numbers. */
  videos: VideoComparison[];
  gate: { passed: boolean; failures: string[] };
  /** Middle frame of the first video, PNG. */
  sampleFrame?: string;
  /** Frames over time of the first video (up to 8, evenly spaced), side by side, PNG. */
  sampleStrip?: string;
}

export interface CompareResult {
  format: 'diffsparse/compare-results';
  version: 1;
  createdAt: string;
  settings: Omit<RenderSettings, 'schedule' | 'budget'>;
  jobs: { fileName: string; prompt: string; index: number; seed: number }[];
  metricsOn: string;
  dense: { wallMs: number; denoiseMs: number; flicker: number; sampleFrame?: string; sampleStrip?: string };
  variants: VariantResult[];
  /** Settings actually run (from the dense render's sidecar), samples, seeds, machine, version. */
  run?: RunInfo;
  gate: QualityGate & { passed: boolean };
  passed: boolean;
}

export class CompareOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompareOptionsError';
  }
}

function variantLabel(v: CompareVariant): string {
  if (v.label) return v.label;
  if (v.schedule) return path.basename(v.schedule).replace(/\.json$/i, '');
  const share = `${Math.round(v.budget! * 1000) / 10}%`;
  return v.method ? `${v.method} ${share}` : `budget ${share}`;
}

async function variantMethod(v: CompareVariant): Promise<string> {
  if (v.method) return v.method;
  if (v.schedule) {
    try {
      return (await loadSchedule(v.schedule)).provenance.method;
    } catch {
      return 'schedule';
    }
  }
  return 'diffsparse';
}

function checkOptions(o: CompareOptions): void {
  if (o.prompts.length === 0) throw new CompareOptionsError('compare needs at least one prompt');
  if (o.variants.length === 0) throw new CompareOptionsError('compare needs at least one accelerated variant (--schedule, --budget or --baseline)');
  for (const v of o.variants) {
    if ((v.schedule === undefined) === (v.budget === undefined)) {
      throw new CompareOptionsError(`variant "${v.label ?? '?'}": give exactly one of a schedule file or a budget`);
    }
    if (v.budget !== undefined && !(v.budget > 0 && v.budget <= 1)) throw new CompareOptionsError(`budget ${v.budget} is outside (0, 1]; a budget is the share of dense FLOPs`);
    if (v.schedule !== undefined && !existsSync(v.schedule)) throw new CompareOptionsError(`schedule file ${v.schedule} does not exist`);
  }
}

interface Rendered {
  file: string;
  latent: DenoisedJob['latent'];
  wallMs: number;
  denoiseMs: number;
  flopsRatio: number;
}

async function renderVideo(o: CompareOptions, runner: Renderer, request: GenerateRequest, dir: string, fileName: string): Promise<Rendered> {
  const videos = path.join(dir, 'videos');
  const sidecars = path.join(dir, 'sidecars');
  await mkdir(videos, { recursive: true });
  await mkdir(sidecars, { recursive: true });
  const opts = o.signal ? { signal: o.signal } : {};
  const t0 = performance.now();
  const denoised = await runner.denoise(request, opts);
  const t1 = performance.now();
  const result: GenerateResult = await runner.finish(denoised, opts);
  const t2 = performance.now();
  const file = path.join(videos, fileName);
  if (result.sidecar && existsSync(result.sidecar)) await rename(result.sidecar, path.join(sidecars, `${fileName}.json`));
  await rename(result.output, file);
  return { file, latent: denoised.latent, wallMs: t2 - t0, denoiseMs: t1 - t0, flopsRatio: result.flopsRatio };
}

async function decode(file: string): Promise<Clip> {
  const v = await readVideoFrames(file);
  return { width: v.width, height: v.height, frames: v.frames };
}

async function writeFramePng(clip: Clip, file: string): Promise<string> {
  const frame = clip.frames[Math.floor(clip.frames.length / 2)]!;
  const png = new PNG({ width: clip.width, height: clip.height });
  for (let p = 0; p < clip.width * clip.height; p++) {
    png.data[p * 4] = frame[p * 3]!;
    png.data[p * 4 + 1] = frame[p * 3 + 1]!;
    png.data[p * 4 + 2] = frame[p * 3 + 2]!;
    png.data[p * 4 + 3] = 255;
  }
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, PNG.sync.write(png));
  return file;
}

/** Up to `count` evenly spaced frames side by side (2 px gaps), with their frame numbers known to the report. */
async function writeStripPng(clip: Clip, file: string, count = 8): Promise<string> {
  const n = Math.min(count, clip.frames.length);
  const picks = Array.from({ length: n }, (_, i) => (n === 1 ? 0 : Math.round((i * (clip.frames.length - 1)) / (n - 1))));
  const gap = 2;
  const png = new PNG({ width: n * clip.width + (n - 1) * gap, height: clip.height });
  png.data.fill(255);
  picks.forEach((f, i) => {
    const frame = clip.frames[f]!;
    for (let y = 0; y < clip.height; y++) {
      for (let x = 0; x < clip.width; x++) {
        const o = (y * png.width + i * (clip.width + gap) + x) * 4;
        const p = (y * clip.width + x) * 3;
        png.data[o] = frame[p]!;
        png.data[o + 1] = frame[p + 1]!;
        png.data[o + 2] = frame[p + 2]!;
        png.data[o + 3] = 255;
      }
    }
  });
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, PNG.sync.write(png));
  return file;
}

/** The frame numbers (1-based) a strip of `count` shows out of `frames`. */
export function stripFrameNumbers(frames: number, count = 8): number[] {
  const n = Math.min(count, frames);
  return Array.from({ length: n }, (_, i) => 1 + (n === 1 ? 0 : Math.round((i * (frames - 1)) / (n - 1))));
}

function gateOf(gate: QualityGate | undefined, psnrValue: number, ssimValue: number): VariantResult['gate'] {
  const failures: string[] = [];
  if (gate?.minPsnr !== undefined && !(psnrValue >= gate.minPsnr)) failures.push(`PSNR ${psnrValue.toFixed(2)} dB < ${gate.minPsnr} dB`);
  if (gate?.minSsim !== undefined && !(ssimValue >= gate.minSsim)) failures.push(`SSIM ${ssimValue.toFixed(4)} < ${gate.minSsim}`);
  return { passed: failures.length === 0, failures };
}

/** Renders dense and accelerated videos for the same prompts and seeds and measures fidelity. */
export async function compare(o: CompareOptions): Promise<CompareResult> {
  checkOptions(o);
  return withRenderer(o, (runner) => compareWith(runner, o));
}

async function compareWith(runner: Renderer, o: CompareOptions): Promise<CompareResult> {
  const outDir = path.resolve(o.outDir);
  const work = path.join(outDir, '.work');
  await mkdir(work, { recursive: true });
  const jobs = planJobs([], {
    prompts: o.prompts, samples: o.samples ?? 1, baseSeed: o.baseSeed ?? 0, seedRule: o.seedRule ?? 'distinct',
  });
  const settings = { ...o.settings };
  const labels = o.variants.map(variantLabel);
  const slugs = labels.map((l) => slugify(l, 60));
  slugs.forEach((s, i) => {
    if (s === 'dense' || s === 'frames' || slugs.indexOf(s) !== i) throw new CompareOptionsError(`two variants (or a variant and "dense") would share the folder "${s}"; give them distinct labels`);
  });
  const methods = await Promise.all(o.variants.map(variantMethod));
  const request = (job: EvalJob, v: CompareVariant | null, tag: string): GenerateRequest => {
    const method = pipelineMethod(v);
    const req: GenerateRequest = {
      ...settings, prompt: job.prompt, seed: job.seed, output: path.join(work, `${tag}.mp4`), format: 'mp4',
      ...(v?.schedule !== undefined ? { schedule: v.schedule } : {}), ...(v?.budget !== undefined ? { budget: v.budget } : {}),
      ...(method ? { method } : {}),
    };
    return req;
  };

  if (o.warmup) {
    await renderVideo(o, runner, request(jobs[0]!, null, 'warmup'), path.join(work, 'warmup'), 'warmup.mp4');
    await rm(path.join(work, 'warmup'), { recursive: true, force: true });
  }

  const perVariant: VideoComparison[][] = o.variants.map(() => []);
  let denseWall = 0;
  let denseDenoise = 0;
  const denseFlicker: number[] = [];
  const frames: { dense?: string; variants: (string | undefined)[] } = { variants: o.variants.map(() => undefined) };
  const strips: { dense?: string; variants: (string | undefined)[] } = { variants: o.variants.map(() => undefined) };
  const total = jobs.length * (1 + o.variants.length);
  let done = 0;
  for (const [j, job] of jobs.entries()) {
    o.onEvent?.({ type: 'render', side: 'dense', job, done: done++, total });
    const dense = await renderVideo(o, runner, request(job, null, `dense-${j}`), path.join(outDir, 'dense'), job.fileName);
    denseWall += dense.wallMs;
    denseDenoise += dense.denoiseMs;
    const denseClip = await decode(dense.file);
    const dFlicker = temporalFlickering(denseClip).score;
    denseFlicker.push(dFlicker);
    if (j === 0) {
      frames.dense = await writeFramePng(denseClip, path.join(outDir, 'frames', 'dense.png'));
      strips.dense = await writeStripPng(denseClip, path.join(outDir, 'frames', 'dense-strip.png'));
    }
    for (const [i, v] of o.variants.entries()) {
      o.onEvent?.({ type: 'render', side: labels[i]!, job, done: done++, total });
      const acc = await renderVideo(o, runner, request(job, v, `${slugs[i]}-${j}`), path.join(outDir, slugs[i]!), job.fileName);
      const clip = await decode(acc.file);
      const p = psnr(denseClip, clip);
      const s = ssim(denseClip, clip);
      if (j === 0) {
        frames.variants[i] = await writeFramePng(clip, path.join(outDir, 'frames', `${slugs[i]}.png`));
        strips.variants[i] = await writeStripPng(clip, path.join(outDir, 'frames', `${slugs[i]}-strip.png`));
      }
      perVariant[i]!.push({
        fileName: job.fileName, prompt: job.prompt, seed: job.seed, psnr: p.psnr, cappedFrames: p.cappedFrames, psnrWholeVideo: p.psnrWholeVideo,
        ssim: s.ssim, latentRelL2: latentRelativeL2(dense.latent.data, acc.latent.data), flicker: temporalFlickering(clip).score,
        denseFlicker: dFlicker, wallMs: acc.wallMs, denseWallMs: dense.wallMs, denoiseMs: acc.denoiseMs, denseDenoiseMs: dense.denoiseMs,
        flopsRatio: acc.flopsRatio,
      });
      o.onEvent?.({ type: 'measured', side: labels[i]!, job, psnr: p.psnr, ssim: s.ssim });
    }
  }

  const variants: VariantResult[] = o.variants.map((v, i) => {
    const vids = perVariant[i]!;
    const wall = vids.reduce((a, x) => a + x.wallMs, 0);
    const den = vids.reduce((a, x) => a + x.denoiseMs, 0);
    const psnrValue = mean(vids.map((x) => x.psnr));
    const ssimValue = mean(vids.map((x) => x.ssim));
    return {
      label: labels[i]!, slug: slugs[i]!, method: methods[i]!,
      ...(v.schedule !== undefined ? { schedule: path.resolve(v.schedule) } : {}), ...(v.budget !== undefined ? { budget: v.budget } : {}),
      flopsRatio: mean(vids.map((x) => x.flopsRatio)), speedup: denseWall / wall, denoiseSpeedup: denseDenoise / den, wallMs: wall,
      psnr: psnrValue, psnrWholeVideo: mean(vids.map((x) => x.psnrWholeVideo)), ssim: ssimValue,
      latentRelL2: mean(vids.map((x) => x.latentRelL2)), flicker: mean(vids.map((x) => x.flicker)),
      videos: vids, gate: gateOf(o.gate, psnrValue, ssimValue),
      ...(frames.variants[i] ? { sampleFrame: frames.variants[i] } : {}),
      ...(strips.variants[i] ? { sampleStrip: strips.variants[i] } : {}),
    };
  });
  const passed = variants.every((v) => v.gate.passed);
  const result: CompareResult = {
    format: 'diffsparse/compare-results', version: 1, createdAt: new Date().toISOString(), settings,
    jobs: jobs.map(({ fileName, prompt, index, seed }) => ({ fileName, prompt, index, seed })),
    metricsOn: 'decoded mp4 (libx264) frames, RGB in [0,1]; PSNR per frame (cap 100 dB) averaged; SSIM per channel, 11x11 Gaussian sigma 1.5, valid window',
    dense: { wallMs: denseWall, denoiseMs: denseDenoise, flicker: mean(denseFlicker), ...(frames.dense ? { sampleFrame: frames.dense } : {}), ...(strips.dense ? { sampleStrip: strips.dense } : {}) },
    variants, gate: { ...o.gate, passed }, passed,
    run: runInfo({ ...settings, ...(o.pipeline !== undefined && { pipeline: o.pipeline }) }, await firstSidecarSettings(path.join(outDir, 'dense', 'sidecars')), jobs, o.samples ?? 1),
  };
  await rm(work, { recursive: true, force: true });
  const file = path.join(outDir, 'compare.json');
  await writeFile(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
  return result;
}

/** Fixed 4 decimals, or scientific notation for values that would print as 0.0000. */
function small(x: number): string {
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toFixed(4);
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** The table the CLI prints: one row per variant, dense first. */
export function formatCompareTable(r: CompareResult): string {
  const head = ['variant', 'method', 'FLOPs', 'speed-up', 'denoise×', 'PSNR dB', 'SSIM', 'latent L2', 'flicker', 'gate'];
  const rows: string[][] = [[
    'dense', '-', '1.000', '1.00×', '1.00×', '-', '-', '-', r.dense.flicker.toFixed(4), '-',
  ]];
  for (const v of r.variants) {
    rows.push([
      v.label, v.method, v.flopsRatio.toFixed(3), `${v.speedup.toFixed(2)}×`, `${v.denoiseSpeedup.toFixed(2)}×`,
      v.psnr.toFixed(2), v.ssim.toFixed(4), small(v.latentRelL2), v.flicker.toFixed(4),
      r.gate.minPsnr === undefined && r.gate.minSsim === undefined ? '-' : v.gate.passed ? 'pass' : `FAIL (${v.gate.failures.join('; ')})`,
    ]);
  }
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]): string => cells.map((x, c) => pad(x, widths[c]!, c >= 2 && c <= 8)).join('  ').trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  out.push(`${r.jobs.length} video(s) per side; ${r.metricsOn}`);
  if (!r.passed) out.push('quality gate FAILED');
  return out.join('\n');
}
