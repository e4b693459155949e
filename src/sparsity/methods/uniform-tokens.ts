/**
 * ToCa-like uniform token ratio: the first steps and every `every`-th step dense, every
 * other (step, layer) at one fixed recompute level (ToCa: fresh_threshold 3, first steps
 * forced), run by the token-cache executor.
 */
import { generationFlops } from '../flops.js';
import { heuristicPlan, levelRows, pickForBudget } from './heuristic.js';
import type { BaselineProblem, BaselineSchedule, CacheMethod } from './types.js';

/** Dense steps: the first `first` steps, then every `every`-th step. */
const periodicDense = (t: number, first: number, every: number): boolean => t < first || (t - first) % every === every - 1;

export function uniformTokenBaseline(p: BaselineProblem): BaselineSchedule {
  const attention = p.attention ?? 'reuse';
  const levels = (p.levels ?? [0, 0.25, 0.5, 0.75, 1]).filter((v) => v > 0 && v < 1);
  const candidates: BaselineSchedule[] = [];
  for (const level of levels)
    for (const first of [1, 2, 3])
      for (let every = 2; every <= p.steps; every++) {
        if (first >= p.steps) continue;
        const table = levelRows(p.steps, p.shape.layers, (t) => (periodicDense(t, first, every) ? 1 : level));
        candidates.push({
          method: 'uniform-tokens',
          description: `ToCa-like: first ${first} step(s) and every ${every}th step dense, other blocks recompute ${level * 100}% of tokens`,
          table,
          attention,
          reuse: 'module-outputs',
          flopsRatio: generationFlops(p.shape, table, attention, p.branches).ratio,
        });
      }
  return pickForBudget(candidates, p.budget);
}

export const uniformTokens = {
  name: 'uniform-tokens',
  label: 'ToCa-like uniform',
  help: 'ToCa-like: periodic dense steps, one fixed share of tokens recomputed in between',
  heuristic: uniformTokenBaseline,
  prepare(r) {
    return heuristicPlan(this, r);
  },
} as const satisfies CacheMethod<'uniform-tokens'> & Required<Pick<CacheMethod, 'heuristic'>>;
