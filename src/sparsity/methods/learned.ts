/**
 * Schedules from files: a schedule file (or one shipped with the pipeline, by name), or a
 * FLOPs budget served by the shipped schedule with the most compute that still fits it
 * (whatever its provenance: the plan's `source` says which file and how it was made); resampled to the generation's step count when it was made for another one.
 * Neither a schedule nor a budget means the dense model.
 */
import { SparsityRequestError } from '../errors.js';
import type { FlopsShape } from '../flops.js';
import { planFromSchedule } from '../run-state.js';
import { loadSchedule, type Schedule } from '../schedule.js';
import { resampleSchedule } from '../scheduleResample.js';
import { forecastPlan } from './heuristic.js';
import type { CacheMethod, MethodPlan, MethodRequest } from './types.js';

interface Picked {
  schedule: Schedule;
  file: string;
  /** The shipped name, when it is one of the pipeline's schedules. */
  name?: string;
}

async function pickSchedule(r: MethodRequest): Promise<Picked> {
  const expect = { layers: r.layers };
  const shipped = r.shippedSchedules;
  if (r.schedule !== undefined) {
    const file = shipped[r.schedule] ?? r.schedule;
    return { schedule: await loadSchedule(file, expect), file, ...(shipped[r.schedule] !== undefined && { name: r.schedule }) };
  }
  const budget = r.budget as number;
  const candidates: Picked[] = await Promise.all(Object.entries(shipped).map(async ([name, file]) => ({ schedule: await loadSchedule(file, expect), file, name })));
  if (candidates.length === 0) {
    throw new SparsityRequestError(`pipeline ${r.pipelineName} ships no learned schedules; learn one with \`diffsparse schedule learn\` and pass it with --schedule, or pick a baseline with --method`);
  }
  // The shipped schedule nearest the budget from below (most compute that still fits); the leanest if none fits.
  const fits = candidates.filter((c) => c.schedule.flopsRatio <= budget + 1e-9);
  return fits.length ? fits.reduce((a, b) => (b.schedule.flopsRatio > a.schedule.flopsRatio ? b : a)) : candidates.reduce((a, b) => (b.schedule.flopsRatio < a.schedule.flopsRatio ? b : a));
}

function fitSteps(schedule: Schedule, steps: number, flops: FlopsShape): Schedule {
  return schedule.table.length === steps ? schedule : resampleSchedule(schedule, steps, { flops });
}

export const learned = {
  name: 'learned',
  label: 'learned',
  help: 'a schedule file (--schedule), or the pipeline\'s shipped schedule nearest --budget (default); the run reports its provenance, which may be a baseline structure',
  async prepare(r): Promise<MethodPlan | null> {
    if (r.schedule === undefined && r.budget === undefined) return null;
    const picked = await pickSchedule(r);
    const schedule = fitSteps(picked.schedule, r.steps, r.flops);
    const { kind, method } = picked.schedule.provenance;
    return {
      plan: { ...planFromSchedule(schedule), ...(r.forecast === 'linear' && forecastPlan('learned', schedule.reuse)) },
      description: `schedule ${picked.name ?? picked.file} (${kind}: ${method})${r.forecast === 'linear' ? '; reused outputs forecast (linear)' : ''}`,
      source: { file: picked.file, ...(picked.name !== undefined && { name: picked.name }), provenance: picked.schedule.provenance },
    };
  },
} as const satisfies CacheMethod<'learned'>;
