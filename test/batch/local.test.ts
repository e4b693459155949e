import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeOrphanedTemps } from '../../src/batch/atomic.js';
import { ManifestError } from '../../src/batch/errors.js';
import { runBatch, type BatchEvent } from '../../src/batch/local.js';
import type { Manifest } from '../../src/batch/manifest.js';
import { fastRunner, isValidOutput, tempDir, writeJobs } from './helpers/fixtures.js';

describe('runBatch (local, pipelined)', () => {
  it('renders every job into deterministic names with a complete manifest', async () => {
    const dir = await tempDir('batch');
    const jobs = await writeJobs(dir, 3);
    const outDir = path.join(dir, 'out');
    const events: BatchEvent['type'][] = [];
    const summary = await runBatch({ jobsFile: jobs, outDir, runner: fastRunner(), onEvent: (e) => events.push(e.type) });
    expect(summary).toMatchObject({ total: 3, done: 3, failed: 0, skipped: 0 });
    const names = (await readdir(outDir)).sort();
    expect(names).toEqual([
      '0000-scene-number-0-a-fox-in-the-snow-s100.json',
      '0000-scene-number-0-a-fox-in-the-snow-s100.png',
      '0001-scene-number-1-a-fox-in-the-snow-s101.json',
      '0001-scene-number-1-a-fox-in-the-snow-s101.png',
      '0002-scene-number-2-a-fox-in-the-snow-s102.json',
      '0002-scene-number-2-a-fox-in-the-snow-s102.png',
      'manifest.json',
    ]);
    const manifest = JSON.parse(await readFile(summary.manifest, 'utf8')) as Manifest;
    for (const job of manifest.jobs) {
      expect(job.status).toBe('done');
      expect(job.request.seed).toBe(job.seed);
      expect(await isValidOutput(job.output, job.seed)).toBe(true);
      expect(job.digest?.bytes).toBeGreaterThan(0);
      expect(job.sidecar).toBe(job.output.replace(/\.png$/, '.json'));
      expect(Object.keys(job.timings ?? {})).toEqual(['denoise', 'finish']);
    }
    expect(events.filter((e) => e === 'done')).toHaveLength(3);
    expect(events).toContain('progress');
  });

  it("overlaps job N+1's denoising with job N's decode/encode (separate threads)", async () => {
    const dir = await tempDir('overlap');
    const jobs = await writeJobs(dir, 4);
    const summary = await runBatch({ jobsFile: jobs, outDir: path.join(dir, 'out'), runner: fastRunner({ denoiseMs: 300, finishMs: 300 }) });
    const spans = summary.jobs.map((j) => j.spans!);
    let overlaps = 0;
    for (let n = 0; n + 1 < spans.length; n++) {
      const finish = spans[n]!.finish!;
      const nextDenoise = spans[n + 1]!.denoise!;
      // Both lanes busy-wait on their own thread, so the spans can only overlap if they run in parallel.
      if (nextDenoise[0] < finish[1] && finish[0] < nextDenoise[1]) overlaps++;
    }
    expect(overlaps).toBe(spans.length - 1);
  });

  it('runs unpipelined in one lane, one job after another', async () => {
    const dir = await tempDir('serial');
    const jobs = await writeJobs(dir, 2);
    const summary = await runBatch({ jobsFile: jobs, outDir: path.join(dir, 'out'), runner: fastRunner(), pipelined: false });
    expect(summary.done).toBe(2);
    const [a, b] = summary.jobs.map((j) => j.spans!.render!);
    expect(b![0]).toBeGreaterThanOrEqual(a![1]);
  });

  it('records a failing job, finishes the others, and retries only the failure on resume', async () => {
    const dir = await tempDir('fail');
    const jobs = await writeJobs(dir, 2, ['{"prompt": "bad prompt", "seed": 5}']);
    const outDir = path.join(dir, 'out');
    const first = await runBatch({ jobsFile: jobs, outDir, runner: fastRunner({ failPrompt: 'bad prompt' }) });
    expect(first).toMatchObject({ done: 2, failed: 1 });
    expect(first.jobs[2]).toMatchObject({ status: 'failed', error: 'cannot render "bad prompt"' });
    expect((await readdir(outDir)).filter((n) => n.startsWith('0002'))).toEqual([]);
    expect((await readdir(outDir)).some((n) => n.startsWith('.diffsparse'))).toBe(false);

    await expect(runBatch({ jobsFile: jobs, outDir, runner: fastRunner() })).rejects.toThrow(ManifestError);
    const second = await runBatch({ jobsFile: jobs, outDir, runner: fastRunner(), resume: true });
    expect(second).toMatchObject({ done: 3, failed: 0, skipped: 2 });
  });

  it('redoes a finished job whose output was deleted or damaged, and refuses a changed jobs file', async () => {
    const dir = await tempDir('damaged');
    const jobs = await writeJobs(dir, 3);
    const outDir = path.join(dir, 'out');
    const first = await runBatch({ jobsFile: jobs, outDir, runner: fastRunner() });
    await rm(first.jobs[0]!.output);
    await writeFile(first.jobs[1]!.output, 'truncated');
    const redone: number[] = [];
    const second = await runBatch({
      jobsFile: jobs, outDir, runner: fastRunner(), resume: true,
      onEvent: (e) => e.type === 'redo' && redone.push(e.job.index),
    });
    expect(redone).toEqual([0, 1]);
    expect(second).toMatchObject({ done: 3, skipped: 1 });
    for (const job of second.jobs) expect(await isValidOutput(job.output, job.seed)).toBe(true);

    await writeFile(jobs, '{"prompt": "something else"}\n');
    await expect(runBatch({ jobsFile: jobs, outDir, runner: fastRunner(), resume: true })).rejects.toThrow(/has changed since/);
  });

  it('chooses and records a random seed for jobs without one, and keeps it on resume', async () => {
    const dir = await tempDir('seed');
    const jobs = path.join(dir, 'jobs.jsonl');
    await writeFile(jobs, '{"prompt": "no seed given", "format": "png"}\n');
    const outDir = path.join(dir, 'out');
    const first = await runBatch({ jobsFile: jobs, outDir, runner: fastRunner() });
    const seed = first.jobs[0]!.seed;
    expect(Number.isInteger(seed)).toBe(true);
    expect(path.basename(first.jobs[0]!.output)).toBe(`0000-no-seed-given-s${seed}.png`);
    await rm(first.jobs[0]!.output);
    const second = await runBatch({ jobsFile: jobs, outDir, runner: fastRunner(), resume: true });
    expect(second.jobs[0]!.seed).toBe(seed);
    expect(await isValidOutput(second.jobs[0]!.output, seed)).toBe(true);
  });
});

describe('orphaned temporary files', () => {
  it('are removed when their writer no longer exists, and kept while it runs', async () => {
    const dir = await tempDir('orphans');
    const dead = 2 ** 22 + 12345; // above Linux's default pid_max, so no such process
    await writeFile(path.join(dir, `.manifest.json.tmp-${dead}-abc123`), '{');
    await writeFile(path.join(dir, `.manifest.json.tmp-${process.pid}-def456`), '{');
    await writeFile(path.join(dir, 'manifest.json'), '{}');
    expect(await removeOrphanedTemps(dir)).toEqual([`.manifest.json.tmp-${dead}-abc123`]);
    expect((await readdir(dir)).sort()).toEqual([`.manifest.json.tmp-${process.pid}-def456`, 'manifest.json']);
  });
});
