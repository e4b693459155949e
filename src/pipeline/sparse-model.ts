/**
 * Turns a request's sparsity options into the velocity model that runs them: a schedule
 * file (or a schedule shipped with the pipeline, by name), a FLOPs budget served by the
 * closest shipped learned schedule, or a peer-method baseline at a budget. No option means
 * dense, and the caller uses the dense DiT directly.
 */
import path from 'node:path';
import type { WanDiT } from '../models/wan/dit/runtime.js';
import { blockReuseBaseline, stepSkipBaseline, uniformTokenBaseline, type BaselineSchedule } from '../sparsity/baselines.js';
import { SparseDiT, planFromSchedule, type SparsePlan } from '../sparsity/executor.js';
import { generationFlops } from '../sparsity/flops.js';
import { flopsShapeFor, modelFingerprint } from '../sparsity/modelInfo.js';
import { DEFAULT_LEVELS, loadSchedule, type Schedule } from '../sparsity/schedule.js';
import { resampleSchedule } from '../sparsity/scheduleResample.js';
import type { ResolvedPipeline } from './definition.js';
import type { Latent, VelocityModel } from './types.js';

export const SPARSITY_METHODS = ['learned', 'uniform-tokens', 'block-reuse', 'step-skip'] as const;
export type SparsityMethod = (typeof SPARSITY_METHODS)[number];

export interface SparsityRequest {
  /** A schedule file, or the name of a schedule shipped with the pipeline. */
  schedule?: string;
  /** Target generation FLOPs as a fraction of dense, in (0, 1]. */
  budget?: number;
  /** How to meet `budget`: a shipped learned schedule (default) or a peer baseline. */
  method?: SparsityMethod;
}

export class SparsityRequestError extends Error {
  override name = 'SparsityRequestError';
}

export interface SparseChoice {
  model: VelocityModel;
  flopsRatio: number;
  /** What was run, for the sidecar and reports. */
  description: string;
  /** The schedule file run (a --schedule, or the shipped one a --budget picked). */
  schedule?: string;
  /** What the user should know about the choice (a resampled schedule, a budget not met). */
  warnings: string[];
}

export async function sparseModelFor(dit: WanDiT, r: SparsityRequest & { steps: number }, shape: Latent['shape'], pipeline: ResolvedPipeline): Promise<SparseChoice | null> {
  if (r.schedule === undefined && r.budget === undefined && (r.method === undefined || r.method === 'learned')) return null;
  if (r.schedule !== undefined && r.budget !== undefined) throw new SparsityRequestError('give either a schedule or a budget, not both');
  if (r.budget !== undefined && !(r.budget > 0 && r.budget <= 1)) throw new SparsityRequestError(`budget ${r.budget} must be a fraction of dense FLOPs in (0, 1], e.g. 0.5`);
  if (r.method !== undefined && !SPARSITY_METHODS.includes(r.method)) throw new SparsityRequestError(`unknown method "${r.method}"; use one of ${SPARSITY_METHODS.join(', ')}`);
  const flopsShape = flopsShapeFor(dit, shape);

  let plan: SparsePlan;
  let description: string;
  let scheduleFile: string | undefined;
  const warnings: string[] = [];
  if (r.method && r.method !== 'learned') {
    if (r.budget === undefined) throw new SparsityRequestError(`method ${r.method} needs a budget, e.g. --budget 0.5`);
    const problem = { steps: r.steps, shape: flopsShape, budget: r.budget };
    const baseline: BaselineSchedule = r.method === 'uniform-tokens' ? uniformTokenBaseline(problem) : r.method === 'block-reuse' ? blockReuseBaseline(problem) : stepSkipBaseline(problem);
    plan = { table: baseline.table, attention: baseline.attention, reuse: baseline.reuse };
    description = `${baseline.method}: ${baseline.description}`;
  } else {
    const picked = await pickSchedule(dit, r, pipeline);
    scheduleFile = picked.file;
    const schedule = fitSteps(picked.schedule, r.steps, flopsShape);
    if (schedule !== picked.schedule)
      warnings.push(`schedule ${picked.file} was made for ${picked.schedule.table.length} steps and is resampled to ${r.steps}; its measured fidelity no longer applies (resample or learn one for ${r.steps} steps to silence this)`);
    plan = planFromSchedule(schedule);
    description = `schedule ${schedule.provenance.kind} (${schedule.provenance.method})`;
  }
  const flopsRatio = generationFlops(flopsShape, plan.table, plan.attention).ratio;
  // The FLOPs share of a schedule depends on the token grid and step count it runs at (issue 18:
  // --budget 0.2 ran at 33% without a word): say so when the run misses the budget.
  if (r.budget !== undefined && flopsRatio > r.budget + 0.005)
    warnings.push(`budget ${r.budget} cannot be met${scheduleFile ? ` by the shipped schedules (the leanest is ${path.basename(scheduleFile)})` : ''}: this run uses ${(flopsRatio * 100).toFixed(1)}% of dense FLOPs; learn a leaner schedule with \`diffsparse schedule learn\` or choose another --method`);
  return { model: await SparseDiT.create(dit, plan), flopsRatio, description, ...(scheduleFile ? { schedule: scheduleFile } : {}), warnings };
}

async function pickSchedule(dit: WanDiT, r: SparsityRequest, pipeline: ResolvedPipeline): Promise<{ schedule: Schedule; file: string }> {
  // The README promises both: a schedule for another model (id) or other weights (fingerprint) is refused (issue 18).
  const expect = { layers: dit.config.numLayers, modelId: pipeline.name, fingerprint: modelFingerprint(dit) };
  const shipped = pipeline.schedules ?? {};
  if (r.schedule !== undefined) {
    const file = shipped[r.schedule] ?? r.schedule;
    return { schedule: checkLevels(await loadSchedule(file, expect), file), file };
  }
  const budget = r.budget as number;
  const candidates = await Promise.all(Object.values(shipped).map(async (file) => ({ schedule: checkLevels(await loadSchedule(file, expect), file), file })));
  if (candidates.length === 0) {
    throw new SparsityRequestError(`pipeline ${pipeline.name} ships no learned schedules; learn one with \`diffsparse schedule learn\` and pass it with --schedule, or pick a baseline with --method`);
  }
  // The learned schedule with the most compute that still fits the budget; the leanest if none fits.
  const fits = candidates.filter((c) => c.schedule.flopsRatio <= budget + 1e-9);
  return fits.length ? fits.reduce((a, b) => (b.schedule.flopsRatio > a.schedule.flopsRatio ? b : a)) : candidates.reduce((a, b) => (b.schedule.flopsRatio < a.schedule.flopsRatio ? b : a));
}

/** The executor's levels are shares of tokens from {0, ¼, ½, ¾, 1}; a custom set ([0, .3, 1]) is refused (issue 18). */
function checkLevels(schedule: Schedule, file: string): Schedule {
  const odd = schedule.levels.filter((l) => !DEFAULT_LEVELS.includes(l));
  if (odd.length) throw new SparsityRequestError(`schedule ${file}: level${odd.length > 1 ? 's' : ''} ${odd.join(', ')} ${odd.length > 1 ? 'are' : 'is'} not one of ${DEFAULT_LEVELS.join(', ')}; the levels are shares of tokens recomputed, use those`);
  return schedule;
}

function fitSteps(schedule: Schedule, steps: number, flops: ReturnType<typeof flopsShapeFor>): Schedule {
  return schedule.table.length === steps ? schedule : resampleSchedule(schedule, steps, { flops });
}
