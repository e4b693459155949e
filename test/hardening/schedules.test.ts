/**
 * Issue 18, sparsity requests: `--schedule` for another model (id or weight fingerprint) ran
 * silently although the README says both are checked; another step count was resampled
 * silently; a custom level set `[0, .3, 1]` was accepted; `--budget 0.2` ran at 33% without a
 * word; the sidecar recorded `"schedule": null` with `--budget`; `--budget` on a converted
 * model without shipped schedules failed only after the text encoder ran.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT, runBinary } from '../cli/helpers/binary.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ds-schedules-'));
const SHIPPED = path.join(REPO_ROOT, 'schedules/wan-demo-tiny/wan-demo-tiny-20steps-block-reuse-50.json');
const base = JSON.parse(readFileSync(SHIPPED, 'utf8')) as Record<string, any>;
// the tiny demo model, which ships the schedules (a --pipeline given after these wins)
const TINY = ['--pipeline', 'wan-demo-tiny', '--frames', '5', '--threads', '1'];
beforeAll(ensureBuilt, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function variant(name: string, change: (s: Record<string, any>) => void): string {
  const doc = structuredClone(base);
  change(doc);
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}
const generate = (args: string[]) => runBinary(['generate', 'a red circle', ...TINY, '-o', path.join(dir, `v-${Math.random()}.mp4`), ...args]);

describe('--schedule is checked against the model before any work', () => {
  const cases: [string, (s: Record<string, any>) => void, RegExp][] = [
    ['another model id', (s) => (s.model.id = 'wan21-14b'), /made for model "wan21-14b", not "wan-demo-tiny"; use a schedule made for this model/],
    ['other weights', (s) => (s.model.fingerprint = `sha256:${'0'.repeat(64)}`), /with weights sha256:0+, but these weights are sha256:c2771/],
    ['a custom level set', (s) => {
      s.levels = [0, 0.3, 1];
      s.table = s.table.map((row: number[]) => row.map((v) => (v === 0 ? 0 : v === 1 ? 1 : 0.3)));
    }, /level 0\.3 is not one of 0, 0\.25, 0\.5, 0\.75, 1/],
  ];
  for (const [name, change, message] of cases) {
    it(name, async () => {
      const r = await generate(['--steps', '20', '--schedule', variant(name.replace(/\W+/g, '-'), change)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/text 0\/1|internal error/); // refused before the text encoder
    });
  }

  it('--budget on a converted model that ships no schedules fails before the text encoder', async () => {
    const r = await generate(['--steps', '2', '--budget', '0.5', '--pipeline', path.join(REPO_ROOT, 'samples/demo-model/model')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ships no learned schedules/);
    expect(r.stderr).not.toMatch(/text 0\/1/);
  });
});

describe('what a sparse run did is said and recorded', () => {
  it('a resampled schedule warns', async () => {
    const r = await generate(['--steps', '4', '--schedule', SHIPPED]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: schedule .*wan-demo-tiny-20steps-block-reuse-50\.json was made for 20 steps and is resampled to 4/);
  });

  it('--budget below every shipped schedule warns with the FLOPs it runs at; the sidecar names the schedule', async () => {
    const out = path.join(dir, 'budget.mp4');
    const r = await runBinary(['generate', 'a red circle', ...TINY, '--steps', '20', '--budget', '0.2', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: budget 0\.2 cannot be met by the shipped schedules \(the leanest is wan-demo-tiny-20steps-block-reuse-35\.json\): this run uses \d+\.\d% of dense FLOPs/);
    expect(r.stderr).not.toMatch(/resampled/);
    expect(r.stderr).toMatch(/sparsity: schedule block-reuse-35 \(baseline: .*\), FLOPs \d+\.\d% of dense/); // issue 16's detail line, next to the warning
    const sidecar = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as { settings: Record<string, unknown> };
    expect(sidecar.settings).toMatchObject({ budget: 0.2, schedule: expect.stringMatching(/wan-demo-tiny-20steps-block-reuse-35\.json$/), sparsity: {
      description: expect.stringMatching(/^schedule block-reuse-35 \(baseline: /),
      flopsRatio: expect.any(Number),
      schedule: { file: expect.stringMatching(/wan-demo-tiny-20steps-block-reuse-35\.json$/), name: 'block-reuse-35', provenance: { kind: 'baseline', method: expect.any(String) } },
    } });
  });

  it('a budget the shipped schedules meet runs without a warning', async () => {
    const r = await generate(['--steps', '20', '--budget', '0.8', '--frames', '9']); // 9: the demo's trained frame count (5 warns, issue 19)
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warning/);
  });

  it('--budget 1 runs the dense model, not the richest shipped schedule', async () => {
    const r = await generate(['--steps', '20', '--budget', '1', '--frames', '9', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { flopsRatio: number }).flopsRatio).toBe(1);
    expect(r.stderr).not.toMatch(/sparsity: schedule/);
  });

  it('a schedule whose recomputed tokens attend to fresh keys/values says so', async () => {
    const fresh = variant('fresh-kv', (s) => (s.attention = 'fresh-kv'));
    const r = await generate(['--steps', '20', '--frames', '9', '--schedule', fresh, '--seed', '7']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/recomputed tokens attend to fresh keys\/values of all tokens/);
  });

  it('a schedule learned with forecasting runs with it and says so', async () => {
    const forecast = variant('forecast', (s) => (s.forecast = 'linear'));
    const r = await generate(['--steps', '20', '--frames', '9', '--schedule', forecast, '--seed', '7', '--json', '--save-latent']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/reused outputs forecast \(linear\)/);
    const plain = await generate(['--steps', '20', '--frames', '9', '--schedule', SHIPPED, '--seed', '7', '--json', '--save-latent']);
    expect(plain.stderr).not.toMatch(/forecast/);
    // same seed, same table: only the forecast differs, so the final latents do
    const latent = (out: string): Buffer => readFileSync((JSON.parse(out) as { latent: string }).latent);
    expect(latent(r.stdout).equals(latent(plain.stdout))).toBe(false);
  });

  it('schedule resample computes the FLOPs generate runs at (show and generate agree)', async () => {
    const s30 = path.join(dir, 's30.json');
    const resample = await runBinary(['schedule', 'resample', SHIPPED, '--steps', '30', '-o', s30]);
    expect(resample.code, resample.stderr).toBe(0);
    const show = await runBinary(['schedule', 'show', s30]);
    const shown = Number(/FLOPs (\d+\.\d)% of dense/.exec(show.stdout)![1]);
    const r = await runBinary(['generate', 'a red circle', ...TINY, '--size', '64x64', '--frames', '9', '--steps', '30', '--schedule', s30, '--json', '-o', path.join(dir, 's30.mp4')]);
    expect(r.code, r.stderr).toBe(0);
    const ran = (JSON.parse(r.stdout) as { flopsRatio: number }).flopsRatio * 100;
    expect(Math.abs(ran - shown)).toBeLessThan(0.1);
    expect(r.stderr).not.toMatch(/resampled/);
  });
});
