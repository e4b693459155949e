/**
 * Batch rendering on one machine. Jobs run through two p-queue lanes, each backed by a worker
 * thread: the denoise lane (text encoder + DiT) and the finish lane (VAE decode + video encode).
 * While job N is being decoded and encoded, job N+1 is already denoising. Every state change is
 * written to the manifest, and each job renders into a staging folder that is renamed into place
 * only when complete, so a crash at any moment leaves the batch resumable with `resume: true`.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import PQueue from 'p-queue';
import { assertInsideRealFolder, checkOutputTarget, checkOutputTargets, renderTargets, resolveJobOutput } from '../io/safe-output.js';
import { digestFile, matchesDigest, removeOrphanedTemps } from './atomic.js';
import { AbortedError, isAbortError, ManifestError } from './errors.js';
import { loadJobs, type JobsFile } from './jobs.js';
import { Lane } from './lane.js';
import { readManifest, ManifestStore, MANIFEST_VERSION, type JobSpans, type Manifest, type ManifestJob } from './manifest.js';
import { jobOutputName } from './naming.js';
import { ensureWritableDir } from './output-dir.js';
import { randomSeed, type JobRequest } from './request.js';
import { defaultRunnerSpec } from './runner-module.js';
import { commitStage, createStage, discardStage, removeDeadStages, removeStaleStages, type Stage } from './staging.js';
import { lockOutputDir } from './lock.js';
import type { DenoisedJob, GenerateResult, OutputFormat, Progress, RunnerSpec } from './types.js';

export interface BatchOptions {
  jobsFile: string;
  /** Folder for outputs and the manifest (created if missing). */
  outDir: string;
  /** Values for every job; lines of the file override them. */
  defaults?: Record<string, unknown>;
  /** Continue the batch recorded in the manifest: finished jobs are checked and kept, the rest redone. */
  resume?: boolean;
  /** Overlap denoising with decode/encode using two lanes (default true). */
  pipelined?: boolean;
  /** Finished latents waiting for the finish lane before denoising pauses (default 1). */
  maxWaitingLatents?: number;
  /** Which runner renders (default: the real pipeline, see pipeline-runner.ts). */
  runner?: RunnerSpec;
  /** Output format for jobs that do not set one (default mp4). */
  format?: OutputFormat;
  /** Replace files already at the jobs' output paths when a new batch starts (default false: refuse). */
  overwrite?: boolean;
  /** Manifest path (default `<outDir>/manifest.json`). */
  manifest?: string;
  signal?: AbortSignal;
  onEvent?(event: BatchEvent): void;
}

export type BatchEvent =
  | { type: 'plan'; total: number; todo: number }
  | { type: 'skip'; job: ManifestJob; reason: string }
  | { type: 'redo'; job: ManifestJob; reason: string }
  | { type: 'start'; job: ManifestJob; lane: 'denoise' | 'finish' | 'render' }
  | { type: 'progress'; job: ManifestJob; progress: Progress }
  | { type: 'done'; job: ManifestJob }
  | { type: 'failed'; job: ManifestJob; error: Error };

export interface BatchSummary {
  manifest: string;
  total: number;
  done: number;
  failed: number;
  /** Jobs already finished by an earlier run. */
  skipped: number;
  /** Wall time of this run, milliseconds. */
  wallMs: number;
  jobs: ManifestJob[];
}

function outputFor(jobs: JobsFile, request: JobRequest, index: number, seed: number, outDir: string, format: OutputFormat, line = 0): string {
  // A job's own "output" is relative to the output folder and must stay inside it.
  if (request.output !== undefined) return resolveJobOutput(outDir, request.output, `${jobs.file}:${line}`);
  const indexWidth = String(jobs.jobs.length - 1).length;
  return path.join(outDir, jobOutputName({ index, prompt: request.prompt, seed, extension: format, indexWidth }));
}

function freshManifest(jobs: JobsFile, outDir: string, defaultFormat: OutputFormat): Manifest {
  const now = new Date().toISOString();
  const entries = jobs.jobs.map(({ index, line, request }): ManifestJob => {
    const seed = request.seed ?? randomSeed();
    const format = request.format ?? defaultFormat;
    const output = outputFor(jobs, request, index, seed, outDir, format, line);
    return { index, line, status: 'pending', seed, request: { ...request, seed, format, output }, output, attempts: 0 };
  });
  const duplicate = entries.find((e, i) => entries.findIndex((o) => o.output === e.output) !== i);
  if (duplicate) {
    throw new ManifestError(`two jobs would write ${duplicate.output} (line ${duplicate.line} and an earlier line); give them different "output" values`);
  }
  return { version: MANIFEST_VERSION, jobsFile: path.resolve(jobs.file), jobsSha256: jobs.sha256, createdAt: now, updatedAt: now, jobs: entries };
}

/** Bring a resumed manifest back to a state where every unfinished job is pending. */
async function reconcile(store: ManifestStore, onEvent: BatchOptions['onEvent']): Promise<number> {
  let skipped = 0;
  for (const job of store.manifest.jobs) {
    await removeStaleStages(job.output);
    if (job.status === 'done' && job.digest && (await matchesDigest(job.output, job.digest))) {
      skipped++;
      onEvent?.({ type: 'skip', job, reason: 'finished in an earlier run' });
      continue;
    }
    if (job.status !== 'pending') {
      const reason = job.status === 'done' ? 'output missing or changed since it was finished' : `was ${job.status} when the last run stopped`;
      await store.update(job.index, { status: 'pending', error: undefined });
      onEvent?.({ type: 'redo', job, reason });
    }
  }
  return skipped;
}

export async function runBatch(options: BatchOptions): Promise<BatchSummary> {
  const started = Date.now();
  const outDir = path.resolve(options.outDir);
  const jobs = await loadJobs(options.jobsFile, options.defaults ? { defaults: options.defaults } : {});
  await ensureWritableDir(outDir);
  // One batch per output folder at a time (issue 18); a lock left by a killed run is taken over.
  const lock = await lockOutputDir(outDir, 'batch');
  try {
    return await runLockedBatch(options, outDir, jobs, started);
  } finally {
    await lock.release();
  }
}

async function runLockedBatch(options: BatchOptions, outDir: string, jobs: JobsFile, started: number): Promise<BatchSummary> {
  const manifestFile = path.resolve(options.manifest ?? path.join(outDir, 'manifest.json'));
  const existing = await readManifest(manifestFile);
  if (existing && !options.resume) {
    throw new ManifestError(`${manifestFile} already records a batch; pass --resume to continue it, or choose another --out-dir`);
  }
  if (existing && existing.jobsSha256 !== jobs.sha256) {
    throw new ManifestError(`${options.jobsFile} has changed since ${manifestFile} was written; resume with the original jobs file, or start a new batch in another --out-dir`);
  }
  if (existing) {
    // A killed run may have died between writing a temp file and renaming it.
    await removeOrphanedTemps(path.dirname(manifestFile));
    await removeOrphanedTemps(outDir);
  }
  const manifest = existing ?? freshManifest(jobs, outDir, options.format ?? 'mp4');
  // Staging folders of runs killed with SIGKILL (their process is gone) are removed.
  for (const dir of new Set([outDir, ...manifest.jobs.map((j) => path.dirname(j.output))])) await removeDeadStages(dir);
  for (const job of manifest.jobs) {
    // A link inside the output folder must not lead a job's output elsewhere.
    await assertInsideRealFolder(outDir, job.output, `${jobs.file}:${job.line}`);
    // A new batch never silently replaces files that are already there; a resumed one owns its outputs.
    const targets = renderTargets(job.output, job.request.saveLatent === true);
    if (existing) for (const file of targets) await checkOutputTarget(file, { overwrite: true, folder: job.request.format === 'png' });
    else await checkOutputTargets(targets, { overwrite: options.overwrite === true, folder: job.request.format === 'png', overwriteHint: `(${jobs.file}:${job.line}) pass --overwrite to replace it` });
  }
  const store = new ManifestStore(manifestFile, manifest);
  await store.save();
  const skipped = existing ? await reconcile(store, options.onEvent) : 0;
  const todo = store.manifest.jobs.filter((j) => j.status === 'pending');
  options.onEvent?.({ type: 'plan', total: store.manifest.jobs.length, todo: todo.length });
  if (todo.length > 0) {
    await render(todo, store, options);
  }
  await store.flush();
  const all = store.manifest.jobs;
  return {
    manifest: manifestFile,
    total: all.length,
    done: all.filter((j) => j.status === 'done').length,
    failed: all.filter((j) => j.status === 'failed').length,
    skipped,
    wallMs: Date.now() - started,
    jobs: all,
  };
}

interface StagedRequest {
  request: ManifestJob['request'];
  stage: Stage;
}

async function render(todo: ManifestJob[], store: ManifestStore, options: BatchOptions): Promise<void> {
  const runnerSpec = options.runner ?? defaultRunnerSpec();
  const pipelined = options.pipelined ?? true;
  const emit = options.onEvent ?? (() => undefined);
  const controller = new AbortController();
  const outer = options.signal;
  const abortAll = (): void => controller.abort();
  if (outer?.aborted) throw new AbortedError();
  outer?.addEventListener('abort', abortAll, { once: true });
  const signal = controller.signal;

  const lanes = await Lane.startMany(runnerSpec, pipelined ? ['denoise', 'finish'] : ['render']);
  const [firstLane, finishLane] = lanes;
  const denoiseQueue = new PQueue({ concurrency: 1 });
  const finishQueue = new PQueue({ concurrency: 1 });
  const maxWaiting = Math.max(1, options.maxWaitingLatents ?? 1);
  const stages = new Map<number, Stage>();

  const begin = async (job: ManifestJob): Promise<StagedRequest> => {
    const stage = await createStage(job.output);
    stages.set(job.index, stage);
    await store.update(job.index, { status: 'running', attempts: job.attempts + 1, error: undefined, spans: {} });
    return { request: { ...job.request, output: stage.output }, stage };
  };
  const complete = async (job: ManifestJob, stage: Stage, result: GenerateResult, timings: Record<string, number>): Promise<void> => {
    const moved = await commitStage(stage, job.output);
    stages.delete(job.index);
    const digest = await digestFile(job.output);
    const sidecar = result.sidecar ? moved.get(path.basename(result.sidecar)) : undefined;
    const latent = result.latent ? moved.get(path.basename(result.latent)) : undefined;
    await store.update(job.index, {
      status: 'done', digest, timings, flopsRatio: result.flopsRatio, finishedAt: new Date().toISOString(),
      ...(sidecar ? { sidecar } : {}),
      ...(latent ? { latent } : {}),
    });
    emit({ type: 'done', job });
  };
  const fail = async (job: ManifestJob, err: unknown): Promise<void> => {
    const stage = stages.get(job.index);
    stages.delete(job.index);
    if (stage) await discardStage(stage);
    if (isAbortError(err) || signal.aborted) {
      await store.update(job.index, { status: 'pending' }); // interrupted, not failed: the next --resume redoes it
      return;
    }
    const error = err instanceof Error ? err : new Error(String(err));
    await store.update(job.index, { status: 'failed', error: error.message });
    emit({ type: 'failed', job, error });
  };
  const span = (job: ManifestJob, lane: keyof JobSpans, from: number): void => {
    job.spans = { ...job.spans, [lane]: [from, Date.now()] };
  };
  const progress = (job: ManifestJob) => (p: Progress) => emit({ type: 'progress', job, progress: p });

  const finishing: Promise<void>[] = [];
  for (const job of todo) {
    void denoiseQueue.add(async () => {
      if (signal.aborted) return;
      try {
        // Backpressure: keep at most `maxWaiting` latents queued for the finish lane.
        if (pipelined) await finishQueue.onSizeLessThan(maxWaiting);
        if (signal.aborted) return;
        const { request, stage } = await begin(job);
        if (!pipelined) {
          emit({ type: 'start', job, lane: 'render' });
          const t0 = Date.now();
          const result = await firstLane!.generate(request, { signal, onProgress: progress(job) });
          span(job, 'render', t0);
          return await complete(job, stage, result, result.timings);
        }
        emit({ type: 'start', job, lane: 'denoise' });
        const t0 = Date.now();
        const denoised: DenoisedJob = await firstLane!.denoise(request, { signal, onProgress: progress(job) });
        span(job, 'denoise', t0);
        finishing.push(
          finishQueue.add(async () => {
            try {
              if (signal.aborted) throw new AbortedError();
              emit({ type: 'start', job, lane: 'finish' });
              const t1 = Date.now();
              const result = await finishLane!.finish(denoised, { signal, onProgress: progress(job) });
              span(job, 'finish', t1);
              await complete(job, stage, result, { ...denoised.timings, ...result.timings });
            } catch (err) {
              await fail(job, err);
            }
          }),
        );
      } catch (err) {
        await fail(job, err);
      }
    });
  }
  try {
    await denoiseQueue.onIdle();
    await Promise.all(finishing);
    await finishQueue.onIdle();
  } finally {
    outer?.removeEventListener('abort', abortAll);
    // Closed even when stopped: their operations have settled (see renderOne).
    await Promise.all(lanes.map((lane) => lane.close()));
    for (const stage of stages.values()) await rm(stage.dir, { recursive: true, force: true });
    await store.flush();
  }
  if (signal.aborted) throw new AbortedError('batch stopped; run again with --resume to finish the remaining jobs');
}
