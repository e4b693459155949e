/**
 * Learned token schedules: a schedule file (or one shipped with the pipeline, by name), or
 * a FLOPs budget served by the shipped learned schedule with the most compute that still
 * fits it; resampled to the generation's step count when it was made for another one.
 * Neither a schedule nor a budget means the dense model.
 */
import { SparsityRequestError } from '../errors.js';
import type { FlopsShape } from '../flops.js';
import { planFromSchedule } from '../run-state.js';
import { loadSchedule, type Schedule } from '../schedule.js';
import { resampleSchedule } from '../scheduleResample.js';
import type { CacheMethod, MethodRequest } from './types.js';

async function pickSchedule(r: MethodRequest): Promise<Schedule> {
  const expect = { layers: r.layers };
  const shipped = r.shippedSchedules;
  if (r.schedule !== undefined) return loadSchedule(shipped[r.schedule] ?? r.schedule, expect);
  const budget = r.budget as number;
  const candidates = await Promise.all(Object.values(shipped).map((file) => loadSchedule(file, expect)));
  if (candidates.length === 0) {
    throw new SparsityRequestError(`pipeline ${r.pipelineName} ships no learned schedules; learn one with \`diffsparse schedule learn\` and pass it with --schedule, or pick a baseline with --method`);
  }
  // The learned schedule with the most compute that still fits the budget; the leanest if none fits.
  const fits = candidates.filter((s) => s.flopsRatio <= budget + 1e-9);
  return fits.length ? fits.reduce((a, b) => (b.flopsRatio > a.flopsRatio ? b : a)) : candidates.reduce((a, b) => (b.flopsRatio < a.flopsRatio ? b : a));
}

function fitSteps(schedule: Schedule, steps: number, flops: FlopsShape): Schedule {
  return schedule.table.length === steps ? schedule : resampleSchedule(schedule, steps, { flops });
}

export const learned = {
  name: 'learned',
  label: 'learned',
  help: 'a learned token schedule: --schedule, or the shipped one closest to --budget (default)',
  async prepare(r) {
    if (r.schedule === undefined && r.budget === undefined) return null;
    const schedule = fitSteps(await pickSchedule(r), r.steps, r.flops);
    return { plan: planFromSchedule(schedule), description: `schedule ${schedule.provenance.kind} (${schedule.provenance.method})` };
  },
} as const satisfies CacheMethod<'learned'>;
