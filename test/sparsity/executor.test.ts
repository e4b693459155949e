import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DenseDiT } from '../../src/models/wan/dit/dense.js';
import { densePlan, SparseDiT, type SparsePlan } from '../../src/sparsity/executor.js';
import { modulationRows, readBlockModulations } from '../../src/sparsity/modulation.js';
import { openWeights } from '../../src/weights/index.js';
import { FIXTURES } from './helpers.js';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import { loadSchedule } from '../../src/sparsity/schedule.js';
import { modelFingerprint } from '../../src/sparsity/modelInfo.js';
import { planFromSchedule } from '../../src/sparsity/executor.js';
import { tokenScores, topK } from '../../src/sparsity/scores.js';
import type { Latent } from '../../src/core/types.js';
import { generate, loadF32, maxAbsDiff, tinySetup, type TinySetup } from './helpers.js';

let s: TinySetup;
let dense: Float32Array;
const STEPS = 8;
const LAYERS = 3;
const N = 72;
const D = 64;

beforeAll(async () => {
  s = await tinySetup();
  dense = await generate(s, new DenseDiT(s.dit));
});
afterAll(async () => {
  await s?.close();
});

const plan = (rows: number[][], extra: Partial<SparsePlan> = {}): SparsePlan => ({ table: rows, attention: 'reuse', reuse: 'module-outputs', ...extra });
const firstDenseThen = (level: number): number[][] => Array.from({ length: STEPS }, (_, t) => new Array<number>(LAYERS).fill(t === 0 ? 1 : level));

describe('sparse executor on the fixture tiny DiT (UniPC, 8 steps, CFG 5)', () => {
  it('the dense run matches the official final latent', () => {
    const golden = loadF32('sampler_unipc/latents.npy').data.subarray(7 * dense.length);
    expect(maxAbsDiff(dense, golden)).toBeLessThan(5e-4);
  });

  it('reads every block modulation exactly from the converted post stages', async () => {
    const mods = readBlockModulations(s.dit);
    const src = await openWeights(`${FIXTURES}dit/wan21_tiny_dit.safetensors`);
    for (let l = 0; l < LAYERS; l++) expect(Array.from(mods[l])).toEqual(Array.from(await src.readF32(`blocks.${l}.modulation`)));
    await src.close();
  });

  it('loads the shipped fixture schedules for this model and runs them', async () => {
    const dir = fileURLToPath(new URL('../../schedules/wan21-tiny-fixture/', import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const sched = await loadSchedule(dir + f, { modelId: 'wan21-tiny-fixture', fingerprint: modelFingerprint(s.dit), layers: LAYERS });
      const sparse = await SparseDiT.create(s.dit, planFromSchedule(sched));
      const out = await generate(s, sparse);
      expect(out.every(Number.isFinite)).toBe(true);
      expect(sparse.stats.forcedDense).toBe(0);
      await sparse.release();
    }
  });

  it('an all-ones schedule reproduces the dense generation bit for bit, for every variant', async () => {
    for (const attention of ['reuse', 'fresh-kv', 'cached-kv'] as const) {
      const sparse = await SparseDiT.create(s.dit, { ...densePlan(STEPS, LAYERS), attention });
      const out = await generate(s, sparse);
      expect(maxAbsDiff(out, dense)).toBe(0);
      expect(sparse.stats.dense).toBe(STEPS * LAYERS * 2);
      expect(sparse.stats.partial + sparse.stats.reused).toBe(0);
      await sparse.release();
    }
  });

  it('level 0 after a dense first step reuses every module output with the current gates', async () => {
    const sparse = await SparseDiT.create(s.dit, plan(firstDenseThen(0)));
    const out = await generate(s, sparse);
    expect(sparse.stats.dense).toBe(LAYERS * 2);
    expect(sparse.stats.reused).toBe((STEPS - 1) * LAYERS * 2);
    expect(sparse.stats.forcedDense).toBe(0);
    for (const branch of ['cond', 'uncond'] as const)
      for (let l = 0; l < LAYERS; l++) {
        const c = sparse.cache.layer(branch, l);
        expect(Array.from(c.age).every((a) => a === STEPS - 1)).toBe(true);
        expect(Array.from(c.recomputed).every((r) => r === 1)).toBe(true);
      }
    expect(maxAbsDiff(out, dense)).toBeGreaterThan(1e-3); // it really is a different computation
    await sparse.release();
  });

  it('a reused step equals x + m2·SA + CA + m5·FFN computed by hand', async () => {
    const sparse = await SparseDiT.create(s.dit, plan(firstDenseThen(0)));
    const latent: Latent = { data: s.noise.data, shape: s.noise.shape };
    await sparse.predict(latent, 999, s.cond, { step: 0, steps: STEPS, branch: 'cond' });
    // by hand, from the caches left by step 0
    const t = 937;
    const { e, e0 } = await s.dit.embedTime(t);
    const { patches, grid } = s.dit.patchify(latent);
    const x = await s.dit.embedPatches(patches);
    const mods = readBlockModulations(s.dit);
    for (let l = 0; l < LAYERS; l++) {
      const c = sparse.cache.layer('cond', l);
      const m = modulationRows(mods[l], e0);
      const sa = c.sa.read(null);
      const ca = c.ca.read(null);
      const ff = c.ffn.read(null);
      for (let i = 0; i < N * D; i++) x[i] = x[i] + sa[i] * m[2 * D + (i % D)] + ca[i] + ff[i] * m[5 * D + (i % D)];
    }
    const want = s.dit.unpatchify(await s.dit.head(x, e), grid).data;
    const got = await sparse.predict(latent, t, s.cond, { step: 1, steps: STEPS, branch: 'cond' });
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    await sparse.release();
  });

  it('recomputes exactly the top-k tokens of the score and keeps the staleness counts', async () => {
    const table = firstDenseThen(0.25);
    const sparse = await SparseDiT.create(s.dit, plan(table));
    const latent: Latent = { data: s.noise.data, shape: s.noise.shape };
    await sparse.predict(latent, 999, s.cond, { step: 0, steps: STEPS, branch: 'cond' });
    const grid = sparse.cache.grid;
    const before = Array.from({ length: LAYERS }, (_, l) => {
      const c = sparse.cache.layer('cond', l);
      return { ca: c.ca.read(null), ffn: c.ffn.read(null), sa: c.sa.read(null), scoreRows: topK(tokenScores({ age: c.age, attention: c.attentionScore, value: c.valueScore }, grid), 18) };
    });
    expect(sparse.cache.layer('cond', 0).attentionScore).not.toBeNull();
    expect(sparse.cache.layer('cond', 0).valueScore).not.toBeNull();
    await sparse.predict(latent, 937, s.cond, { step: 1, steps: STEPS, branch: 'cond' });
    for (let l = 0; l < LAYERS; l++) {
      const c = sparse.cache.layer('cond', l);
      const fresh = Array.from(c.age).flatMap((a, i) => (a === 0 ? [i] : []));
      expect(fresh).toEqual(Array.from(before[l].scoreRows)); // k = 0.25·72 = 18 rows, the top of the score
      expect(Array.from(c.age).filter((a) => a === 1)).toHaveLength(N - 18);
      const ca = c.ca.read(null);
      const sa = c.sa.read(null);
      for (let i = 0; i < N; i++) {
        const row = (a: Float32Array): Float32Array => a.subarray(i * D, (i + 1) * D);
        const changed = maxAbsDiff(row(ca), row(before[l].ca)) > 0;
        expect(changed).toBe(fresh.includes(i));
        expect(maxAbsDiff(row(sa), row(before[l].sa))).toBe(0); // variant 'reuse' never touches SA
      }
    }
    // a second partial step: staleness favours the tokens left out last time
    await sparse.predict(latent, 892, s.cond, { step: 2, steps: STEPS, branch: 'cond' });
    const ages = Array.from(sparse.cache.layer('cond', 0).age);
    expect(ages.filter((a) => a === 0)).toHaveLength(18);
    expect(ages.filter((a) => a === 2).length + ages.filter((a) => a === 1).length).toBe(N - 18);
    expect(sparse.stats.partial).toBe(2 * LAYERS);
    expect(sparse.stats.recomputedTokens).toBe(2 * LAYERS * 18);
    await sparse.release();
  });

  it('runs partial levels with every self-attention variant and stays finite', async () => {
    for (const attention of ['reuse', 'fresh-kv', 'cached-kv'] as const) {
      const sparse = await SparseDiT.create(s.dit, plan(firstDenseThen(0.5), { attention }));
      const out = await generate(s, sparse);
      expect(out.every(Number.isFinite)).toBe(true);
      expect(sparse.stats.partial).toBe((STEPS - 1) * LAYERS * 2);
      await sparse.release();
    }
  });

  it('skips whole steps with the stack residual (TeaCache-like)', async () => {
    const table = [1, 0, 1, 0, 0, 1, 0, 1].map((v) => new Array<number>(LAYERS).fill(v));
    const sparse = await SparseDiT.create(s.dit, plan(table, { reuse: 'stack-residual' }));
    const out = await generate(s, sparse);
    expect(sparse.stats.skippedSteps).toBe(4 * 2);
    expect(sparse.stats.dense).toBe(4 * LAYERS * 2);
    expect(out.every(Number.isFinite)).toBe(true);
    expect(sparse.cache.memory().residuals).toBe(2 * N * D * 4);
    await sparse.release();
  });

  it('resets between generations and when the latent size changes', async () => {
    const sparse = await SparseDiT.create(s.dit, plan(firstDenseThen(0.5)));
    const a = await generate(s, sparse);
    const b = await generate(s, sparse);
    expect(maxAbsDiff(a, b)).toBe(0);
    const small: Latent = { data: s.noise.data.subarray(0, 16 * 2 * 8 * 12).slice(), shape: [16, 2, 8, 12] };
    await sparse.predict(small, 999, s.cond, { step: 0, steps: STEPS, branch: 'cond' });
    await sparse.predict({ data: s.noise.data, shape: s.noise.shape }, 937, s.cond, { step: 1, steps: STEPS, branch: 'cond' });
    // the cache held 2-frame rows, so the 3-frame step had to run dense
    expect(sparse.stats.forcedDense).toBe(LAYERS);
    expect(sparse.cache.grid).toEqual({ frames: 3, height: 4, width: 6 });
    await sparse.release();
  });

  it('accounts cache memory, half precision halving it', async () => {
    const f32 = await SparseDiT.create(s.dit, plan(firstDenseThen(0.5)));
    const f16 = await SparseDiT.create(s.dit, plan(firstDenseThen(0.5)), { precision: 'f16' });
    const a = await generate(s, f32);
    const b = await generate(s, f16);
    const m32 = f32.cache.memory();
    const m16 = f16.cache.memory();
    expect(m32.layersAllocated).toBe(2 * LAYERS);
    const stores = 3 * N * D;
    // stores + age/recomputed counters + the two scorer signals, per layer and branch
    expect(m32.total).toBe(2 * LAYERS * (stores * 4 + 4 * N * 4));
    expect(m16.total).toBe(2 * LAYERS * (stores * 2 + 4 * N * 4));
    expect(maxAbsDiff(a, b)).toBeLessThan(0.05 * Math.max(...a.map(Math.abs)));
    await f32.release();
    await f16.release();
  });
});
