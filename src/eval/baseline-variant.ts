/**
 * Turns a peer method's heuristic schedule (src/sparsity/methods/: ToCa-like uniform
 * tokens, FORA-like block reuse, TeaCache-like step skipping) into a schedule file, so that
 * `compare` renders it through the same executor as learned schedules and labels it with its
 * method in tables and plots.
 */
import { BASELINE_METHODS, cacheMethod, type BaselineMethod, type BaselineProblem } from '../sparsity/methods/index.js';
import { makeSchedule, saveSchedule, type Schedule, type ScheduleModel } from '../sparsity/schedule.js';
import type { CompareVariant } from './compare.js';

export { BASELINE_METHODS, type BaselineMethod };

export class BaselineMethodError extends Error {
  constructor(method: string) {
    super(`unknown baseline method "${method}"; use one of ${BASELINE_METHODS.join(', ')}`);
    this.name = 'BaselineMethodError';
  }
}

export interface BaselineVariantOptions {
  method: string;
  /** FLOPs budget in (0, 1]; the method's setting with the largest ratio not above it is used. */
  budget: number;
  problem: Omit<BaselineProblem, 'budget'>;
  model: ScheduleModel;
  sampling: Schedule['sampling'];
  tokenGrid: Schedule['tokenGrid'];
  /** Where to write the schedule JSON. */
  file: string;
}

/** Writes the baseline's schedule to `file` and returns the compare variant that renders it. */
export async function writeBaselineVariant(o: BaselineVariantOptions): Promise<CompareVariant & { schedule: string; flopsRatio: number }> {
  if (!(BASELINE_METHODS as readonly string[]).includes(o.method)) throw new BaselineMethodError(o.method);
  const method = o.method as BaselineMethod;
  const b = cacheMethod(method)!.heuristic!({ ...o.problem, budget: o.budget });
  // a schedule file holds levels only; a forecasting method runs as a budget variant with its method
  if (b.forecast && b.forecast !== 'none') throw new Error(`baseline method ${method} forecasts reused outputs, which a schedule file cannot express; compare it as a budget variant { budget, method: '${method}' }`);
  const schedule = makeSchedule({
    model: o.model, sampling: o.sampling, tokenGrid: o.tokenGrid, table: b.table, flopsRatio: b.flopsRatio,
    attention: b.attention, reuse: b.reuse, ...(o.problem.levels ? { levels: o.problem.levels } : {}),
    provenance: { kind: 'heuristic', method, budget: o.budget, notes: b.description },
  });
  await saveSchedule(schedule, o.file);
  return { schedule: o.file, method, label: `${method} ${Math.round(b.flopsRatio * 1000) / 10}%`, flopsRatio: b.flopsRatio };
}
