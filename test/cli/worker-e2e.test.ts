/**
 * Rendering across machines end to end with the real built-in model: `diffsparse enqueue`
 * fills a queue on a real redis-server, two `diffsparse worker` processes share it, one is
 * SIGKILLed while it renders, and every job must still finish exactly once with one valid
 * video per job and nothing left under a temporary name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readVideoFrames } from '../../src/video/probe.js';
import { startRedis, type RedisHandle } from '../batch/helpers/redis-server.js';
import { ensureBuilt, REPO_ROOT, runBinary } from './helpers/binary.js';

/** Under load (CPU-heavy processes beside the suite) the four renders take minutes: the test's limit leaves room for every wait below. */
const TEST_TIMEOUT_MS = 600_000;
const dir = mkdtempSync(path.join(tmpdir(), 'worker-e2e-'));
const BIN = path.join(REPO_ROOT, 'bin/diffsparse.js');
let redis: RedisHandle;

beforeAll(async () => {
  await ensureBuilt();
  redis = await startRedis();
}, 300_000);
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function startWorker(queue: string): { child: ChildProcess; exited: Promise<string | number | null> } {
  const child = spawn(process.execPath, [BIN, 'worker', '--redis', redis.url, '--queue', queue, '--lock-ms', '2000', '--pipeline', 'wan-demo-tiny'], { cwd: REPO_ROOT, stdio: 'ignore' });
  return { child, exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code))) };
}

/** Each wait is well below the test's own limit (TEST_TIMEOUT_MS), so a slow machine fails with a message naming the wait, not a bare timeout. */
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  for (const until = Date.now() + timeoutMs; !(await check()); ) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('diffsparse enqueue + worker with the demo model on a real Redis', () => {
  it('two workers share the queue, one is killed mid-job, every job finishes exactly once', async () => {
    const queueName = 'e2e';
    const jobs = path.join(dir, 'jobs.jsonl');
    // Many steps keep each job long enough for the kill to land mid-render.
    writeFileSync(jobs, [JSON.stringify({ defaults: { steps: 60 } }), ...['red', 'green', 'blue', 'white'].map((c, i) => JSON.stringify({ prompt: `a ${c} square moving up`, seed: i }))].join('\n'));
    const out = path.join(dir, 'out');
    const enqueued = await runBinary(['enqueue', jobs, '--redis', redis.url, '--queue', queueName, '-o', out, '--backoff-ms', '200', '--json']);
    expect(enqueued.code, enqueued.stderr).toBe(0);

    const queue = new Queue(queueName, { connection: { url: redis.url } });
    const events = new QueueEvents(queueName, { connection: { url: redis.url } });
    await events.waitUntilReady();
    const completions = new Map<string, number>();
    events.on('completed', ({ jobId }) => completions.set(jobId, (completions.get(jobId) ?? 0) + 1));
    try {
      const a = startWorker(queueName);
      await waitFor('worker A to take a job', async () => (await queue.getJobCounts('active')).active >= 1);
      const killedJob = (await queue.getJobs(['active']))[0]!.id!;
      const b = startWorker(queueName);
      await waitFor('worker B to finish a job', async () => completions.size >= 1);
      a.child.kill('SIGKILL');
      expect(await a.exited).toBe('SIGKILL');

      await waitFor('every job to complete', async () => (await queue.getJobCounts('completed')).completed === 4, 300_000);
      await waitFor('completion events', async () => completions.size === 4, 10_000);
      b.child.kill('SIGTERM');
      expect(await b.exited).toBe(143); // stopped by SIGTERM (issue 18: it exited 0)

      expect([...completions.values()]).toEqual([1, 1, 1, 1]);
      expect(completions.has(killedJob)).toBe(true);
      expect(await queue.getJobCounts('failed', 'active', 'wait', 'delayed')).toEqual({ failed: 0, active: 0, wait: 0, delayed: 0 });
      const videos = readdirSync(out).filter((n) => n.endsWith('.mp4'));
      expect(videos).toHaveLength(4);
      for (const name of videos) {
        const video = await readVideoFrames(path.join(out, name));
        expect([video.width, video.height, video.frames.length]).toEqual([64, 64, 9]);
      }
      expect(readdirSync(out).filter((n) => n.startsWith('.') && n !== '.diffsparse-done')).toEqual([]);
    } finally {
      await queue.close();
      await events.close();
    }
  }, TEST_TIMEOUT_MS);
});
