/** The learner's local search and honest provenance, on a model-free error function. */
import { describe, expect, it } from 'vitest';
import { generationFlops, type FlopsShape } from '../../src/sparsity/flops.js';
import { calibrateGrowth, emptyCostTable, learnedProvenance, learnPlan, learnSchedule, localSearch, selectionError, solveForBudget, type PlanRunner } from '../../src/sparsity/learn.js';
import { blockReuseBaseline } from '../../src/sparsity/methods/index.js';

const shape: FlopsShape = { dim: 96, ffnDim: 256, textLen: 16, textDim: 64, layers: 3, tokens: 48, patchFeatures: 64, headFeatures: 64, freqDim: 256 };
const steps = 8;

// "final latent" = one number per case: the error grows with reuse early (later steps amplify it)
const runner = (calls: { n: number }): PlanRunner => async (plan) => {
  calls.n++;
  let e = 0;
  plan.table.forEach((row, t) => row.forEach((v) => (e += (1 - v) ** 2 * (steps - t) ** 2)));
  return [Float32Array.from([1 + Math.sqrt(e) / 100])];
};
const reference = [Float32Array.from([1])];

describe('local search on the solved table', () => {
  it('keeps the budget, never ends worse than its start, and runs at most the stated generations', async () => {
    const start = blockReuseBaseline({ steps, shape, budget: 0.5 });
    const calls = { n: 0 };
    const run = runner(calls);
    const [startOut] = await run({ table: start.table, attention: 'reuse', reuse: 'module-outputs' });
    const startError = (startOut[0] - 1) ** 2;
    calls.n = 0;
    const seen: number[] = [];
    const found = await localSearch({ steps, layers: 3, shape, budget: 0.5 }, { table: start.table, error: startError }, run, reference, { steps: 1, layers: 1 }, 12, 3, (d) => seen.push(d));
    expect(calls.n).toBe(found.tried);
    expect(found.tried).toBeLessThanOrEqual(12);
    expect(seen.at(-1)).toBe(found.tried);
    expect(found.error).toBeLessThanOrEqual(startError);
    expect(found.accepted).toBeGreaterThan(0);
    expect(generationFlops(shape, found.table, 'reuse', 2).ratio).toBeLessThanOrEqual(0.5 + 1e-9);
    expect(found.table[0]).toEqual([1, 1, 1]);
  });

  it('with the cost table as a guide, draws its moves where the table says they pay', async () => {
    // the true error: only reuse at steps 1–2 hurts; the guide (calibrated table) says the same
    const hurt = (t: number): number => (t === 1 || t === 2 ? 100 : 0.01);
    const run: PlanRunner = async (plan) => {
      let e = 0;
      plan.table.forEach((row, t) => row.forEach((v) => (e += (1 - v) ** 2 * hurt(t))));
      return [Float32Array.from([1 + Math.sqrt(e) / 100])];
    };
    const guide = Array.from({ length: steps }, (_, t) => Array.from({ length: 3 }, () => Float64Array.from([0, 0.25, 0.5, 0.75, 1], (v) => (t === 0 && v < 1 ? 1e6 : (1 - v) ** 2 * hurt(t)))));
    const start = blockReuseBaseline({ steps, shape, budget: 0.5 });
    const [startOut] = await run({ table: start.table, attention: 'reuse', reuse: 'module-outputs' });
    const startError = (startOut[0] - 1) ** 2;
    const unguided = await localSearch({ steps, layers: 3, shape, budget: 0.5 }, { table: start.table, error: startError }, run, reference, { steps: 1, layers: 1 }, 8, 5);
    const guided = await localSearch({ steps, layers: 3, shape, budget: 0.5 }, { table: start.table, error: startError }, run, reference, { steps: 1, layers: 1 }, 8, 5, undefined, guide);
    expect(guided.error).toBeLessThanOrEqual(startError);
    expect(generationFlops(shape, guided.table, 'reuse', 2).ratio).toBeLessThanOrEqual(0.5 + 1e-9);
    expect(guided.table[0]).toEqual([1, 1, 1]);
    // the budget moves to steps 1–2, and the guided search ends lower than the blind one with the same generations
    const early = (t: number[][]): number => t[1].concat(t[2]).reduce((a, b) => a + b, 0);
    expect(early(guided.table)).toBeGreaterThan(early(start.table));
    expect(guided.error).toBeLessThan(unguided.error);
  });

  it('states the generations of every phase before starting', () => {
    const p = learnPlan({ steps: 8, layers: 3, grouping: { steps: 2, layers: 1 }, iterations: 1, generations: 10 }, 100);
    // 12 cells × 4 sparse levels + the dense reference; refine 2 + 12; choice: the solved table and 2 seeds; search 10
    expect(p).toEqual({ calibrate: 49, refine: 14, select: 3, search: 10, total: 76, etaMs: 7600 });
  });

  it('compares schedules by the geometric mean over cases: one flipped case does not outweigh gains on the rest', () => {
    const refs = [1, 1, 1].map((v) => Float32Array.from([v]));
    const outs = (errors: number[]): Float32Array[] => errors.map((e) => Float32Array.from([1 + Math.sqrt(e)]));
    const flipOnce = outs([1e-5, 1e-5, 0.5]); // better on two clips, one clip's outcome flipped
    const evenlyWorse = outs([1e-3, 1e-3, 1e-3]);
    expect(selectionError(flipOnce, refs)).toBeLessThan(selectionError(evenlyWorse, refs));
    expect(selectionError(flipOnce, refs)).toBeCloseTo(Math.cbrt(1e-5 * 1e-5 * 0.5), 8);
    expect(selectionError(refs, refs)).toBeGreaterThan(0); // an exact match stays finite
  });
});

describe('error growth over consecutive sparse steps', () => {
  it('fits the exponent of a model whose reused caches drift with age, and the solver then spreads reuse out', async () => {
    const T = 12;
    // true error: the i-th consecutive step at level 0 costs 0.01 · i² (per layer 1/3 of it)
    const run: PlanRunner = async (plan) => {
      let e = 0;
      let age = 0;
      for (const row of plan.table) {
        age = row.every((v) => v === 1) ? 0 : age + 1;
        for (const v of row) if (v < 1) e += (0.01 / 3) * (1 - v) ** 2 * age ** 2;
      }
      return [Float32Array.from([1 + Math.sqrt(e)])];
    };
    const cost = emptyCostTable(T, 3, [0, 0.25, 0.5, 0.75, 1]);
    for (let t = 1; t < T; t++) for (let l = 0; l < 3; l++) cost[t][l].forEach((_, s, c) => s < 4 && (c[s] = (0.01 / 3) * (1 - s / 4) ** 2));
    const p = { steps: T, layers: 3, shape, budget: 0.55 };
    const g = await calibrateGrowth(p, run, reference, cost);
    expect(g.runs).toBeGreaterThanOrEqual(2);
    expect(g.growth).toBeGreaterThan(1.7);
    expect(g.growth).toBeLessThan(2.3);
    const aged = solveForBudget({ ...p, growth: g.growth }, cost);
    const additive = solveForBudget(p, cost);
    const err = async (table: number[][]): Promise<number> => ((await run({ table, attention: 'reuse', reuse: 'module-outputs' }))[0][0] - 1) ** 2;
    expect(aged.flopsRatio).toBeLessThanOrEqual(0.55 + 1e-9);
    expect(await err(aged.table)).toBeLessThanOrEqual(await err(additive.table));
    // learnSchedule fits it when asked and says so in the provenance
    const learned = await learnSchedule({
      ...p, model: { id: 'toy', layers: 3, dim: 96, heads: 4 }, sampling: { steps: T, shift: 5, guidance: 5, solver: 'unipc' }, tokenGrid: { frames: 3, height: 4, width: 4 },
      run, reference, grouping: { steps: 1, layers: 3 }, iterations: 0, casesDescription: 'toy', calibrated: cost, fitGrowth: true,
    });
    expect(learned.schedule.provenance.method).toMatch(/error growth over consecutive sparse steps \(the i-th step of a run costs i\^[\d.]+ /);
    expect(learned.schedule.flopsRatio).toBeLessThanOrEqual(0.55 + 1e-9);
  });
});

describe('provenance of what the learner chose', () => {
  it('says learned only for a token-level table', () => {
    expect(learnedProvenance({ table: [[1], [0.5]], from: 'solved' }, 'how', 1, 0.5).kind).toBe('learned');
    expect(learnedProvenance({ table: [[1], [0]], from: 'solved' }, 'how', 1, 0.5).kind).toBe('calibrated');
    const b = learnedProvenance({ table: [[1], [0]], from: 'block-reuse', description: 'FORA-like: steps 0 dense' }, 'how', 1, 0.5);
    expect(b.kind).toBe('baseline');
    expect(b.method).toContain('FORA-like block reuse (block-reuse)');
    expect(learnedProvenance({ table: [[1], [0.25]], from: 'search from block-reuse' }, 'how', 1, 0.5).kind).toBe('learned');
  });
});

describe('learning with forecast (reused outputs extrapolated in every measured run)', () => {
  it('measures every plan with the forecast, and the schedule records it', async () => {
    const plans: { forecast?: string }[] = [];
    const run: PlanRunner = async (plan) => {
      plans.push(plan);
      let e = 0;
      // forecasting halves the cost of reuse in this toy model
      plan.table.forEach((row, t) => row.forEach((v) => (e += ((1 - v) ** 2 * (steps - t) ** 2) / (plan.forecast === 'linear' ? 2 : 1))));
      return [Float32Array.from([1 + Math.sqrt(e) / 100])];
    };
    const learned = await learnSchedule({
      steps, layers: 3, shape, budget: 0.5, forecast: 'linear', model: { id: 'toy', layers: 3, dim: 96, heads: 4 }, sampling: { steps, shift: 5, guidance: 5, solver: 'unipc' },
      tokenGrid: { frames: 3, height: 4, width: 4 }, run, grouping: { steps: 1, layers: 3 }, iterations: 1, casesDescription: 'toy', generations: 4,
    });
    expect(plans.length).toBe(learned.runs);
    expect(plans.every((p) => p.forecast === 'linear')).toBe(true);
    expect(learned.schedule.forecast).toBe('linear');
    expect(learned.schedule.provenance.method).toMatch(/^[^:]*: every measured run forecasting reused module outputs/);
    // without the option nothing forecasts and the schedule says nothing
    plans.length = 0;
    const plain = await learnSchedule({
      steps, layers: 3, shape, budget: 0.5, model: { id: 'toy', layers: 3, dim: 96, heads: 4 }, sampling: { steps, shift: 5, guidance: 5, solver: 'unipc' },
      tokenGrid: { frames: 3, height: 4, width: 4 }, run, grouping: { steps: 1, layers: 3 }, iterations: 0, casesDescription: 'toy',
    });
    expect(plans.some((p) => p.forecast !== undefined)).toBe(false);
    expect(plain.schedule.forecast).toBeUndefined();
  });
});

describe('the first step is dense whatever a table says', () => {
  it('counts step 0 as dense in a generation\'s FLOPs (nothing is cached before it, so it always runs whole)', () => {
    const ones = Array.from({ length: steps }, () => [1, 1, 1]);
    const sparseStart = ones.map((row, t) => (t === 0 ? [0, 0.25, 0] : row));
    expect(generationFlops(shape, sparseStart, 'fresh-kv').ratio).toBe(generationFlops(shape, ones, 'fresh-kv').ratio);
    const later = ones.map((row, t) => (t === 1 ? [0, 0, 0] : row));
    expect(generationFlops(shape, later, 'fresh-kv').ratio).toBeLessThan(1);
  });

  it('a budget that short runs could only meet by a sparse step 0 is solved with longer runs instead', () => {
    const cost = emptyCostTable(steps, 3, [0, 0.25, 0.5, 0.75, 1]);
    for (let t = 1; t < steps; t++) for (let l = 0; l < 3; l++) cost[t][l].forEach((_, s, c) => s < 4 && (c[s] = (1 - s / 4) ** 2));
    const p = { steps, layers: 3, shape, budget: 0.3, growth: 2 };
    // runs of at most 1 need every other step dense from step 0 on (4 of 8): more than 30%
    const solved = solveForBudget({ ...p, maxRun: 1 }, cost);
    expect(solved.table[0]).toEqual([1, 1, 1]);
    expect(solved.flopsRatio).toBeLessThanOrEqual(0.3 + 1e-9);
    expect(() => solveForBudget({ ...p, budget: 0.05 }, cost)).toThrow(/cannot keep the first step dense; raise the budget/);
  });
});
