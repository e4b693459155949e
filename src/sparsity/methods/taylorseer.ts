/**
 * TaylorSeer-like block forecasting: the first steps and then every N-th step run every
 * block whole; in between, each block's module outputs (self-attention, cross-attention,
 * FFN) are forecast to first order from their last two computations (forecast.ts) with the
 * current step's gates, instead of being reused as they are (FORA). Run by the token-cache
 * executor; N (and the warm-up) picked as the largest FLOPs ratio within the budget.
 */
import { generationFlops } from '../flops.js';
import { heuristicPlan, levelRows, pickForBudget } from './heuristic.js';
import type { BaselineProblem, BaselineSchedule, CacheMethod } from './types.js';

/** Dense steps: the first `first`, then every `every`-th (the forecast needs two computations). */
const fullStep = (t: number, first: number, every: number): boolean => t < first || (t - first + 1) % every === 0;

export function taylorSeerBaseline(p: BaselineProblem): BaselineSchedule {
  const out: BaselineSchedule[] = [];
  for (const first of [1, 2, 3])
    for (let every = 2; every <= p.steps; every++) {
      if (first >= p.steps) continue;
      const table = levelRows(p.steps, p.shape.layers, (t) => (fullStep(t, first, every) ? 1 : 0));
      const dense = table.map((r, t) => (r[0] === 1 ? t : -1)).filter((t) => t >= 0);
      out.push({
        method: 'taylorseer',
        description: `TaylorSeer-like: steps ${dense.join(', ')} full (first ${first}, then every ${every}th), every block's module outputs forecast to first order in between`,
        table,
        attention: p.attention ?? 'reuse',
        reuse: 'module-outputs',
        forecast: 'linear',
        flopsRatio: generationFlops(p.shape, table, p.attention ?? 'reuse', p.branches).ratio,
      });
    }
  return pickForBudget(out, p.budget);
}

export const taylorSeer = {
  name: 'taylorseer',
  label: 'TaylorSeer-like block forecast',
  help: 'TaylorSeer-like: full steps every N after a warm-up, each block\'s module outputs forecast to first order in between',
  heuristic: taylorSeerBaseline,
  prepare(r) {
    return heuristicPlan(this, r);
  },
} as const satisfies CacheMethod<'taylorseer'> & Required<Pick<CacheMethod, 'heuristic'>>;
