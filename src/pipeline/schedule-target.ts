/**
 * What `schedule solve` and `schedule learn` make a schedule for: a pipeline's DiT at one
 * generation setting (size, frames, steps, sampler). Solving needs only the DiT's sizes;
 * learning also runs it on calibration prompts and seeds.
 */
import { UserError } from '../core/errors.js';
import type { SolverName as Solver } from '../core/types.js';
import { WanDiT } from '../models/wan/dit/runtime.js';
import { readVaeManifest } from '../models/wan/vae/chunk-decoder.js';
import { resolvePipeline } from './definition.js';
import type { Latent, TextContext } from '../core/types.js';
import { torchRandn } from '../sampling/noise.js';
import type { AttentionVariant, FlopsShape } from '../sparsity/flops.js';
import { learnSchedule, solveSchedule, sparseRunner, type CostTable, type LearnCase, type LearnedSchedule, type LearnPlan, type Sampling } from '../sparsity/learn.js';
import { flopsShapeFor, scheduleModelFor } from '../sparsity/modelInfo.js';
import type { Schedule } from '../sparsity/schedule.js';
import { TextEncoder } from '../text/context.js';

/** A generation setting that the pipeline's model cannot run. */
export class ScheduleSettingError extends UserError {
  override readonly name: string = 'ScheduleSettingError';
}

export interface TargetSettings {
  width?: number;
  height?: number;
  frames?: number;
  steps?: number;
  shift?: number;
  guidance?: number;
  solver?: Solver;
  negativePrompt?: string;
}

export interface ScheduleTarget {
  pipelineName: string;
  textDir: string;
  dit: WanDiT;
  latentShape: Latent['shape'];
  sampling: Sampling;
  negativePrompt: string;
  shape: FlopsShape;
  branches: number;
  tokenGrid: Schedule['tokenGrid'];
}

/** Loads the pipeline's DiT (weights memory-mapped) and fills the setting from the pipeline's defaults. */
export async function openScheduleTarget(pipeline: string | undefined, s: TargetSettings, threads?: number): Promise<ScheduleTarget> {
  const definition = resolvePipeline(pipeline);
  const d = definition.defaults;
  const vae = (readVaeManifest(definition.models.vae)).config;
  const width = s.width ?? d.width;
  const height = s.height ?? d.height;
  const frames = s.frames ?? d.frames;
  const dit = await WanDiT.load(definition.models.dit, { mmapWeights: true, ...(threads !== undefined && { intraOpThreads: threads }) });
  const [pt, ph, pw] = dit.config.patchSize;
  const stride = vae.spatialScale * ph;
  const problems: string[] = [];
  for (const [name, v] of [['width', width], ['height', height]] as const) if (v % stride !== 0) problems.push(`${name} ${v} must be a multiple of ${stride}`);
  if ((frames - 1) % vae.temporalScale !== 0) problems.push(`frames ${frames} must be ${vae.temporalScale}k+1`);
  if (problems.length > 0) {
    await dit.release();
    throw new ScheduleSettingError(`${problems.join('; ')} for pipeline ${definition.name}`);
  }
  const latentShape: Latent['shape'] = [dit.config.inDim, (frames - 1) / vae.temporalScale + 1, height / vae.spatialScale, width / vae.spatialScale];
  const sampling: Sampling = { steps: s.steps ?? d.steps, shift: s.shift ?? d.shift, guidance: s.guidance ?? d.guidance, solver: s.solver ?? d.solver };
  return {
    pipelineName: definition.name,
    textDir: definition.models.text,
    dit,
    latentShape,
    sampling,
    negativePrompt: s.negativePrompt ?? d.negativePrompt,
    shape: flopsShapeFor(dit, latentShape),
    branches: sampling.guidance === 1 ? 1 : 2,
    tokenGrid: { frames: latentShape[1] / pt, height: latentShape[2] / ph, width: latentShape[3] / pw },
  };
}

export interface SolveRequest {
  budget: number;
  attention?: AttentionVariant;
  /** A calibrated cost table (from `schedule learn --save-cost`) and its levels; the model-free prior otherwise. */
  cost?: { table: CostTable; levels: number[] };
}

export function solveForTarget(t: ScheduleTarget, r: SolveRequest): Schedule {
  return solveSchedule({
    steps: t.sampling.steps, layers: t.shape.layers, shape: t.shape, budget: r.budget, branches: t.branches,
    model: scheduleModelFor(t.dit, t.pipelineName), sampling: t.sampling, tokenGrid: t.tokenGrid,
    ...(r.attention && { attention: r.attention }), ...(r.cost && { cost: r.cost.table, levels: r.cost.levels }),
  });
}

export interface LearnRequest {
  budget: number;
  prompts: string[];
  seeds: number[];
  /** Seeds (with the same prompts) that choose among the solved and structured schedules; see LearnScheduleOptions.selection. */
  selectSeeds?: number[];
  attention?: AttentionVariant;
  grouping: { steps: number; layers: number };
  iterations: number;
  /** A calibrated table to start from instead of measuring one. */
  calibrated?: { table: CostTable; levels: number[] };
  onProgress?: (phase: 'encode-text' | 'calibrate' | 'refine' | 'search', done: number, total: number) => void;
  /** Local-search generations after the choice (see learnSchedule). */
  generations?: number;
  /** Error growth over consecutive sparse steps for the solver: fitted ('auto'), or γ (see LearnProblem.growth); absent: additive. */
  growth?: number | 'auto';
  /** 'linear': learn with reused module outputs forecast in every measured run (LearnProblem.forecast). */
  forecast?: 'linear';
  /** With `growth`: at most this many consecutive steps with sparse blocks (LearnProblem.maxRun). */
  maxRun?: number;
  /** Told before learning starts: generations per phase and an ETA. */
  onPlan?: (plan: LearnPlan) => void;
}

/** Calibration cases are every prompt with every seed, each with the negative prompt as the unconditional branch. */
export async function learnForTarget(t: ScheduleTarget, r: LearnRequest, threads?: number): Promise<LearnedSchedule> {
  const text = await TextEncoder.load(t.textDir, { ...(threads !== undefined && { intraOpThreads: threads }) });
  const cases: LearnCase[] = [];
  const selectCases: LearnCase[] = [];
  try {
    const uncond = t.branches === 2 ? await text.encode(t.negativePrompt) : undefined;
    const caseOf = (seed: number, cond: TextContext): LearnCase => ({ noise: { data: torchRandn(t.latentShape, seed), shape: t.latentShape }, cond, ...(uncond && { uncond }) });
    for (const [i, prompt] of r.prompts.entries()) {
      r.onProgress?.('encode-text', i, r.prompts.length);
      const cond = await text.encode(prompt);
      for (const seed of r.seeds) cases.push(caseOf(seed, cond));
      for (const seed of r.selectSeeds ?? []) selectCases.push(caseOf(seed, cond));
    }
    r.onProgress?.('encode-text', r.prompts.length, r.prompts.length);
  } finally {
    await text.encoder.session.release();
  }
  const s = t.sampling;
  return learnSchedule({
    steps: s.steps, layers: t.shape.layers, shape: t.shape, budget: r.budget, branches: t.branches,
    model: scheduleModelFor(t.dit, t.pipelineName), sampling: s, tokenGrid: t.tokenGrid,
    run: sparseRunner(t.dit, cases, s), grouping: r.grouping, iterations: r.iterations,
    ...(r.attention && { attention: r.attention }), ...(r.calibrated && { calibrated: r.calibrated.table, levels: r.calibrated.levels }),
    casesDescription: `${r.prompts.length} prompt(s) × seeds ${r.seeds.join(', ')} (torch CPU randn), ${s.steps} ${s.solver} steps, shift ${s.shift}, guidance ${s.guidance}`,
    ...(r.onProgress && { onProgress: r.onProgress }),
    ...(r.generations !== undefined && { generations: r.generations }),
    ...(r.growth === 'auto' ? { fitGrowth: true } : r.growth !== undefined && { growth: r.growth }),
    ...(r.forecast && { forecast: r.forecast }),
    ...(r.maxRun !== undefined && { maxRun: r.maxRun }),
    ...(r.onPlan && { onPlan: r.onPlan }),
    ...(selectCases.length > 0 && {
      selection: { run: sparseRunner(t.dit, selectCases, s), description: `${r.prompts.length} prompt(s) × selection seeds ${r.selectSeeds!.join(', ')} (torch CPU randn)` },
    }),
  });
}
