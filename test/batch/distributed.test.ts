import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueJobs, watchJobs, type DoneMarker, type WatchEvent } from '../../src/batch/distributed.js';
import { RedisUnreachableError } from '../../src/batch/errors.js';
import { isValidOutput, REPO_ROOT, tempDir, writeJobs } from './helpers/fixtures.js';
import { freePort, startRedis, type RedisHandle } from './helpers/redis-server.js';

let redis: RedisHandle;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

interface WorkerProcess {
  child: ChildProcess;
  events: Record<string, unknown>[];
  exited: Promise<number | NodeJS.Signals | null>;
}

function startWorker(queue: string, id: string, runnerOptions: Record<string, unknown>): WorkerProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/batch/helpers/worker-child.ts', redis.url, queue, JSON.stringify(runnerOptions), id],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const events: Record<string, unknown>[] = [];
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) events.push(JSON.parse(line) as Record<string, unknown>);
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  return { child, events, exited };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('distributed batch (BullMQ on a real redis-server)', () => {
  it('two workers share a queue; one is SIGKILLed mid-job; every job finishes exactly once', async () => {
    const dir = await tempDir('queue');
    const jobsFile = await writeJobs(dir, 5);
    const outDir = path.join(dir, 'out');
    const renderLog = path.join(dir, 'renders.log');
    const queueName = `test-${path.basename(dir)}`;

    const enqueued = await enqueueJobs({ redis: redis.url, queue: queueName, jobsFile, outDir, attempts: 3, backoffMs: 200 });
    expect(enqueued).toMatchObject({ added: 5, alreadyQueued: 0 });
    // Enqueueing the same file again adds nothing: job ids are the deterministic output names.
    expect(await enqueueJobs({ redis: redis.url, queue: queueName, jobsFile, outDir })).toMatchObject({ added: 0, alreadyQueued: 5 });

    const queueEvents = new QueueEvents(queueName, { connection: { url: redis.url } });
    await queueEvents.waitUntilReady();
    const completions = new Map<string, number>();
    let progressEvents = 0;
    queueEvents.on('completed', ({ jobId }) => completions.set(jobId, (completions.get(jobId) ?? 0) + 1));
    queueEvents.on('progress', () => progressEvents++);

    // Worker A is slow, so it is certainly mid-job when it is killed.
    const a = startWorker(queueName, 'A', { denoiseMs: 120_000, finishMs: 100, log: renderLog });
    await waitFor('worker A to start a job', () => a.events.some((e) => e.type === 'start'));
    const b = startWorker(queueName, 'B', { denoiseMs: 100, finishMs: 100, log: renderLog });
    await waitFor('worker B to finish a job', () => b.events.some((e) => e.type === 'done'));
    a.child.kill('SIGKILL');
    expect(await a.exited).toBe('SIGKILL');
    expect(a.events.filter((e) => e.type === 'start')).toHaveLength(1);
    expect(a.events.filter((e) => e.type === 'done')).toHaveLength(0);
    const killedJob = a.events.find((e) => e.type === 'start')!.jobId as string;

    const watchEvents: WatchEvent['type'][] = [];
    const watched = await watchJobs({ redis: redis.url, queue: queueName, jobIds: enqueued.jobs.map((j) => j.id), onEvent: (e) => watchEvents.push(e.type) });
    expect(watched.completed.sort()).toEqual(enqueued.jobs.map((j) => j.id).sort());
    expect(watched.failed).toEqual([]);
    expect(watchEvents.filter((t) => t === 'completed')).toHaveLength(5);
    const queue = new Queue(queueName, { connection: { url: redis.url } });
    try {
      expect((await queue.getJobCounts('completed')).completed).toBe(5);
      expect(await queue.getJobCounts('failed', 'active', 'wait', 'delayed')).toEqual({ failed: 0, active: 0, wait: 0, delayed: 0 });
      await waitFor('completion events', () => completions.size === 5, 5000);
      expect([...completions.values()]).toEqual([1, 1, 1, 1, 1]);
      expect(completions.has(killedJob)).toBe(true);
      expect(b.events).toContainEqual({ type: 'stalled', jobId: killedJob });
      expect(progressEvents).toBeGreaterThan(0);

      // Each output rendered exactly once (A died before writing), all by B, all valid.
      const renders = (await readFile(renderLog, 'utf8')).trim().split('\n').map((l) => l.split(' ')[1]!);
      expect(renders.sort()).toEqual(enqueued.jobs.map((j) => path.basename(j.output)).sort());
      for (const job of enqueued.jobs) {
        expect(await isValidOutput(job.output, job.seed)).toBe(true);
        const completed = await queue.getJob(job.id);
        expect((completed!.returnvalue as DoneMarker).output).toBe(job.output);
        expect((completed!.returnvalue as DoneMarker).worker).toBe('B');
      }
      const names = await readdir(outDir);
      expect(names.filter((n) => n.endsWith('.png'))).toHaveLength(5);
      expect(names.filter((n) => n.startsWith('.') && n !== '.diffsparse-done')).toEqual([]); // no staging left behind
      expect(await readdir(path.join(outDir, '.diffsparse-done'))).toHaveLength(5);
    } finally {
      b.child.kill('SIGTERM');
      await b.exited;
      await queue.close();
      await queueEvents.close();
    }
    const summary = b.events.find((e) => e.type === 'summary');
    expect(summary).toMatchObject({ worker: 'B', done: 5, failed: 0 });
  });

  it('a worker stopped with SIGTERM mid-job hands the job back untouched and exits cleanly', async () => {
    const dir = await tempDir('stop');
    const jobsFile = await writeJobs(dir, 1);
    const outDir = path.join(dir, 'out');
    const queueName = `test-${path.basename(dir)}`;
    const [job] = (await enqueueJobs({ redis: redis.url, queue: queueName, jobsFile, outDir })).jobs;
    const worker = startWorker(queueName, 'C', { denoiseMs: 60_000 });
    await waitFor('the worker to start the job', () => worker.events.some((e) => e.type === 'start'));
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.events.at(-1)).toMatchObject({ type: 'summary', worker: 'C', done: 0, failed: 0 });
    const queue = new Queue(queueName, { connection: { url: redis.url } });
    try {
      const back = await queue.getJob(job!.id);
      expect(await back!.getState()).toBe('waiting');
      expect(back!.attemptsMade).toBe(0);
    } finally {
      await queue.close();
    }
    expect(await readdir(outDir)).toEqual([]); // no output, no staging folder
  });

  it('reports an unreachable Redis clearly', async () => {
    const dir = await tempDir('noredis');
    const jobsFile = await writeJobs(dir, 1);
    const url = `redis://127.0.0.1:${await freePort()}`;
    const attempt = enqueueJobs({ redis: url, queue: 'q', jobsFile, outDir: dir });
    await expect(attempt).rejects.toThrow(RedisUnreachableError);
    await expect(attempt).rejects.toThrow(`cannot reach Redis at ${url} (connection refused)`);
  });
});
