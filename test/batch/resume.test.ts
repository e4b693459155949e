import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBatch } from '../../src/batch/local.js';
import type { Manifest } from '../../src/batch/manifest.js';
import { fastRunner, isValidOutput, REPO_ROOT, tempDir, writeJobs } from './helpers/fixtures.js';

async function readManifestOrNull(file: string): Promise<Manifest | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Manifest;
  } catch {
    return null;
  }
}

describe('crash and --resume', () => {
  it('a 6-job batch SIGKILLed halfway resumes to 6 complete outputs and a complete manifest', async () => {
    const dir = await tempDir('crash');
    const jobs = await writeJobs(dir, 6);
    const outDir = path.join(dir, 'out');
    const manifestFile = path.join(outDir, 'manifest.json');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/batch/helpers/batch-child.ts', jobs, outDir, JSON.stringify({ denoiseMs: 400, finishMs: 400 })],
      { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));

    // Kill the process as soon as two jobs are done and a third is in flight.
    let before: Manifest | null = null;
    for (let waited = 0; waited < 60_000; waited += 50) {
      before = await readManifestOrNull(manifestFile);
      const done = before?.jobs.filter((j) => j.status === 'done').length ?? 0;
      const running = before?.jobs.filter((j) => j.status === 'running').length ?? 0;
      if (done >= 2 && running >= 1) break;
      if (child.exitCode !== null) throw new Error(`batch child exited early: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const killed = (await readManifestOrNull(manifestFile))!;
    const doneBefore = killed.jobs.filter((j) => j.status === 'done').map((j) => j.index);
    expect(doneBefore.length).toBeGreaterThanOrEqual(2);
    expect(doneBefore.length).toBeLessThan(6);
    // Nothing unfinished sits under a final name.
    const unfinished = killed.jobs.filter((j) => j.status !== 'done');
    const namesAfterKill = await readdir(outDir);
    for (const job of unfinished) expect(namesAfterKill).not.toContain(path.basename(job.output));

    const skipped: number[] = [];
    const redone: number[] = [];
    const summary = await runBatch({
      jobsFile: jobs, outDir, resume: true, runner: fastRunner({ denoiseMs: 20, finishMs: 20 }),
      onEvent: (e) => (e.type === 'skip' ? skipped.push(e.job.index) : e.type === 'redo' ? redone.push(e.job.index) : undefined),
    });
    expect(summary).toMatchObject({ total: 6, done: 6, failed: 0, skipped: doneBefore.length });
    expect(skipped).toEqual(doneBefore);
    expect(redone.length).toBeGreaterThanOrEqual(1); // the job(s) running at the kill

    const manifest = (await readManifestOrNull(manifestFile))!;
    expect(manifest.jobs.map((j) => j.status)).toEqual(Array(6).fill('done'));
    for (const job of manifest.jobs) {
      expect(await isValidOutput(job.output, job.seed)).toBe(true);
      expect(job.digest).toBeDefined();
    }
    const names = await readdir(outDir);
    expect(names.filter((n) => n.endsWith('.png'))).toHaveLength(6);
    expect(names.filter((n) => n.endsWith('.json') && n !== 'manifest.json')).toHaveLength(6);
    expect(names.filter((n) => n.startsWith('.'))).toEqual([]); // no staging folders or temp files left
  });
});
