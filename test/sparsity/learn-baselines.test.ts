import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockReuseBaseline, evenlySpacedSteps, stepSkipBaseline, uniformTokenBaseline } from '../../src/sparsity/baselines.js';
import { generationFlops, type FlopsShape } from '../../src/sparsity/flops.js';
import { calibrationCells, learnSchedule, solveSchedule, sparseRunner, squaredRelError, type PlanRunner } from '../../src/sparsity/learn.js';
import { torchRandn } from '../../src/sampling/noise.js';
import { parseSchedule } from '../../src/sparsity/schedule.js';
import { planFromSchedule } from '../../src/sparsity/run-state.js';
import { LEARNED_SCORE_MIX } from '../../src/sparsity/scores.js';
import { tinySetup, type TinySetup } from './helpers.js';

const shape: FlopsShape = { dim: 64, ffnDim: 128, textLen: 24, textDim: 48, layers: 3, tokens: 72, patchFeatures: 64, headFeatures: 64, freqDim: 32 };

describe('baseline schedules', () => {
  it('stay within the budget and have their defining structure', () => {
    for (const budget of [0.75, 0.5, 0.35]) {
      const u = uniformTokenBaseline({ steps: 8, shape, budget });
      const f = blockReuseBaseline({ steps: 8, shape, budget });
      const t = stepSkipBaseline({ steps: 8, shape, budget });
      for (const b of [u, f, t]) {
        expect(b.flopsRatio).toBeLessThanOrEqual(budget);
        expect(b.table[0].every((v) => v === 1)).toBe(true);
        expect(b.flopsRatio).toBeCloseTo(generationFlops(shape, b.table, b.attention).ratio, 12);
      }
      expect(new Set(u.table.flat().filter((v) => v < 1)).size).toBe(1); // one uniform level
      for (const row of [...f.table, ...t.table]) expect(new Set(row).size).toBe(1); // whole steps
      expect(f.reuse).toBe('module-outputs');
      expect(t.reuse).toBe('stack-residual');
      expect(t.table[7].every((v) => v === 1)).toBe(t.table.filter((r) => r[0] === 1).length >= 2);
    }
  });

  it('solves a heuristic schedule for a budget without running the model', () => {
    for (const attention of ['reuse', 'cached-kv'] as const) {
      const s = solveSchedule({
        steps: 8, layers: 3, shape, budget: 0.5, attention,
        model: { id: 'wan21-tiny', layers: 3, dim: 64, heads: 4 },
        sampling: { steps: 8, shift: 5, guidance: 5, solver: 'unipc' },
        tokenGrid: { frames: 3, height: 4, width: 6 },
      });
      expect(s.flopsRatio).toBeLessThanOrEqual(0.5);
      expect(s.flopsRatio).toBeGreaterThan(0.45); // the budget is used, not wasted
      expect(s.table[0]).toEqual([1, 1, 1]);
      expect(s.provenance.kind).toBe('heuristic');
      expect(s.flopsRatio).toBeCloseTo(generationFlops(shape, s.table, attention).ratio, 12);
    }
  });

  it('spreads dense steps evenly', () => {
    expect([...evenlySpacedSteps(8, 3)]).toEqual([0, 4, 7]);
    expect([...evenlySpacedSteps(8, 1)]).toEqual([0]);
  });
});

describe('learning a schedule on the fixture tiny DiT', () => {
  let s: TinySetup;
  beforeAll(async () => {
    s = await tinySetup();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('groups calibration cells and keeps step 0 out of them', () => {
    const cells = calibrationCells(8, 3, { steps: 4, layers: 2 });
    expect(cells.map((c) => [c.steps, c.layers])).toEqual([
      [[1, 2, 3, 4], [0, 1]],
      [[1, 2, 3, 4], [2]],
      [[5, 6, 7], [0, 1]],
      [[5, 6, 7], [2]],
    ]);
  });

  it('calibrates, solves and refines within the budget and records the fidelity it measured', async () => {
    const sampling = { steps: 8, shift: 5, guidance: 5, solver: 'unipc' as const };
    const base = sparseRunner(s.dit, [{ noise: s.noise, cond: s.cond, uncond: s.uncond }], sampling);
    let runs = 0;
    const run: PlanRunner = (plan) => {
      runs++;
      return base(plan);
    };
    const learned = await learnSchedule({
      steps: 8,
      layers: 3,
      shape,
      budget: 0.5,
      model: { id: 'wan21-tiny', layers: 3, dim: 64, heads: 4 },
      sampling,
      tokenGrid: { frames: 3, height: 4, width: 6 },
      run,
      grouping: { steps: 4, layers: 3 },
      iterations: 1,
      casesDescription: 'fixture noise and contexts, 1 case',
    });
    const sched = learned.schedule;
    expect(parseSchedule(JSON.parse(JSON.stringify(sched)))).toEqual(sched);
    expect(sched.flopsRatio).toBeLessThanOrEqual(0.5);
    expect(sched.table[0]).toEqual([1, 1, 1]);
    expect(sched.provenance.kind).toBe('learned');
    expect(learned.runs).toBe(runs);
    // the calibrated costs fall as more tokens are recomputed
    for (const row of learned.calibrated.slice(1)) for (const c of row) for (let i = 0; i + 1 < c.length; i++) expect(c[i]).toBeGreaterThanOrEqual(c[i + 1]);
    // the recorded fidelity is what running the schedule gives
    const [ref] = await base({ table: Array.from({ length: 8 }, () => [1, 1, 1]), attention: 'reuse', reuse: 'module-outputs' });
    const [out] = await base(planFromSchedule(sched));
    expect(Math.sqrt(squaredRelError(out, ref))).toBeCloseTo(sched.fidelity!.latentRelL2!, 10);
    // best-of: never worse than the first solved schedule
    expect(learned.history[0].error).toBeGreaterThanOrEqual(sched.fidelity!.latentRelL2! ** 2 - 1e-15);
  });

  it('picks the final schedule on the selection cases when given, not on the calibration cases', async () => {
    const sampling = { steps: 8, shift: 5, guidance: 5, solver: 'unipc' as const };
    const calibrate = sparseRunner(s.dit, [{ noise: s.noise, cond: s.cond, uncond: s.uncond }], sampling);
    const otherNoise = { data: torchRandn(s.noise.shape, 7), shape: s.noise.shape };
    const select = sparseRunner(s.dit, [{ noise: otherNoise, cond: s.cond, uncond: s.uncond }], sampling);
    const plan = (table: number[][]) => ({ table, attention: 'reuse' as const, reuse: 'module-outputs' as const, scores: LEARNED_SCORE_MIX });
    const [reference] = await select(plan(Array.from({ length: 8 }, () => [1, 1, 1])));
    let selectionRuns = 0;
    const learned = await learnSchedule({
      steps: 8, layers: 3, shape, budget: 0.5, model: { id: 'wan21-tiny', layers: 3, dim: 64, heads: 4 }, sampling,
      tokenGrid: { frames: 3, height: 4, width: 6 }, run: calibrate, grouping: { steps: 4, layers: 3 }, iterations: 1,
      casesDescription: 'fixture noise', selection: { run: (p) => (selectionRuns++, select(p)), reference: [reference], description: 'seed 7 noise' },
    });
    const sched = learned.schedule;
    expect(selectionRuns).toBe(3); // the solved table and the two structured seeds
    expect(sched.provenance.method).toContain('on the selection cases');
    expect(sched.fidelity!.how).toContain('seed 7 noise');
    const errorOn = async (table: number[][]) => Math.sqrt(squaredRelError((await select(plan(table)))[0], reference));
    expect(await errorOn(sched.table)).toBeCloseTo(sched.fidelity!.latentRelL2!, 10);
    // no structured seed within the budget does better on the selection case
    for (const make of [blockReuseBaseline, uniformTokenBaseline]) {
      const seed = make({ steps: 8, shape, budget: 0.5 });
      if (seed.flopsRatio <= 0.5) expect(sched.fidelity!.latentRelL2!).toBeLessThanOrEqual((await errorOn(seed.table)) + 1e-12);
    }
  });
});
