/**
 * Batch rendering end to end with the real built-in model, through the CLI binary: a 6-job
 * batch is SIGKILLed once two jobs are done and a third is running, `--resume` finishes it,
 * and every output must then be a complete, decodable video of the requested size with a
 * complete manifest and nothing left under a temporary name.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readVideoFrames } from '../../src/video/probe.js';
import { ensureBuilt, REPO_ROOT, runBinary } from './helpers/binary.js';

const dir = mkdtempSync(path.join(tmpdir(), 'batch-e2e-'));
const BIN = path.join(REPO_ROOT, 'bin/diffsparse.js');
// the tiny demo model (64x64, 9 frames) keeps six renders quick
const TINY = ['--pipeline', 'wan-demo-tiny'];

interface ManifestJob { index: number; status: string; output: string; seed: number }
const readManifest = (file: string): { jobs: ManifestJob[] } | null => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { jobs: ManifestJob[] };
  } catch {
    return null;
  }
};

beforeAll(ensureBuilt, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('diffsparse batch with the demo model', () => {
  it('survives a SIGKILL halfway and resumes to 6 valid videos', async () => {
    const jobs = path.join(dir, 'jobs.jsonl');
    const colours = ['red', 'green', 'blue', 'yellow', 'white', 'purple'];
    writeFileSync(jobs, [
      JSON.stringify({ defaults: { steps: 6 } }),
      ...colours.map((c, i) => JSON.stringify({ prompt: `a ${c} circle moving right`, seed: 100 + i })),
    ].join('\n'));
    const out = path.join(dir, 'out');
    const manifestFile = path.join(out, 'manifest.json');

    const child = spawn(process.execPath, [BIN, 'batch', jobs, '-o', out, ...TINY], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<string | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    for (let waited = 0; waited < 120_000; waited += 25) {
      const m = readManifest(manifestFile);
      if (m && m.jobs.filter((j) => j.status === 'done').length >= 2 && m.jobs.some((j) => j.status === 'running')) break;
      if (child.exitCode !== null) throw new Error(`batch exited before it could be killed: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const killed = readManifest(manifestFile)!;
    const doneBefore = killed.jobs.filter((j) => j.status === 'done').length;
    expect(doneBefore).toBeGreaterThanOrEqual(2);
    expect(doneBefore).toBeLessThan(6);

    const resumed = await runBinary(['batch', jobs, '-o', out, '--resume', '--json', ...TINY]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = JSON.parse(resumed.stdout) as { total: number; done: number; failed: number; skipped: number };
    expect(summary).toMatchObject({ total: 6, done: 6, failed: 0, skipped: doneBefore });

    const manifest = readManifest(manifestFile)!;
    expect(manifest.jobs.map((j) => j.status)).toEqual(Array(6).fill('done'));
    expect(manifest.jobs.map((j) => j.seed)).toEqual([100, 101, 102, 103, 104, 105]);
    for (const job of manifest.jobs) {
      const video = await readVideoFrames(job.output);
      expect([video.width, video.height, video.frames.length]).toEqual([64, 64, 9]);
      const sidecar = JSON.parse(readFileSync(`${job.output}.json`, 'utf8')) as { settings?: { seed?: number }; seed?: number };
      expect(JSON.stringify(sidecar)).toContain(`"seed":${job.seed}`);
    }
    expect(readdirSync(out).filter((n) => n.startsWith('.') || n.includes('.tmp'))).toEqual([]);
  });
});
