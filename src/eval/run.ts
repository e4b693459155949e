/**
 * VBench-style evaluation runs: render a suite, a dimension subset or a custom prompt list
 * into a folder the official VBench can score as it is, then compute what needs no neural
 * network here (temporal flickering) and write a results JSON.
 *
 * Layout of `outDir`:
 *   videos/               only `{prompt}-{index}.mp4` (one extension): point VBench's --videos_path here
 *   sidecars/             the pipeline's settings sidecar of each video, `{file}.json`
 *   eval-plan.json        every planned video with its seed (the record VBench asks for)
 *   results.json          per-video metrics, VBench-format results, normalised scores
 *   .work/                renders in progress (outside videos/, so VBench never sees them)
 *
 * Resumable: a video is only ever renamed into videos/ once complete, so a run skips every
 * file already there and renders the rest. The plan is checked against the previous one so a
 * resumed run cannot silently mix seeds or settings.
 */
import { firstSidecarSettings, runInfo, type RunInfo } from './run-info.js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runBatch } from '../batch/local.js';
import type { Renderer, GenerateRequest, GenerateResult, Progress, RunnerSpec } from '../batch/types.js';
import { readVideoFrames } from '../video/probe.js';
import { mean, temporalFlickering } from '../video/metrics.js';
import { withRenderer, type RendererChoice } from './renderer.js';
import {
  FLICKER_SAMPLES_PER_PROMPT, loadSuite, mergeScores, planJobs, readVBenchResults, SAMPLES_PER_PROMPT, summarizeScores,
  type Dimension, type DimensionScores, type EvalJob, type ScoreSummary, type SeedRule, type VBenchResultsFile,
} from './vbench.js';

/** Generation settings shared by every video of a run (prompt, seed and output come from the plan). */
export type RenderSettings = Omit<GenerateRequest, 'prompt' | 'seed' | 'output' | 'format' | 'saveLatent' | 'noise'>;

export type EvalFormat = 'mp4' | 'gif';

/**
 * Rendering goes one of two ways: in this process, through `runner` (a loaded `Pipeline`, any
 * Renderer) or else the pipeline named by `pipeline` (loaded here, default the built-in demo
 * model); or, when `batch` is given, through the local batch engine (worker-thread lanes that
 * overlap denoising with decoding; `batch.runner` defaults to the real pipeline).
 */
export interface EvaluateOptions extends RendererChoice {
  outDir: string;
  batch?: { runner?: RunnerSpec; pipelined?: boolean };
  /** A custom prompt list; otherwise the suite (optionally only prompts serving `dimensions`). */
  prompts?: string[];
  dimensions?: Dimension[];
  /** VBench_full_info.json (default: the vendored copy). */
  suitePath?: string;
  samples?: number;
  flickerSamples?: number;
  seedRule?: SeedRule;
  baseSeed?: number;
  /** Only the first N prompts. */
  limit?: number;
  settings?: RenderSettings;
  format?: EvalFormat;
  /**
   * Which videos get temporal flickering computed: 'scored' (default) those VBench scores for
   * it (every video of a custom list; the temporal_flickering prompts of the suite), 'all', or
   * 'none'. Decoding every video of a full suite run takes hours, hence the default.
   */
  metrics?: 'scored' | 'all' | 'none';
  /** Official VBench `*_eval_results.json` files to fold into the scores (labelled as such). */
  vbenchResults?: string[];
  /** Plan and report only; render nothing. */
  dryRun?: boolean;
  signal?: AbortSignal;
  onEvent?(event: EvalEvent): void;
}

export type EvalEvent =
  /** `prompts` distinct prompts; `flickerSamples` is the per-prompt count for temporal_flickering suite prompts. */
  | { type: 'plan'; total: number; present: number; prompts: number; samples: number; flickerSamples?: number }
  | { type: 'render'; job: EvalJob; done: number; todo: number }
  | { type: 'rendered'; job: EvalJob; wallMs: number }
  /** Within one video: text encoding, denoising steps, decoding, encoding. */
  | { type: 'progress'; job: EvalJob; progress: Progress }
  | { type: 'failed'; job: EvalJob; error: Error }
  | { type: 'metrics'; done: number; total: number };

export interface EvalVideo {
  fileName: string;
  prompt: string;
  index: number;
  seed: number;
  dimensions: Dimension[];
  /** VBench temporal flickering of this video (null when metrics are off or decoding failed). */
  temporalFlickering: number | null;
  frames?: number;
  bytes?: number;
  mtimeMs?: number;
  /** Set for videos rendered by this run. */
  wallMs?: number;
  flopsRatio?: number;
}

export interface EvalResults {
  format: 'diffsparse/eval-results';
  version: 1;
  createdAt: string;
  mode: 'suite' | 'dimensions' | 'custom';
  /** Which prompts the run covers (mode, dimensions, custom prompt list, samples), so another evaluation never replaces these results. */
  selection?: string;
  videosDir: string;
  settings: RenderSettings;
  seedRule: SeedRule;
  baseSeed: number;
  counts: { planned: number; present: number; rendered: number; skipped: number; failed: number };
  videos: EvalVideo[];
  failures: { fileName: string; error: string }[];
  /** Our scores in the official `*_eval_results.json` shape (`[aggregate, per-video list]`). */
  vbenchFormat: Partial<VBenchResultsFile>;
  scores: DimensionScores;
  summary: ScoreSummary;
  /** Settings actually run (from a rendered video's sidecar), samples, seeds, machine, version. */
  run?: RunInfo;
}

/** The videos folder holds something VBench would trip over. */
export class VideosFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VideosFolderError';
  }
}

/**
 * VBench takes the extension from the first entry `os.listdir` returns, so one stray file (a
 * sidecar, a hidden folder, a video of another format) can make it miss every video.
 */
async function checkVideosFolder(dir: string, extension: string): Promise<void> {
  const stray = (await readdir(dir)).filter((n) => !n.endsWith(`.${extension}`));
  if (stray.length > 0) {
    throw new VideosFolderError(`${dir} holds ${stray.length} entr${stray.length === 1 ? 'y' : 'ies'} that are not .${extension} videos (${stray.slice(0, 3).join(', ')}); VBench reads the extension from the first file it lists, so move them out or use another --out-dir`);
  }
}

export class EvalPlanMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalPlanMismatchError';
  }
}

const PLAN_FORMAT = 'diffsparse/eval-plan';

interface PlanFile {
  format: typeof PLAN_FORMAT;
  version: 1;
  settings: RenderSettings;
  seedRule: SeedRule;
  baseSeed: number;
  extension: string;
  jobs: { fileName: string; prompt: string; index: number; seed: number }[];
}

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, file);
}

async function readJson<T>(file: string): Promise<T | undefined> {
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Refuses to resume a folder rendered with other settings or seeds; merges the job lists otherwise. */
async function reconcilePlan(file: string, plan: PlanFile): Promise<PlanFile> {
  const old = await readJson<PlanFile>(file);
  if (!old) return plan;
  if (old.format !== PLAN_FORMAT) throw new EvalPlanMismatchError(`${file} is not an evaluation plan; choose an empty --out-dir`);
  if (stableJson(old.settings) !== stableJson(plan.settings) || old.extension !== plan.extension) {
    throw new EvalPlanMismatchError(`${path.dirname(file)} holds videos rendered with other settings (${stableJson(old.settings)}); use the same settings to resume, or another --out-dir`);
  }
  const seeds = new Map(old.jobs.map((j) => [j.fileName, j.seed]));
  const clash = plan.jobs.find((j) => seeds.has(j.fileName) && seeds.get(j.fileName) !== j.seed);
  if (clash) {
    throw new EvalPlanMismatchError(`${clash.fileName} was rendered with seed ${seeds.get(clash.fileName)}, but this run plans seed ${clash.seed}; keep --seed-rule and --base-seed as before, or use another --out-dir`);
  }
  const names = new Set(plan.jobs.map((j) => j.fileName));
  return { ...plan, jobs: [...plan.jobs, ...old.jobs.filter((j) => !names.has(j.fileName))] };
}

async function isComplete(file: string): Promise<boolean> {
  try {
    return (await stat(file)).size > 0;
  } catch {
    return false;
  }
}

/**
 * Moves a finished render into videos/ and its sidecar into sidecars/ (renames on one
 * filesystem, so a video appears complete or not at all). The sidecar's `video.file` is set
 * to the VBench name, since the render happened under a short work name.
 */
async function place(job: EvalJob, rendered: string, sidecar: string | null | undefined, videosDir: string, sidecarsDir: string): Promise<void> {
  const candidates = [sidecar, `${rendered}.json`, rendered.replace(/\.[^.]+$/, '.json')].filter((s): s is string => !!s);
  const found = candidates.find((s) => existsSync(s));
  if (found) {
    const target = path.join(sidecarsDir, `${job.fileName}.json`);
    try {
      const doc = JSON.parse(await readFile(found, 'utf8')) as { video?: { file?: string } };
      if (doc.video && typeof doc.video === 'object') doc.video.file = job.fileName;
      await writeJsonAtomic(target, doc);
      await rm(found, { force: true });
    } catch {
      await rename(found, target);
    }
  }
  await rename(rendered, path.join(videosDir, job.fileName));
}

function workName(job: EvalJob, extension: string): string {
  // Short names in .work: VBench names reach 217 bytes, too long for encoders' temporary suffixes.
  const digest = createHash('sha256').update(job.fileName).digest('hex').slice(0, 12);
  return `job-${digest}.${extension}`;
}

async function renderInProcess(
  todo: EvalJob[], runner: Renderer, o: EvaluateOptions, dirs: Dirs, extension: EvalFormat,
  rendered: Map<string, { wallMs: number; flopsRatio: number }>, failures: EvalResults['failures'],
): Promise<void> {
  let done = 0;
  for (const job of todo) {
    if (o.signal?.aborted) break;
    o.onEvent?.({ type: 'render', job, done, todo: todo.length });
    const output = path.join(dirs.work, workName(job, extension));
    const request: GenerateRequest = { ...o.settings, prompt: job.prompt, seed: job.seed, output, format: extension };
    const t0 = performance.now();
    const runOptions = { ...(o.signal && { signal: o.signal }), onProgress: (progress: Progress) => o.onEvent?.({ type: 'progress', job, progress }) };
    try {
      const denoised = await runner.denoise(request, runOptions);
      const result: GenerateResult = await runner.finish(denoised, runOptions);
      if (result.seed !== job.seed) throw new Error(`the renderer used seed ${result.seed}, not the planned ${job.seed}`);
      await place(job, result.output, result.sidecar, dirs.videos, dirs.sidecars);
      const wallMs = performance.now() - t0;
      rendered.set(job.fileName, { wallMs, flopsRatio: result.flopsRatio });
      o.onEvent?.({ type: 'rendered', job, wallMs });
    } catch (err) {
      await rm(output, { force: true });
      if (o.signal?.aborted) break;
      const error = err instanceof Error ? err : new Error(String(err));
      failures.push({ fileName: job.fileName, error: error.message });
      o.onEvent?.({ type: 'failed', job, error });
    }
    done++;
  }
}

async function renderWithBatch(
  todo: EvalJob[], o: EvaluateOptions, dirs: Dirs, extension: EvalFormat,
  rendered: Map<string, { wallMs: number; flopsRatio: number }>, failures: EvalResults['failures'],
): Promise<void> {
  const renderDir = path.join(dirs.work, 'render');
  await mkdir(renderDir, { recursive: true });
  const byOutput = new Map<string, EvalJob>();
  const lines = todo.map((job) => {
    const name = workName(job, extension);
    byOutput.set(path.join(renderDir, name), job);
    // Job outputs are paths inside the batch's output folder (renderDir).
    return JSON.stringify({ ...o.settings, prompt: job.prompt, seed: job.seed, output: name, format: extension });
  });
  const text = `${lines.join('\n')}\n`;
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const jobsFile = path.join(dirs.work, `jobs-${digest}.jsonl`);
  const manifest = path.join(dirs.work, `manifest-${digest}.json`);
  await writeFile(jobsFile, text);
  const summary = await runBatch({
    // The work folder is this run's own: files left by an interrupted attempt may be replaced.
    jobsFile, outDir: renderDir, manifest, resume: existsSync(manifest), format: extension, overwrite: true,
    ...(o.batch?.runner ? { runner: o.batch.runner } : {}),
    ...(o.batch?.pipelined !== undefined ? { pipelined: o.batch.pipelined } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    onEvent: (e) => {
      if (e.type !== 'failed' && e.type !== 'progress') return;
      const job = byOutput.get(e.job.output);
      if (!job) return;
      if (e.type === 'failed') o.onEvent?.({ type: 'failed', job, error: e.error });
      else o.onEvent?.({ type: 'progress', job, progress: e.progress });
    },
  });
  for (const mj of summary.jobs) {
    const job = byOutput.get(mj.output);
    if (!job) continue;
    if (mj.status !== 'done') {
      failures.push({ fileName: job.fileName, error: mj.error ?? `batch job ended ${mj.status}` });
      continue;
    }
    const wallMs = Object.values(mj.spans ?? {}).reduce((s, span) => s + (span ? span[1] - span[0] : 0), 0);
    await place(job, mj.output, mj.sidecar, dirs.videos, dirs.sidecars);
    rendered.set(job.fileName, { wallMs, flopsRatio: mj.flopsRatio ?? NaN });
    o.onEvent?.({ type: 'rendered', job, wallMs });
  }
  await rm(manifest, { force: true });
  await rm(jobsFile, { force: true });
}

interface Dirs {
  root: string;
  videos: string;
  sidecars: string;
  work: string;
}

/** Runs (or resumes) an evaluation and writes `results.json`; returns what it wrote. */
export async function evaluate(o: EvaluateOptions): Promise<EvalResults> {
  const extension: EvalFormat = o.format ?? 'mp4';
  const root = path.resolve(o.outDir);
  const dirs: Dirs = { root, videos: path.join(root, 'videos'), sidecars: path.join(root, 'sidecars'), work: path.join(root, '.work') };
  // A dry run writes nothing (issue 18: it replaced another run's results.json).
  if (!o.dryRun) for (const d of [dirs.videos, dirs.sidecars, dirs.work]) await mkdir(d, { recursive: true });

  if (existsSync(dirs.videos)) await checkVideosFolder(dirs.videos, extension);
  const suite = o.prompts ? [] : await loadSuite(o.suitePath);
  const seedRule = o.seedRule ?? 'distinct';
  const baseSeed = o.baseSeed ?? 0;
  const jobs = planJobs(suite, {
    ...(o.prompts ? { prompts: o.prompts } : {}), ...(o.dimensions ? { dimensions: o.dimensions } : {}),
    ...(o.samples !== undefined ? { samples: o.samples } : {}), ...(o.flickerSamples !== undefined ? { flickerSamples: o.flickerSamples } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}), seedRule, baseSeed, extension,
  });
  const settings: RenderSettings = { ...o.settings };
  const mode: EvalResults['mode'] = o.prompts !== undefined ? 'custom' : o.dimensions && o.dimensions.length > 0 ? 'dimensions' : 'suite';
  const selection = stableJson({
    mode, ...(o.prompts ? { prompts: o.prompts } : {}), ...(o.dimensions ? { dimensions: [...o.dimensions].sort() } : {}),
    samples: o.samples ?? null, flickerSamples: o.flickerSamples ?? null,
  });
  const resultsFile = path.join(root, 'results.json');
  // results.json belongs to one evaluation: another selection of prompts in the same folder
  // must not replace it (issue 18). A different --limit is the same evaluation, resumed.
  const earlier = await readJson<EvalResults>(resultsFile).catch(() => undefined);
  if (earlier?.selection !== undefined && earlier.selection !== selection) {
    throw new EvalPlanMismatchError(`${resultsFile} holds the results of another evaluation (${describeSelection(earlier.selection)}); this run is ${describeSelection(selection)}. Use another --out-dir, or move results.json away to replace it`);
  }
  const planFile = path.join(root, 'eval-plan.json');
  const plan = await reconcilePlan(planFile, {
    format: PLAN_FORMAT, version: 1, settings, seedRule, baseSeed, extension,
    jobs: jobs.map(({ fileName, prompt, index, seed }) => ({ fileName, prompt, index, seed })),
  });
  if (!o.dryRun) await writeJsonAtomic(planFile, plan);

  const present = new Set<string>();
  for (const j of jobs) if (await isComplete(path.join(dirs.videos, j.fileName))) present.add(j.fileName);
  const flickerSamples = !o.prompts && jobs.some((j) => j.dimensions.includes('temporal_flickering')) ? (o.flickerSamples ?? FLICKER_SAMPLES_PER_PROMPT) : undefined;
  o.onEvent?.({ type: 'plan', total: jobs.length, present: present.size, prompts: new Set(jobs.map((j) => j.prompt)).size, samples: o.samples ?? SAMPLES_PER_PROMPT, ...(flickerSamples !== undefined && { flickerSamples }) });
  const todo = jobs.filter((j) => !present.has(j.fileName));
  const rendered = new Map<string, { wallMs: number; flopsRatio: number }>();
  const failures: EvalResults['failures'] = [];
  if (todo.length > 0 && !o.dryRun) {
    if (o.batch && !o.runner) await renderWithBatch(todo, o, dirs, extension, rendered, failures);
    else await withRenderer(o, (runner) => renderInProcess(todo, runner, o, dirs, extension, rendered, failures));
  }

  const previous = earlier;
  const cache = new Map((previous?.videos ?? []).map((v) => [v.fileName, v]));
  const custom = o.prompts !== undefined;
  const videos: EvalVideo[] = [];
  let measured = 0;
  for (const job of jobs) {
    const file = path.join(dirs.videos, job.fileName);
    if (!(await isComplete(file))) continue;
    const st = await stat(file);
    const entry: EvalVideo = {
      fileName: job.fileName, prompt: job.prompt, index: job.index, seed: job.seed, dimensions: job.dimensions,
      temporalFlickering: null, bytes: st.size, mtimeMs: st.mtimeMs,
    };
    const r = rendered.get(job.fileName);
    if (r) Object.assign(entry, { wallMs: r.wallMs, flopsRatio: r.flopsRatio });
    const old = cache.get(job.fileName);
    const metric = o.metrics ?? 'scored';
    if (metric === 'all' || (metric === 'scored' && (custom || job.dimensions.includes('temporal_flickering')))) {
      if (old && old.bytes === st.size && old.mtimeMs === st.mtimeMs && old.temporalFlickering !== null) {
        entry.temporalFlickering = old.temporalFlickering;
        if (old.frames !== undefined) entry.frames = old.frames;
      } else {
        try {
          const clip = await readVideoFrames(file);
          entry.frames = clip.frames.length;
          entry.temporalFlickering = temporalFlickering(clip).score;
        } catch (err) {
          failures.push({ fileName: job.fileName, error: `temporal flickering: ${(err as Error).message}` });
        }
      }
      o.onEvent?.({ type: 'metrics', done: ++measured, total: jobs.length });
    }
    videos.push(entry);
  }

  // VBench scores temporal flickering on the temporal_flickering prompts (custom mode: on every video given).
  const flickerVideos = videos.filter((v) => v.temporalFlickering !== null && (custom || v.dimensions.includes('temporal_flickering')));
  const vbenchFormat: Partial<VBenchResultsFile> = {};
  const ours: DimensionScores = {};
  if (flickerVideos.length > 0) {
    const avg = mean(flickerVideos.map((v) => v.temporalFlickering!));
    vbenchFormat.temporal_flickering = [avg, flickerVideos.map((v) => ({ video_path: path.join(dirs.videos, v.fileName), video_results: v.temporalFlickering }))];
    ours.temporal_flickering = custom
      ? { value: avg, source: 'diffsparse', standard: true, note: `VBench custom_input formula over ${flickerVideos.length} videos; frames decoded by ffmpeg to rgb24 (VBench decodes with OpenCV)` }
      : { value: avg, source: 'diffsparse', standard: false, note: `over all ${flickerVideos.length} rendered samples; VBench first keeps only static videos (RAFT static_filter.py) and scores up to 5 per prompt` };
  }
  const official = o.vbenchResults && o.vbenchResults.length > 0 ? await readVBenchResults(o.vbenchResults) : {};
  const scores = mergeScores(ours, official);
  const results: EvalResults = {
    format: 'diffsparse/eval-results', version: 1, createdAt: new Date().toISOString(),
    mode, selection,
    videosDir: dirs.videos, settings, seedRule, baseSeed,
    counts: { planned: jobs.length, present: videos.length, rendered: rendered.size, skipped: present.size, failed: failures.length },
    videos, failures, vbenchFormat, scores, summary: summarizeScores(scores),
    run: runInfo({ ...settings, ...(o.pipeline !== undefined && { pipeline: o.pipeline }) }, await firstSidecarSettings(dirs.sidecars), jobs, o.samples),
  };
  if (!o.dryRun) await writeJsonAtomic(resultsFile, results);
  return results;
}

function describeSelection(selection: string): string {
  try {
    const s = JSON.parse(selection) as { mode: string; prompts?: string[]; dimensions?: string[]; samples: number | null; flickerSamples: number | null };
    const what = s.mode === 'custom' ? `${s.prompts?.length ?? 0} custom prompt(s)` : s.mode === 'dimensions' ? `dimensions ${s.dimensions?.join(', ')}` : 'the whole suite';
    const counts = [s.samples !== null && `--samples ${s.samples}`, s.flickerSamples !== null && `--flicker-samples ${s.flickerSamples}`].filter(Boolean).join(' ');
    return `${what}${counts ? `, ${counts}` : ''}`;
  } catch {
    return 'unknown';
  }
}
