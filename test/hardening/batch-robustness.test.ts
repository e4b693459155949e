/**
 * Issue 18, batch robustness, with real child processes: two batch runs on one output folder
 * (a lock with the owner's pid; a dead owner's lock is taken over), staging folders left by
 * SIGKILL (cleaned by the next run, batch and generate), a Redis port that accepts and never
 * answers (a clear error within seconds), and a worker whose Redis is gone when SIGTERM comes
 * (it stops within a bounded time), and worker exit codes 130/143.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueJobs } from '../../src/batch/distributed.js';
import { runBatch } from '../../src/batch/local.js';
import { LOCK_FILE, lockOutputDir, OutputLockedError } from '../../src/batch/lock.js';
import { STAGING_DIR } from '../../src/batch/staging.js';
import { fastRunner, REPO_ROOT, tempDir, writeJobs } from '../batch/helpers/fixtures.js';
import { startRedis, type RedisHandle } from '../batch/helpers/redis-server.js';
import { ensureBuilt, runBinary } from '../cli/helpers/binary.js';

const BIN = path.join(REPO_ROOT, 'bin/diffsparse.js');

interface Child {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | NodeJS.Signals | null>;
}
function start(args: string[]): Child {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', () => undefined);
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  return { child, stderr: () => stderr, exited };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  for (const until = Date.now() + timeoutMs; !(await check()); ) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const batchChild = (jobs: string, outDir: string, runner: Record<string, unknown>): Child =>
  start(['--import', 'tsx', 'test/batch/helpers/batch-child.ts', jobs, outDir, JSON.stringify(runner)]);

describe('one batch per output folder', () => {
  it('a second run on a folder in use fails at once naming the owner; a dead owner\'s lock is taken over; stale staging is cleaned', async () => {
    const dir = await tempDir('lock');
    const jobs = await writeJobs(dir, 4);
    const outDir = path.join(dir, 'out');
    const first = batchChild(jobs, outDir, { denoiseMs: 1500, finishMs: 300 });
    const lockFile = path.join(outDir, LOCK_FILE);
    const staging = path.join(outDir, STAGING_DIR);
    await waitFor('the first batch to take the lock and start a job', () => existsSync(lockFile) && existsSync(staging) && readdirSync(staging).length > 0);
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: first.child.pid, command: 'batch' });

    // A second batch (this process) on the same folder, as `--resume`: refused, nothing rendered.
    const started = Date.now();
    const second = runBatch({ jobsFile: jobs, outDir, resume: true, runner: fastRunner({ denoiseMs: 1, finishMs: 1 }) });
    await expect(second).rejects.toThrow(OutputLockedError);
    await expect(runBatch({ jobsFile: jobs, outDir, resume: true, runner: fastRunner() })).rejects.toThrow(
      new RegExp(`output folder .*out is in use by another diffsparse batch \\(pid ${first.child.pid}, since .*\\); wait for it to finish or stop it`),
    );
    expect(Date.now() - started).toBeLessThan(5000);

    // SIGKILL leaves the lock and a staging folder behind.
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    expect(existsSync(lockFile)).toBe(true);
    expect(readdirSync(staging).length).toBeGreaterThan(0);

    const summary = await runBatch({ jobsFile: jobs, outDir, resume: true, runner: fastRunner({ denoiseMs: 5, finishMs: 5 }) });
    expect(summary).toMatchObject({ total: 4, done: 4, failed: 0 });
    expect(existsSync(lockFile)).toBe(false); // released at the end
    expect(existsSync(staging)).toBe(false); // the killed run's stage is gone
  });

  it('the lock file: live owner refused, dead pid taken over, released only by its owner', async () => {
    const dir = await tempDir('lockfile');
    const held = await lockOutputDir(dir, 'batch');
    await expect(lockOutputDir(dir, 'batch')).rejects.toThrow(new RegExp(`pid ${process.pid}`));
    await held.release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), startedAt: 'then', command: 'batch' }));
    const taken = await lockOutputDir(dir, 'batch');
    expect(taken.tookOverFrom?.pid).toBe(2 ** 22 + 12345);
    await taken.release();
    writeFileSync(path.join(dir, LOCK_FILE), 'garbage');
    await (await lockOutputDir(dir, 'batch')).release(); // unreadable lock: taken over
  });
});

describe('generate after SIGKILL', () => {
  beforeAll(ensureBuilt, 300_000);
  it('the next run with the same -o removes the killed run\'s staging folder', async () => {
    const dir = await tempDir('gen-kill');
    const out = path.join(dir, 'clip.mp4');
    const run = start([BIN, 'generate', 'a red circle', '--steps', '200', '--frames', '5', '--pipeline', 'wan-demo-tiny', '--threads', '1', '-o', out]);
    const staging = path.join(dir, STAGING_DIR);
    await waitFor('the render to start', () => /denois|step/i.test(run.stderr()) && existsSync(staging), 90_000);
    run.child.kill('SIGKILL');
    expect(await run.exited).toBe('SIGKILL');
    expect(readdirSync(staging).length).toBe(1);
    const again = await runBinary(['generate', 'a red circle', '--steps', '1', '--frames', '5', '--pipeline', 'wan-demo-tiny', '--threads', '1', '-o', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(staging)).toBe(false);
    expect(existsSync(out)).toBe(true);
  }, 180_000);
});

describe('Redis that accepts connections and never answers', () => {
  let server: Server;
  let url: string;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    server = createServer((s) => sockets.push(s)); // reads nothing, answers nothing
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `redis://127.0.0.1:${(server.address() as { port: number }).port}`;
    await ensureBuilt();
  }, 300_000);
  afterAll(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });

  it('enqueue (library) fails within seconds with a clear error', async () => {
    const dir = await tempDir('silent');
    const jobsFile = await writeJobs(dir, 1);
    const started = Date.now();
    await expect(enqueueJobs({ redis: url, queue: 'q', jobsFile, outDir: dir })).rejects.toThrow(
      `Redis at ${url} accepted the connection but did not answer within 3 s`,
    );
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('enqueue and worker (binary) exit 1 within seconds', async () => {
    const dir = await tempDir('silent-bin');
    const jobsFile = await writeJobs(dir, 1);
    for (const args of [['enqueue', jobsFile, '-o', path.join(dir, 'out')], ['worker']]) {
      const started = Date.now();
      const r = await runBinary([...args, '--redis', url]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/accepted the connection but did not answer within 3 s; check that the port is a working redis-server/);
      expect(Date.now() - started).toBeLessThan(20_000);
    }
  }, 120_000);
});

describe('worker stopping', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await startRedis();
    await ensureBuilt();
  }, 300_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it('exits 143 on SIGTERM and 130 on SIGINT (the documented codes), not 0', async () => {
    for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
      const worker = start([BIN, 'worker', '--redis', redis.url, '--queue', `idle-${signal}`]);
      await waitFor('the worker to be ready', () => /waiting for jobs/.test(worker.stderr()));
      worker.child.kill(signal);
      expect(await worker.exited).toBe(code);
      expect(worker.stderr()).toMatch(/stopped \(worker .* stopped: 0 done, 0 failed/);
    }
  }, 120_000);

  it('SIGTERM while Redis is gone: the worker stops within a bounded time', async () => {
    const own = await startRedis();
    const dir = await tempDir('gone');
    const jobsFile = await writeJobs(dir, 1);
    const queue = `gone-${path.basename(dir)}`;
    await enqueueJobs({ redis: own.url, queue, jobsFile, outDir: path.join(dir, 'out') });
    const worker = start(['--import', 'tsx', 'test/batch/helpers/worker-child.ts', own.url, queue, JSON.stringify({ denoiseMs: 60_000 }), 'G']);
    let stdout = '';
    worker.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    await waitFor('the worker to start the job', () => stdout.includes('"type":"start"'));
    await own.stop();
    await new Promise((r) => setTimeout(r, 300));
    const stopAt = Date.now();
    worker.child.kill('SIGTERM');
    const exited = await worker.exited;
    expect(exited).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(20_000); // shutdownMs 10 s + lane close
  }, 120_000);
});

describe('staging left by a dead process is removed, a live one kept', () => {
  it('removeDeadStages', async () => {
    const { removeDeadStages } = await import('../../src/batch/staging.js');
    const dir = await tempDir('stages');
    const root = path.join(dir, STAGING_DIR);
    await mkdir(path.join(root, `a.mp4.${2 ** 22 + 7}-0badc0de`), { recursive: true });
    await writeFile(path.join(root, `a.mp4.${2 ** 22 + 7}-0badc0de`, '.a.mp4.partial-1-x.mp4'), 'x');
    await mkdir(path.join(root, `b.mp4.${process.ppid}-00c0ffee`), { recursive: true });
    expect(await removeDeadStages(dir)).toEqual([`a.mp4.${2 ** 22 + 7}-0badc0de`]);
    expect(readdirSync(root)).toEqual([`b.mp4.${process.ppid}-00c0ffee`]);
  });
});
