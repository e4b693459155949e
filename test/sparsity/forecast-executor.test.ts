/** Forecasting and the movement score inside the sparse executor (fixture tiny DiT, UniPC 8 steps, CFG 5). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DenseDiT } from '../../src/models/wan/dit/dense.js';
import { densePlan, SparseDiT, type SparsePlan } from '../../src/sparsity/executor.js';
import { blockReuseBaseline } from '../../src/sparsity/methods/index.js';
import { flopsShapeFor } from '../../src/sparsity/modelInfo.js';
import { SCORE_MIXES } from '../../src/sparsity/scores.js';
import { generate, maxAbsDiff, tinySetup, type TinySetup } from './helpers.js';

let s: TinySetup;
let dense: Float32Array;
beforeAll(async () => {
  s = await tinySetup();
  dense = await generate(s, new DenseDiT(s.dit));
});
afterAll(async () => {
  await s?.close();
});

const run = async (plan: SparsePlan, scoreWeights?: (typeof SCORE_MIXES)[string]): Promise<Float32Array> => {
  const m = await SparseDiT.create(s.dit, plan, scoreWeights ? { scoreWeights: { ...scoreWeights } } : {});
  try {
    return await generate(s, m);
  } finally {
    await m.release();
  }
};

describe('forecast and movement in the executor', () => {
  it('an all-ones plan with forecast and the movement score is still the dense model bit for bit', async () => {
    for (const forecastAxis of ['step', 'sigma'] as const) expect(maxAbsDiff(await run({ ...densePlan(8, 3), forecast: 'linear', forecastAxis }, SCORE_MIXES['movement+default']), dense)).toBe(0);
  });

  it('block reuse with a linear forecast runs, differs from plain reuse, and equals it where nothing can be forecast', async () => {
    const b = blockReuseBaseline({ steps: 8, shape: flopsShapeFor(s.dit, s.noise.shape), budget: 0.5 });
    const plain = await run({ table: b.table, attention: 'reuse', reuse: 'module-outputs' });
    const forecast = await run({ table: b.table, attention: 'reuse', reuse: 'module-outputs', forecast: 'linear' });
    expect(forecast.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(plain, forecast)).toBeGreaterThan(0);
    // one dense step only: every reused output has a single computation, so the forecast holds it
    const once = b.table.map((row, t) => row.map(() => (t === 0 ? 1 : 0)));
    expect(maxAbsDiff(await run({ table: once, attention: 'reuse', reuse: 'module-outputs' }), await run({ table: once, attention: 'reuse', reuse: 'module-outputs', forecast: 'linear' }))).toBe(0);
  });

  it('partial recompute selects by movement and forecasts the reused tokens', async () => {
    const half = Array.from({ length: 8 }, (_, t) => [1, 1, 1].map(() => (t % 3 === 0 ? 1 : 0.5)));
    for (const attention of ['reuse', 'fresh-kv', 'cached-kv'] as const) {
      const out = await run({ table: half, attention, reuse: 'module-outputs', forecast: 'linear' }, SCORE_MIXES.movement);
      expect(out.every(Number.isFinite), attention).toBe(true);
    }
  });
});
