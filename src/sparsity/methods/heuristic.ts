/**
 * Shared pieces of the heuristic peer methods (ToCa-like, FORA-like, TeaCache-like): each
 * expresses its choices as (step × layer) level tables run by the same executor, so
 * comparisons are same-runtime and same-FLOPs, and picks, among its parameter choices, the
 * one with the largest FLOPs ratio not above the budget (the smallest one when none fits).
 */
import { SparsityRequestError } from '../errors.js';
import type { ReuseMode } from '../schedule.js';
import type { BaselineProblem, BaselineSchedule, CacheMethod, MethodPlan, MethodRequest } from './types.js';

export const levelRows = (steps: number, layers: number, f: (t: number) => number): number[][] => Array.from({ length: steps }, (_, t) => new Array<number>(layers).fill(f(t)));

export function pickForBudget(candidates: BaselineSchedule[], budget: number): BaselineSchedule {
  const fits = candidates.filter((c) => c.flopsRatio <= budget + 1e-12);
  if (fits.length) return fits.reduce((a, b) => (b.flopsRatio > a.flopsRatio ? b : a));
  return candidates.reduce((a, b) => (b.flopsRatio < a.flopsRatio ? b : a));
}

/** m dense steps spread evenly, the first and (for m ≥ 2) the last step included. */
export function evenlySpacedSteps(steps: number, m: number): Set<number> {
  const out = new Set<number>();
  if (m <= 0) return out;
  if (m === 1) return new Set([0]);
  for (let i = 0; i < m; i++) out.add(Math.round((i * (steps - 1)) / (m - 1)));
  return out;
}

/** A heuristic method's `prepare`: its schedule at the request's budget (which it needs). */
export function heuristicPlan(method: Pick<CacheMethod, 'name'> & { heuristic(p: BaselineProblem): BaselineSchedule }, r: MethodRequest): Promise<MethodPlan> {
  if (r.budget === undefined) throw new SparsityRequestError(`method ${method.name} needs a budget, e.g. --budget 0.5`);
  const b = method.heuristic({ steps: r.steps, shape: r.flops, budget: r.budget });
  const forecast = r.forecast === 'linear' ? forecastPlan(method.name, b.reuse) : b.forecast ? { forecast: b.forecast } : {};
  return Promise.resolve({ plan: { table: b.table, attention: b.attention, reuse: b.reuse, ...forecast }, description: `${b.method}: ${b.description}${r.forecast === 'linear' ? '; reused outputs forecast (linear)' : ''}` });
}

/** The plan fields of a linear forecast; only module-output reuse can forecast. */
export function forecastPlan(method: string, reuse: ReuseMode): { forecast: 'linear' } {
  if (reuse !== 'module-outputs') throw new SparsityRequestError(`method ${method} reuses the block-stack residual; --forecast linear applies to methods that reuse module outputs (learned, block-reuse, uniform-tokens, taylorseer)`);
  return { forecast: 'linear' };
}
