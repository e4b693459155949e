/**
 * What a cache method is: a name with help text, the plan it makes for a request, and (for
 * the heuristic peer methods) its (step × layer) schedule at a FLOPs budget. Methods are
 * registered by name in ./index.ts; the CLI, the pipeline, eval and the benchmarks read
 * names, help and plans from there.
 */
import type { AttentionVariant, FlopsShape } from '../flops.js';
import type { ForwardHooks } from '../../models/wan/dit/hooks.js';
import type { SparsePlan, SparseRunState } from '../run-state.js';
import type { ForecastMode } from '../forecast.js';
import type { ReuseMode, Schedule } from '../schedule.js';

/** A user's sparsity request, with what the method needs to know about the model and pipeline. */
export interface MethodRequest {
  /** Denoising steps of the generation. */
  steps: number;
  /** Target generation FLOPs as a fraction of dense, in (0, 1]. */
  budget?: number;
  /** A schedule file, or the name of a schedule shipped with the pipeline. */
  schedule?: string;
  /** The model's layer count (schedules are checked against it). */
  layers: number;
  /** FLOPs shape of one model call on this generation's latent. */
  flops: FlopsShape;
  /** Learned schedules shipped with the pipeline: name -> file. */
  shippedSchedules: Readonly<Record<string, string>>;
  /** The pipeline's name, for messages. */
  pipelineName: string;
  /** Model id a schedule file must have been made for (issue 18), when known. */
  modelId?: string;
  /** Weight fingerprint a schedule file must match when it records one (issue 18). */
  fingerprint?: string;
  /** Forecast reused module outputs ('linear') instead of holding them ('none', default). */
  forecast?: ForecastMode;
}

/** What runs: the plan for the sparse executor, and a line for sidecars and reports. */
export interface MethodPlan {
  plan: SparsePlan;
  description: string;
  /** The schedule file run (a --schedule, or the shipped one a --budget picked), when the plan came from one (sidecars record it). */
  source?: { file: string; name?: string; provenance: Schedule['provenance'] };
  /**
   * The method's own hooks on the DiT's block loop, for per-block logic a level table cannot
   * express; absent, the executor runs the plan's reuse mode (token cache or stack residual).
   */
  hooks?: (run: SparseRunState) => ForwardHooks;
  /** What the user should know about the plan (e.g. a schedule resampled to another step count). */
  warnings?: string[];
}

export interface BaselineProblem {
  steps: number;
  shape: FlopsShape;
  /** Generation FLOPs budget as a fraction of dense. */
  budget: number;
  levels?: readonly number[];
  attention?: AttentionVariant;
  branches?: number;
}

export interface BaselineSchedule {
  /** The registered method name. */
  method: string;
  description: string;
  table: number[][];
  attention: AttentionVariant;
  reuse: ReuseMode;
  flopsRatio: number;
  /** Reused outputs forecast instead of held (TaylorSeer-like); absent means held. */
  forecast?: ForecastMode;
}

export interface CacheMethod<N extends string = string> {
  /** The name users type (`--method`, jobs files, compare variants). */
  readonly name: N;
  /** Name in tables and plots, e.g. "ToCa-like uniform". */
  readonly label: string;
  /** One line for --help and error messages. */
  readonly help: string;
  /** The method's (step × layer) schedule at a FLOPs budget (heuristic peer methods). */
  heuristic?(p: BaselineProblem): BaselineSchedule;
  /** The plan for a request, or null when the request asks for the dense model. */
  prepare(r: MethodRequest): Promise<MethodPlan | null>;
}
