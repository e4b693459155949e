/**
 * Batch rendering across machines on BullMQ. `enqueueJobs` turns a jobs file into queue jobs
 * (seed and output name fixed at enqueue time, job id = output name, so enqueueing the same
 * file twice adds nothing). `runWorker` renders them: the model runs in a lane thread, so the
 * main thread stays free to renew job locks; a worker that dies mid-job stops renewing, BullMQ
 * marks the job stalled and another worker redoes it. Outputs go through a staging folder and
 * an atomic rename, and a done-marker records each finished job, so a redone job never leaves
 * a duplicate or half-written video.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { Queue, QueueEvents, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { digestFile, matchesDigest, removeOrphanedTemps, writeFileAtomic, type FileDigest } from './atomic.js';
import { AbortedError, isAbortError, isUserFacingError, JobFileError } from './errors.js';
import { loadJobs } from './jobs.js';
import { Lane } from './lane.js';
import { jobOutputName } from './naming.js';
import { ensureWritableDir } from './output-dir.js';
import { assertInsideRealFolder, checkOutputTargets, renderTargets, resolveJobOutput } from '../io/safe-output.js';
import { checkQueueName, connectRedis } from './redis.js';
import { randomSeed } from './request.js';
import { defaultRunnerSpec } from './runner-module.js';
import { commitStage, createStage, discardStage, removeStaleStages } from './staging.js';
import type { GenerateRequest, OutputFormat, Progress, RunnerSpec } from './types.js';

export const JOB_NAME = 'render';
export const DONE_DIR = '.diffsparse-done';

/** What a queue job carries. The output folder is the enqueuer's unless a worker overrides it. */
export interface RenderJobData {
  index: number;
  line: number;
  /** Output path inside `outDir` (deterministic: index, prompt slug, seed; or the job's relative "output"). */
  name: string;
  outDir: string;
  request: Omit<GenerateRequest, 'output'> & { seed: number };
}

/** Written next to the outputs when a job is finished; also the job's return value. */
export interface DoneMarker {
  jobId: string;
  output: string;
  sidecar?: string;
  /** The saved final latent (.npy), when the request asked for it. */
  latent?: string;
  seed: number;
  digest: FileDigest;
  timings: Record<string, number>;
  flopsRatio: number;
  worker: string;
  finishedAt: string;
}

export interface QueueTarget {
  /** Redis URL, e.g. redis://127.0.0.1:6379. */
  redis: string;
  queue: string;
}

export interface EnqueueOptions extends QueueTarget {
  jobsFile: string;
  outDir: string;
  defaults?: Record<string, unknown>;
  format?: OutputFormat;
  /** Tries per job before it is marked failed (default 3). */
  attempts?: number;
  /** First retry delay; doubles on each later retry (default 10 s). */
  backoffMs?: number;
  /** Let jobs replace files already at their output paths (default false: refuse). */
  overwrite?: boolean;
}

export interface EnqueueSummary {
  queue: string;
  added: number;
  /** Jobs whose id was already in the queue (enqueued before, possibly finished). */
  alreadyQueued: number;
  jobs: { id: string; output: string; seed: number; line: number }[];
}

export async function enqueueJobs(options: EnqueueOptions): Promise<EnqueueSummary> {
  const queueName = checkQueueName(options.queue);
  const jobsFile = await loadJobs(options.jobsFile, options.defaults ? { defaults: options.defaults } : {});
  const outDir = path.resolve(options.outDir);
  const indexWidth = String(jobsFile.jobs.length - 1).length;
  const entries = jobsFile.jobs.map(({ index, line, request }) => {
    const seed = request.seed ?? randomSeed();
    const format = request.format ?? options.format ?? 'mp4';
    const { output, ...rest } = request;
    // A job's own "output" is relative to the output folder and must stay inside it.
    const target = output
      ? resolveJobOutput(outDir, output, `${options.jobsFile}:${line}`)
      : path.join(outDir, jobOutputName({ index, prompt: request.prompt, seed, extension: format, indexWidth }));
    // The name is the path inside the output folder (dirA/clip.mp4 and dirB/clip.mp4 stay apart).
    const name = path.relative(outDir, target).split(path.sep).join('/');
    const data: RenderJobData = { index, line, name, outDir, request: { ...rest, seed, format } };
    // The job id is that whole name, extension included, so dirA/clip.mp4, dirB/clip.mp4 and
    // dirA/clip.gif are three jobs (BullMQ ids may not contain ':').
    return { id: name.replace(/:/g, '_'), data, target, line };
  });
  const clash = entries.find((e, i) => entries.findIndex((o) => o.id === e.id) !== i);
  if (clash) {
    const first = entries.find((o) => o.id === clash.id)!;
    throw new JobFileError(options.jobsFile, [first.line, clash.line], `${options.jobsFile}: lines ${first.line} and ${clash.line} would both write ${clash.target}; give them different "output" values`);
  }
  for (const e of entries) {
    await assertInsideRealFolder(outDir, e.target, `${options.jobsFile}:${e.line}`);
    if (await finishedMarker(e.target)) continue; // rendered by this queue already: enqueueing again adds nothing
    await checkOutputTargets(renderTargets(e.target, e.data.request.saveLatent === true), {
      overwrite: options.overwrite === true, folder: e.data.request.format === 'png', overwriteHint: `(${options.jobsFile}:${e.line}) pass --overwrite to replace it`,
    });
  }
  // Every output is checked before Redis is touched.
  const connection = await connectRedis(options.redis);
  const queue = new Queue<RenderJobData, DoneMarker>(queueName, { connection });
  try {
    const before = new Set((await Promise.all(entries.map((e) => queue.getJob(e.id)))).filter(Boolean).map((j) => j!.id));
    await queue.addBulk(
      entries.map(({ id, data }) => ({
        name: JOB_NAME,
        data,
        opts: {
          jobId: id,
          attempts: options.attempts ?? 3,
          backoff: { type: 'exponential', delay: options.backoffMs ?? 10_000 },
          removeOnComplete: false,
          removeOnFail: false,
        },
      })),
    );
    return {
      queue: queueName,
      added: entries.length - before.size,
      alreadyQueued: before.size,
      jobs: entries.map(({ id, data }) => ({ id, output: path.join(data.outDir, data.name), seed: data.request.seed, line: data.line })),
    };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

export interface WorkerOptions extends QueueTarget {
  runner?: RunnerSpec;
  /** Write outputs here instead of the folder recorded at enqueue time. */
  outDir?: string;
  /** Jobs rendered at once by this worker (default 1: one model per machine). */
  concurrency?: number;
  /** How long a job stays locked without renewal before it counts as stalled (default 30 s). */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (default 15 s). */
  stalledIntervalMs?: number;
  /** Name shown in done-markers and events (default host:pid). */
  id?: string;
  /** Stops the worker: the job in progress goes back to the queue for another worker. */
  signal?: AbortSignal;
  /**
   * Longest wait for a clean stop after `signal` (handing the job back, closing the BullMQ
   * worker) before the connection is dropped and the lanes terminated (default 10 s). Without
   * a bound a worker whose Redis is gone ignored SIGTERM for over a minute (issue 18); its job
   * is then redone by another worker once its lock expires.
   */
  shutdownMs?: number;
  onEvent?(event: WorkerEvent): void;
}

export type WorkerEvent =
  | { type: 'ready'; worker: string }
  | { type: 'start'; jobId: string; output: string }
  | { type: 'progress'; jobId: string; progress: Progress }
  | { type: 'done'; jobId: string; marker: DoneMarker; reused: boolean }
  | { type: 'failed'; jobId: string; error: Error; willRetry: boolean }
  | { type: 'stalled'; jobId: string }
  | { type: 'shutdown-timeout'; waitedMs: number };

export interface WorkerSummary {
  worker: string;
  done: number;
  failed: number;
}

function markerPath(output: string): string {
  return path.join(path.dirname(output), DONE_DIR, `${path.basename(output)}.json`);
}

/** The done-marker of an output that is present and unchanged, else undefined. */
async function finishedMarker(output: string): Promise<DoneMarker | undefined> {
  try {
    const marker = JSON.parse(await readFile(markerPath(output), 'utf8')) as DoneMarker;
    return (await matchesDigest(output, marker.digest)) ? marker : undefined;
  } catch {
    return undefined;
  }
}

/** Progress reaches Redis at most this often per job (plus every phase change). */
const PROGRESS_INTERVAL_MS = 500;

export async function runWorker(options: WorkerOptions): Promise<WorkerSummary> {
  const queueName = checkQueueName(options.queue);
  const workerId = options.id ?? `${hostname()}:${process.pid}`;
  const emit = options.onEvent ?? (() => undefined);
  const connection = await connectRedis(options.redis);
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const runner = options.runner ?? defaultRunnerSpec();
  let lanes: Lane[];
  try {
    lanes = await Lane.startMany(runner, Array.from({ length: concurrency }, (_, i) => `render-${i}`));
  } catch (err) {
    connection.disconnect();
    throw err;
  }
  const idle = [...lanes];
  const stopping = new AbortController();
  const summary: WorkerSummary = { worker: workerId, done: 0, failed: 0 };

  const render = async (job: Job<RenderJobData, DoneMarker>, token?: string, jobSignal?: AbortSignal): Promise<DoneMarker> => {
    const jobId = job.id!;
    // The payload comes from Redis: its name must still be a path inside the output folder.
    const outRoot = path.resolve(options.outDir ?? job.data.outDir);
    const output = resolveJobOutput(outRoot, job.data.name, `job ${jobId}`);
    await assertInsideRealFolder(outRoot, output, `job ${jobId}`);
    const already = await finishedMarker(output);
    if (already) {
      emit({ type: 'done', jobId, marker: already, reused: true });
      return already; // an earlier attempt finished but was not acknowledged: nothing to redo
    }
    await ensureWritableDir(path.dirname(output));
    await removeOrphanedTemps(path.dirname(output)); // left by a worker killed mid-write
    await removeStaleStages(output);
    const stage = await createStage(output);
    const lane = idle.pop()!;
    const signal = AbortSignal.any([stopping.signal, ...(jobSignal ? [jobSignal] : [])]);
    emit({ type: 'start', jobId, output });
    let lastSent = 0;
    let lastPhase = '';
    const onProgress = (progress: Progress): void => {
      emit({ type: 'progress', jobId, progress });
      const now = Date.now();
      if (progress.phase !== lastPhase || now - lastSent >= PROGRESS_INTERVAL_MS || progress.done === progress.total) {
        lastSent = now;
        lastPhase = progress.phase;
        void job.updateProgress({ ...progress }).catch(() => undefined);
      }
    };
    try {
      const result = await lane.generate({ ...job.data.request, output: stage.output }, { signal, onProgress });
      const moved = await commitStage(stage, output);
      const digest = (await digestFile(output))!;
      const sidecar = result.sidecar ? moved.get(path.basename(result.sidecar)) : undefined;
      const latent = result.latent ? moved.get(path.basename(result.latent)) : undefined;
      const marker: DoneMarker = {
        jobId, output, ...(sidecar ? { sidecar } : {}), ...(latent ? { latent } : {}), seed: result.seed, digest, timings: result.timings,
        flopsRatio: result.flopsRatio, worker: workerId, finishedAt: new Date().toISOString(),
      };
      await ensureWritableDir(path.dirname(markerPath(output)));
      await writeFileAtomic(markerPath(output), `${JSON.stringify(marker, null, 2)}\n`);
      emit({ type: 'done', jobId, marker, reused: false });
      return marker;
    } catch (err) {
      await discardStage(stage);
      if (stopping.signal.aborted && isAbortError(err)) {
        // Shutting down: hand the job back untouched rather than spend one of its attempts.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      // A request that can never succeed is not retried.
      if (isUserFacingError(err)) throw new UnrecoverableError((err as Error).message);
      throw err;
    } finally {
      idle.push(lane);
    }
  };

  const worker = new Worker<RenderJobData, DoneMarker>(queueName, render, {
    connection,
    concurrency,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 15_000,
    maxStalledCount: 2,
    autorun: false,
  });
  worker.on('completed', () => summary.done++);
  worker.on('failed', (job, error) => {
    if (!job || error instanceof WaitingError || error.name === 'WaitingError') return;
    summary.failed++;
    const willRetry = job.attemptsMade < (job.opts.attempts ?? 1) && !(error instanceof UnrecoverableError);
    emit({ type: 'failed', jobId: job.id!, error, willRetry });
  });
  worker.on('stalled', (jobId) => emit({ type: 'stalled', jobId }));
  worker.on('error', () => undefined); // connection hiccups: ioredis reconnects

  const stop = (): void => stopping.abort();
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted) stop();
  const running = worker.run();
  await worker.waitUntilReady();
  emit({ type: 'ready', worker: workerId });
  await new Promise<void>((resolve) => (stopping.signal.aborted ? resolve() : stopping.signal.addEventListener('abort', () => resolve(), { once: true })));
  const shutdownMs = options.shutdownMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const clean = await Promise.race([
    (async () => {
      await worker.close();
      await running;
      return true;
    })(),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), shutdownMs))),
  ]);
  clearTimeout(timer);
  if (!clean) {
    // Redis is gone or a command hangs: drop the connection (pending commands fail) and stop
    // without waiting; the job's lock expires and another worker redoes it.
    emit({ type: 'shutdown-timeout', waitedMs: shutdownMs });
    connection.disconnect();
    void worker.close(true).catch(() => undefined);
    await Promise.all(lanes.map((lane) => lane.close())); // the job was aborted: each lane is idle or about to be
    return summary;
  }
  await Promise.all(lanes.map((lane) => lane.close()));
  connection.disconnect();
  return summary;
}

export interface WatchOptions extends QueueTarget {
  jobIds: string[];
  signal?: AbortSignal;
  onEvent?(event: WatchEvent): void;
}

export type WatchEvent =
  | { type: 'progress'; jobId: string; progress: Progress }
  | { type: 'completed'; jobId: string; marker: DoneMarker }
  | { type: 'failed'; jobId: string; reason: string };

export interface WatchSummary {
  completed: string[];
  failed: { jobId: string; reason: string }[];
}

/**
 * Follow queued jobs until each has completed or finally failed (retries exhausted), reporting
 * the progress workers publish. Jobs already finished count at once.
 */
export async function watchJobs(options: WatchOptions): Promise<WatchSummary> {
  const queueName = checkQueueName(options.queue);
  const connection = await connectRedis(options.redis);
  const queue = new Queue<RenderJobData, DoneMarker>(queueName, { connection });
  const eventsConnection = connection.duplicate();
  const events = new QueueEvents(queueName, { connection: eventsConnection });
  const waiting = new Set(options.jobIds);
  const summary: WatchSummary = { completed: [], failed: [] };
  const emit = options.onEvent ?? (() => undefined);
  let wake: () => void = () => undefined;
  const settle = async (jobId: string): Promise<void> => {
    if (!waiting.has(jobId)) return;
    const job = await queue.getJob(jobId);
    const state = job ? await job.getState() : 'unknown';
    if (!waiting.has(jobId)) return; // settled by a concurrent event meanwhile
    if (state === 'completed') {
      waiting.delete(jobId);
      summary.completed.push(jobId);
      emit({ type: 'completed', jobId, marker: job!.returnvalue });
    } else if (state === 'failed' || state === 'unknown') {
      waiting.delete(jobId);
      const reason = job?.failedReason ?? 'the job is no longer in the queue';
      summary.failed.push({ jobId, reason });
      emit({ type: 'failed', jobId, reason });
    }
    if (waiting.size === 0) wake();
  };
  try {
    events.on('progress', ({ jobId, data }) => {
      if (waiting.has(jobId) && typeof data === 'object' && data !== null) emit({ type: 'progress', jobId, progress: data as Progress });
    });
    events.on('completed', ({ jobId }) => void settle(jobId));
    events.on('failed', ({ jobId }) => void settle(jobId));
    await events.waitUntilReady();
    for (const jobId of options.jobIds) await settle(jobId);
    if (waiting.size > 0) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        options.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    if (options.signal?.aborted && waiting.size > 0) throw new AbortedError(`stopped watching; ${waiting.size} job(s) still queued or running`);
    return summary;
  } finally {
    await events.close();
    await queue.close();
    eventsConnection.disconnect();
    connection.disconnect();
  }
}
