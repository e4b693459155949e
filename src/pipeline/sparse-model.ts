/**
 * Turns a request's sparsity options into the velocity model that runs them: the method
 * named by the request (src/sparsity/methods/, default learned) makes the plan, which runs
 * on the DiT's block loop through the sparse executor. No option means dense, and the
 * caller uses the dense DiT directly.
 */
import path from 'node:path';
import type { WanDiT } from '../models/wan/dit/runtime.js';
import { SparsityRequestError } from '../sparsity/errors.js';
import { SparseDiT } from '../sparsity/executor.js';
import { generationFlops } from '../sparsity/flops.js';
import { cacheMethod, SPARSITY_METHODS, type SparsityMethod } from '../sparsity/methods/index.js';
import { flopsShapeFor, modelFingerprint, type DiTDescription } from '../sparsity/modelInfo.js';
import type { MethodPlan } from '../sparsity/methods/types.js';
import { learnRuns } from './estimate.js';
import { packageRoot, type ResolvedPipeline } from './definition.js';
import type { SparsityRequest } from '../core/renderer.js';
import type { Latent, VelocityModel } from '../core/types.js';

export { SPARSITY_METHODS, SparsityRequestError, type SparsityMethod, type SparsityRequest };

export interface SparseChoice {
  model: VelocityModel;
  flopsRatio: number;
  /** What was run, for the sidecar and reports. */
  description: string;
  /** The schedule file run (a --schedule, or the shipped one a --budget picked) and its provenance, when the plan came from one. */
  source?: { file: string; name?: string; provenance: { kind: string; method: string } };
  /** What the user should know about the choice (a resampled schedule, a budget not met). */
  warnings: string[];
}

/** The method's plan for a request, checked against the model (schedule present and for this model, budget reachable): no session is touched, so it runs before any model work. */
export interface PlannedSparsity {
  made: MethodPlan;
  flopsRatio: number;
  warnings: string[];
}

/** How the user names this pipeline on a command line: a built-in by its name, a model folder or definition by its path (a folder may carry a built-in's name). */
function pipelineArgument(pipeline: ResolvedPipeline): string {
  if (path.resolve(pipeline.file) === path.resolve(packageRoot(), 'pipelines', `${pipeline.name}.json`)) return pipeline.name;
  return path.basename(pipeline.file) === 'pipeline.json' ? path.dirname(pipeline.file) : pipeline.file;
}

export async function planSparsity(dit: DiTDescription, r: SparsityRequest & { steps: number }, shape: Latent['shape'], pipeline: ResolvedPipeline): Promise<PlannedSparsity | null> {
  if (r.schedule !== undefined && r.budget !== undefined) throw new SparsityRequestError('give either a schedule or a budget, not both');
  if (r.budget !== undefined && !(r.budget > 0 && r.budget <= 1)) throw new SparsityRequestError(`budget ${r.budget} must be a fraction of dense FLOPs in (0, 1], e.g. 0.5`);
  const method = cacheMethod(r.method ?? 'learned');
  if (!method) throw new SparsityRequestError(`unknown method "${r.method}"; use one of ${SPARSITY_METHODS.join(', ')}`);
  const flops = flopsShapeFor(dit, shape);
  // A budget on a model without shipped schedules (issue 17): say what the user can do, with the cost of each.
  if (method.name === 'learned' && r.budget !== undefined && r.schedule === undefined && Object.keys(pipeline.schedules ?? {}).length === 0) {
    const baselines = SPARSITY_METHODS.filter((m) => m !== 'learned');
    const runs = learnRuns(r.steps, dit.config.numLayers);
    throw new SparsityRequestError(`pipeline ${pipeline.name} ships no learned schedules, so --budget ${r.budget} has nothing to pick from. Either run a baseline at that budget now (--method ${baselines.join(' | --method ')}), or learn a schedule once with \`diffsparse schedule learn --pipeline ${pipelineArgument(pipeline)} --budget ${r.budget} --steps ${r.steps}\` (about ${runs} full generations per calibration prompt and seed at this setting with the default grouping of one step × all layers; --grouping 2x${dit.config.numLayers} needs about ${learnRuns(r.steps, dit.config.numLayers, { grouping: { steps: 2, layers: dit.config.numLayers } })}; see \`diffsparse generate --dry-run\` for the time of one) and pass it with --schedule`);
  }
  const made = await method.prepare({
    steps: r.steps, budget: r.budget, schedule: r.schedule, layers: dit.config.numLayers, flops,
    shippedSchedules: pipeline.schedules ?? {}, pipelineName: pipeline.name,
    // The README promises both: a schedule for another model (id) or other weights (fingerprint) is refused (issue 18).
    modelId: pipeline.name, fingerprint: modelFingerprint(dit),
    ...(r.forecast !== undefined && { forecast: r.forecast }),
  });
  if (!made) return null;
  const flopsRatio = generationFlops(flops, made.plan.table, made.plan.attention).ratio;
  const warnings = [...(made.warnings ?? [])];
  // The FLOPs share of a schedule depends on the token grid and step count it runs at (issue 18:
  // --budget 0.2 ran at 33% without a word): say so when the run misses the budget.
  if (r.budget !== undefined && flopsRatio > r.budget + 0.005)
    warnings.push(`budget ${r.budget} cannot be met${made.source ? ` by the shipped schedules (the leanest is ${path.basename(made.source.file)})` : ''}: this run uses ${(flopsRatio * 100).toFixed(1)}% of dense FLOPs; learn a leaner schedule with \`diffsparse schedule learn\` or choose another --method`);
  return { made, flopsRatio, warnings };
}

export async function sparseModelFor(dit: WanDiT, r: SparsityRequest & { steps: number }, shape: Latent['shape'], pipeline: ResolvedPipeline): Promise<SparseChoice | null> {
  const planned = await planSparsity(dit, r, shape, pipeline);
  if (!planned) return null;
  const { made, flopsRatio, warnings } = planned;
  return {
    model: await SparseDiT.create(dit, made.plan, made.hooks ? { hooks: made.hooks } : {}),
    flopsRatio, description: made.description, ...(made.source && { source: made.source }), warnings,
  };
}
