/**
 * FORA-like whole-block reuse: dense steps spread evenly, level 0 (every module output
 * reused with the current step's gates) in between, run by the token-cache executor.
 */
import { generationFlops } from '../flops.js';
import { evenlySpacedSteps, heuristicPlan, levelRows, pickForBudget } from './heuristic.js';
import type { BaselineProblem, BaselineSchedule, CacheMethod } from './types.js';

export function blockReuseBaseline(p: BaselineProblem): BaselineSchedule {
  const out: BaselineSchedule[] = [];
  for (let m = 1; m <= p.steps; m++) {
    const dense = evenlySpacedSteps(p.steps, m);
    const table = levelRows(p.steps, p.shape.layers, (t) => (dense.has(t) ? 1 : 0));
    out.push({
      method: 'block-reuse',
      description: `FORA-like: steps ${[...dense].sort((a, b) => a - b).join(', ')} dense, every block reused with current gates otherwise`,
      table,
      attention: p.attention ?? 'reuse',
      reuse: 'module-outputs',
      flopsRatio: generationFlops(p.shape, table, p.attention ?? 'reuse', p.branches).ratio,
    });
  }
  return pickForBudget(out, p.budget);
}

export const blockReuse = {
  name: 'block-reuse',
  label: 'FORA-like block reuse',
  help: 'FORA-like: dense steps spread evenly, every block output reused with current gates in between',
  heuristic: blockReuseBaseline,
  prepare(r) {
    return heuristicPlan(this, r);
  },
} as const satisfies CacheMethod<'block-reuse'> & Required<Pick<CacheMethod, 'heuristic'>>;
