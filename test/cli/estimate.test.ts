/** Issue 17: `generate --dry-run` and `info` print memory and time estimates; nothing is rendered. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT, runBinary } from './helpers/binary.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ds-estimate-'));
beforeAll(ensureBuilt, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { DIFFSPARSE_CACHE_DIR: dir };

describe('estimates before work', () => {
  it('generate --dry-run checks the budget and prints size, frames, steps, memory and time', async () => {
    const out = path.join(dir, 'fox.mp4');
    // the tiny demo model ships schedules; the default (demo model v2) does not yet
    const r = await runBinary(['generate', 'a fox', '--dry-run', '--budget', '0.5', '--steps', '20', '--pipeline', 'wan-demo-tiny', '-o', out], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/64x64, 9 frames \(48 tokens\), 20 steps × 2 branches/);
    expect(r.stdout).toMatch(/memory: .* standard .* low-memory mode/);
    expect(r.stdout).toMatch(/estimated total: .* dense, .* with --budget 0\.5/);
    expect(r.stdout).toMatch(/dry run: nothing was loaded or rendered/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(path.join(dir, 'matmul-speed.json'))).toBe(true);
  });

  it('--dry-run --json gives the estimate as data', async () => {
    const r = await runBinary(['generate', 'a fox', '--dry-run', '--json', '--size', '832x480', '--frames', '81', '--steps', '50'], { env });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { dryRun: boolean; estimate: { tokens: number; seconds: { totalDense: number } } };
    expect(j.dryRun).toBe(true);
    expect(j.estimate.tokens).toBe(32760);
    expect(j.estimate.seconds.totalDense).toBeGreaterThan(0);
  });

  it('the default pipeline (demo model v2) at its defaults: 128x128, 17 frames, 320 tokens', async () => {
    const r = await runBinary(['generate', 'a fox', '--dry-run'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/128x128, 17 frames \(320 tokens\), 20 steps × 2 branches/);
  });

  it('--budget on a model without schedules fails in the dry run already, naming the choices', async () => {
    for (const pipeline of [path.join(REPO_ROOT, 'samples/demo-model/model'), path.join(REPO_ROOT, 'samples/demo-model-v2/model')]) {
      const r = await runBinary(['generate', 'a fox', '--dry-run', '--budget', '0.5', '--pipeline', pipeline], { env });
      expect(r.code, pipeline).toBe(1);
      expect(r.stderr).toMatch(/ships no learned schedules/);
      expect(r.stderr).toMatch(/--method step-skip/);
      expect(r.stderr).toContain(`schedule learn --pipeline ${pipeline} `); // the folder, not the built-in its name belongs to
    }
    // and without --dry-run, on the converted v2 folder (no schedules of its own): the same one message before any model is loaded
    const r = await runBinary(['generate', 'a fox', '--budget', '0.5', '--pipeline', path.join(REPO_ROOT, 'samples/demo-model-v2/model'), '-o', path.join(dir, 'never.mp4')], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^diffsparse: pipeline wan-demo ships no learned schedules, so --budget 0\.5 has nothing to pick from\. Either run a baseline at that budget now \(--method /m);
    expect(r.stderr).not.toMatch(/denoise|at .*\.js:\d+/);
    expect(existsSync(path.join(dir, 'never.mp4'))).toBe(false);
  });

  it('info on a model folder adds memory and time at the defaults', async () => {
    const r = await runBinary(['info', path.join(REPO_ROOT, 'samples/demo-model/model')], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/at the defaults \(64x64, 9 frames, 20 steps\)/);
    expect(r.stdout).toMatch(/estimated total/);
  });
});

it('DIFFSPARSE_GFLOPS fixes the speed the estimate uses', async () => {
  const r = await runBinary(['generate', 'a fox', '--dry-run'], { env: { ...env, DIFFSPARSE_GFLOPS: '123' } });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/estimated time at 123 GFLOP\/s/);
});

it('DIFFSPARSE_CALL_COST fixes the per-call cost: the estimate counts calls and shows the fixed costs', async () => {
  const r = await runBinary(['generate', 'a fox', '--dry-run'], { env: { ...env, DIFFSPARSE_GFLOPS: '100', DIFFSPARSE_CALL_COST: '2,20' } });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/estimated time at 100 GFLOP\/s and 2\.00 ms per onnxruntime call .*: load .*, text .*, .*\/step dense, VAE .*, encode /);
  // per guidance branch: 4 stage sessions per block, plus time embedding, patch embedding and head
  const { num_layers: layers } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'samples/demo-model-v2/checkpoint/config.json'), 'utf8')) as { num_layers: number };
  expect(r.stdout).toContain(`dense; ${2 * (4 * layers + 3)} calls/step, fixed costs`);
  expect(r.stdout).toMatch(/estimated total: .* dense; \d+ calls\/step, fixed costs .* of the dense total \(\d+%\)/);
  expect(r.stdout).toMatch(/DiT mode: standard \(every block loaded\): the DiT's weights \(\d+ MB\) and the text encoder's/);
});
