/**
 * Issue 18: a signal while the VAE decodes must stop the process cleanly (exit 130/143, no
 * `terminate called ... Napi::Error` abort), remove every temporary file, and hand batch jobs
 * back as pending. Real child processes running bin/diffsparse.js on the built-in tiny demo model
 * (`wan-demo-tiny`, quick).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runBinary } from '../cli/helpers/binary.js';

const dir = mkdtempSync(path.join(tmpdir(), 'signals-'));
beforeAll(ensureBuilt, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every file under `root`, relative, hidden ones included. */
function listAll(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

const stopAtDecode = (signal: NodeJS.Signals) => (text: string, child: { killed: boolean; kill(s: NodeJS.Signals): boolean }): void => {
  if (/decode 0\//.test(text) && !child.killed) child.kill(signal);
};

describe('a signal during VAE decoding', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`generate: ${signal} exits ${code} and leaves no file behind`, async () => {
      const out = path.join(dir, `gen-${signal}`);
      const run = await runBinary(['generate', 'a red circle moving right', '--seed', '1', '--steps', '4', '--pipeline', 'wan-demo-tiny', '-o', path.join(out, 'x.mp4')], { onStderr: stopAtDecode(signal) });
      expect(run.stderr).toMatch(/decode 0\//);
      expect(run.stderr).not.toMatch(/terminate called|Napi::Error/);
      expect(run.signal).toBeNull();
      expect(run.code, run.stderr).toBe(code);
      expect(listAll(out)).toEqual([]);
    });
  }

  it('batch: SIGINT exits 130, returns the jobs to pending and leaves no staging files', async () => {
    const jobs = path.join(dir, 'jobs.jsonl');
    writeFileSync(jobs, ['{"defaults": {"steps": 4}}', '{"prompt": "a red circle moving right", "seed": 1}', '{"prompt": "a blue square moving left", "seed": 2}'].join('\n'));
    const out = path.join(dir, 'batch');
    const run = await runBinary(['batch', jobs, '-o', out, '--pipeline', 'wan-demo-tiny'], { onStderr: stopAtDecode('SIGINT') });
    expect(run.stderr).not.toMatch(/terminate called|Napi::Error/);
    expect(run.code, run.stderr).toBe(130);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { jobs: { status: string }[] };
    expect(manifest.jobs.map((j) => j.status)).toEqual(['pending', 'pending']);
    expect(listAll(out)).toEqual(['manifest.json']);
  });
});

describe('a signal while one pass of the DiT takes seconds (a large size, as any large model on a CPU)', () => {
  // wan-demo at 1024x1024 × 17 frames: 20,480 tokens, about a second a block, six blocks a pass
  const long = ['generate', 'a red circle moving right', '--seed', '1', '--size', '1024x1024', '--frames', '17', '--steps', '2'];
  /** `signals` SIGINTs, 300 ms apart, the first `ms` after denoising starts (inside the first pass). */
  const after = (ms: number, signals: number): ((text: string, child: { kill(s: NodeJS.Signals): boolean }) => void) => {
    let armed = false;
    return (text, child) => {
      if (armed || !/denoise 0\/2/.test(text)) return;
      armed = true;
      for (let i = 0; i < signals; i++) setTimeout(() => child.kill('SIGINT'), ms + 300 * i);
    };
  };

  it('Ctrl-C stops between blocks and exits 130, without ending a thread inside onnxruntime', async () => {
    const out = path.join(dir, 'long');
    const started = Date.now();
    const run = await runBinary([...long, '-o', path.join(out, 'x.mp4')], { onStderr: after(2000, 1) });
    expect(run.stderr).not.toMatch(/terminate called|Napi::Error/);
    expect(run.code, run.stderr).toBe(130);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(listAll(out)).toEqual([]);
  }, 120_000);

  it('a second Ctrl-C quits at once: the process dies by the signal, with no abort message', async () => {
    const run = await runBinary([...long, '-o', path.join(dir, 'long2', 'x.mp4')], { onStderr: after(2000, 2) });
    expect(run.stderr).toMatch(/stopping now/);
    expect(run.stderr).not.toMatch(/terminate called|Napi::Error/);
    expect(run.signal).toBe('SIGINT');
  }, 120_000);
});

