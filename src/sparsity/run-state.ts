/**
 * What a sparse plan is and what its hooks share with the SparseDiT that runs them: the
 * plan (levels per step and layer, attention variant, reuse mode), the statistics, and the
 * token cache.
 */
import type { ForwardHooks, PassState } from '../models/wan/dit/hooks.js';
import type { WanDiT } from '../models/wan/dit/runtime.js';
import type { GuidanceBranch, StepInfo } from '../core/types.js';
import type { TokenCache, CachePrecision } from './cache.js';
import { SparseShapeError } from './errors.js';
import type { AttentionVariant } from './flops.js';
import type { ForecastAxis, ForecastMode } from './forecast.js';
import type { ReuseMode, Schedule } from './schedule.js';
import type { ScoreWeights } from './scores.js';

/** What the executor needs from a schedule. */
export interface SparsePlan {
  /** table[step][layer]: share of tokens recomputed, in [0, 1]. */
  table: readonly (readonly number[])[];
  attention: AttentionVariant;
  reuse: ReuseMode;
  /**
   * Reused module outputs held constant ('none', the default) or extrapolated from each
   * token's last two computations ('linear', TaylorSeer-like; forecast.ts), in step index
   * (default) or sigma.
   */
  forecast?: ForecastMode;
  forecastAxis?: ForecastAxis;
  /** Token score mix of partial blocks (a SCORE_MIXES name; absent: DEFAULT_SCORE_WEIGHTS). */
  scores?: string;
}

export const planFromSchedule = (s: Schedule): SparsePlan => ({ table: s.table, attention: s.attention, reuse: s.reuse, ...(s.scores !== undefined && { scores: s.scores }), ...(s.forecast !== undefined && { forecast: s.forecast }) });

/** A plan of all ones: the dense model through the sparse executor. */
export const densePlan = (steps: number, layers: number): SparsePlan => ({
  table: Array.from({ length: steps }, () => new Array<number>(layers).fill(1)),
  attention: 'reuse',
  reuse: 'module-outputs',
});

export interface SparseDiTOptions {
  precision?: CachePrecision;
  scoreWeights?: ScoreWeights;
  /** Query rows sampled for the attention-influence signal (default 256). */
  attentionQueries?: number;
  /** The hooks to run instead of the ones of the plan's reuse mode (a method with its own per-block logic). */
  hooks?: (run: SparseRunState) => ForwardHooks;
}

export interface SparseStats {
  /** Block executions per kind (all branches). */
  dense: number;
  partial: number;
  reused: number;
  /** Dense runs forced because a layer's cache was still empty. */
  forcedDense: number;
  /** Whole steps served from the stack residual. */
  skippedSteps: number;
  /** Tokens recomputed in partial blocks. */
  recomputedTokens: number;
  /** Executed level per branch, step and layer (after forced-dense fallbacks). */
  executed: Map<GuidanceBranch, number[][]>;
  /** Milliseconds in the JS reuse/assembly and in scoring. */
  assemblyMs: number;
  scoringMs: number;
}

export const newStats = (): SparseStats => ({ dense: 0, partial: 0, reused: 0, forcedDense: 0, skippedSteps: 0, recomputedTokens: 0, executed: new Map(), assemblyMs: 0, scoringMs: 0 });

/** What a plan's hooks share with the SparseDiT that runs them. */
export interface SparseRunState {
  readonly dit: WanDiT;
  readonly plan: SparsePlan;
  readonly cache: TokenCache;
  readonly stats: SparseStats;
  /** Timestep of the current model call (Wan: 1000·sigma). */
  readonly timestep?: number;
}

/** Records the levels a pass executed on its branch and step. */
export function recordExecuted(stats: SparseStats, info: StepInfo, row: number[]): void {
  let t = stats.executed.get(info.branch);
  if (!t) {
    t = [];
    stats.executed.set(info.branch, t);
  }
  t[info.step] = row;
}

/** The step info of a pass (SparseDiT always passes one). */
export function passInfo(pass: PassState): StepInfo {
  if (!pass.info) throw new SparseShapeError('sparse execution needs the step info of every model call');
  return pass.info;
}

