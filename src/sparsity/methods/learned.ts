/**
 * Schedules from files: a schedule file (or one shipped with the pipeline, by name), or a
 * FLOPs budget served by the shipped schedule with the most compute that still fits it
 * (whatever its provenance: the plan's `source` says which file and how it was made); resampled to the generation's step count when it was made for another one.
 * Neither a schedule nor a budget, or a budget of 1 (all of dense FLOPs), means the dense model.
 */
import { SparsityRequestError } from '../errors.js';
import { attentionNote } from '../flops.js';
import type { FlopsShape } from '../flops.js';
import { planFromSchedule } from '../run-state.js';
import { DEFAULT_LEVELS, loadSchedule, type Schedule } from '../schedule.js';
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
  // A schedule for another model (id) or other weights (fingerprint) is refused (issue 18).
  const expect = { layers: r.layers, ...(r.modelId !== undefined && { modelId: r.modelId }), ...(r.fingerprint !== undefined && { fingerprint: r.fingerprint }) };
  const shipped = r.shippedSchedules;
  if (r.schedule !== undefined) {
    const file = shipped[r.schedule] ?? r.schedule;
    return { schedule: checkLevels(await loadSchedule(file, expect), file), file, ...(shipped[r.schedule] !== undefined && { name: r.schedule }) };
  }
  const budget = r.budget as number;
  const candidates: Picked[] = await Promise.all(Object.entries(shipped).map(async ([name, file]) => ({ schedule: checkLevels(await loadSchedule(file, expect), file), file, name })));
  if (candidates.length === 0) {
    throw new SparsityRequestError(`pipeline ${r.pipelineName} ships no learned schedules; learn one with \`diffsparse schedule learn\` and pass it with --schedule, or pick a baseline with --method`);
  }
  // The shipped schedule nearest the budget from below (most compute that still fits); the leanest if none fits.
  const fits = candidates.filter((c) => c.schedule.flopsRatio <= budget + 1e-9);
  return fits.length ? fits.reduce((a, b) => (b.schedule.flopsRatio > a.schedule.flopsRatio ? b : a)) : candidates.reduce((a, b) => (b.schedule.flopsRatio < a.schedule.flopsRatio ? b : a));
}

/** The executor's levels are shares of tokens from {0, ¼, ½, ¾, 1}; a custom set ([0, .3, 1]) is refused (issue 18). */
function checkLevels(schedule: Schedule, file: string): Schedule {
  const odd = schedule.levels.filter((l) => !DEFAULT_LEVELS.includes(l));
  if (odd.length) throw new SparsityRequestError(`schedule ${file}: level${odd.length > 1 ? 's' : ''} ${odd.join(', ')} ${odd.length > 1 ? 'are' : 'is'} not one of ${DEFAULT_LEVELS.join(', ')}; the levels are shares of tokens recomputed, use those`);
  return schedule;
}

function fitSteps(schedule: Schedule, steps: number, flops: FlopsShape): Schedule {
  return schedule.table.length === steps ? schedule : resampleSchedule(schedule, steps, { flops });
}

export const learned = {
  name: 'learned',
  label: 'learned',
  help: 'a schedule file (--schedule), or the pipeline\'s shipped schedule nearest --budget (default); the run reports its provenance, which may be a baseline structure',
  async prepare(r): Promise<MethodPlan | null> {
    // --budget 1 asks for every FLOP: the dense model, not the richest shipped schedule below it
    if (r.schedule === undefined && (r.budget === undefined || r.budget >= 1)) return null;
    const picked = await pickSchedule(r);
    const schedule = fitSteps(picked.schedule, r.steps, r.flops);
    const warnings = schedule === picked.schedule ? [] : [
      `schedule ${picked.file} was made for ${picked.schedule.table.length} steps and is resampled to ${r.steps}; its measured fidelity no longer applies (resample or learn one for ${r.steps} steps to silence this)`,
    ];
    const { kind, method } = picked.schedule.provenance;
    // A schedule learned with forecasting records it and always runs with it; --forecast adds it to one learned without.
    const forecast = schedule.forecast === 'linear' || r.forecast === 'linear';
    return {
      plan: { ...planFromSchedule(schedule), ...(forecast && forecastPlan('learned', schedule.reuse)) },
      description: `schedule ${picked.name ?? picked.file} (${kind}: ${method})${forecast ? '; reused outputs forecast (linear)' : ''}${attentionNote(schedule.attention) && `; ${attentionNote(schedule.attention)}`}`,
      source: { file: picked.file, ...(picked.name !== undefined && { name: picked.name }), provenance: picked.schedule.provenance },
      warnings,
    };
  },
} as const satisfies CacheMethod<'learned'>;
