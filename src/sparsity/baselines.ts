/**
 * Heuristic schedules of the peer methods, expressed in the same (step × layer) level
 * table and run by the same executor, so comparisons are same-runtime and same-FLOPs:
 *
 * - ToCa-like uniform token ratio: the first steps and every `refresh`-th step dense, every
 *   other (step, layer) at one fixed level (ToCa: fresh_threshold 3, first steps forced).
 * - FORA-like whole-block reuse: dense steps every N steps, level 0 (every module output
 *   reused with current gates) in between.
 * - TeaCache-like step skipping: skipped steps reuse the residual of the whole block stack
 *   ('stack-residual'); the first and the last step are always computed.
 *
 * Each picks, among its parameter choices, the one with the largest FLOPs ratio not above
 * the budget (the smallest one when none fits).
 */
import { generationFlops, type AttentionVariant, type FlopsShape } from './flops.js';
import type { ReuseMode } from './schedule.js';

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
  method: 'uniform-tokens' | 'block-reuse' | 'step-skip';
  description: string;
  table: number[][];
  attention: AttentionVariant;
  reuse: ReuseMode;
  flopsRatio: number;
}

const rows = (steps: number, layers: number, f: (t: number) => number): number[][] => Array.from({ length: steps }, (_, t) => new Array<number>(layers).fill(f(t)));

function pick(candidates: BaselineSchedule[], budget: number): BaselineSchedule {
  const fits = candidates.filter((c) => c.flopsRatio <= budget + 1e-12);
  if (fits.length) return fits.reduce((a, b) => (b.flopsRatio > a.flopsRatio ? b : a));
  return candidates.reduce((a, b) => (b.flopsRatio < a.flopsRatio ? b : a));
}

/** Dense steps: the first `first` steps, then every `every`-th step. */
const periodicDense = (t: number, first: number, every: number): boolean => t < first || (t - first) % every === every - 1;

/** m dense steps spread evenly, the first and (for m ≥ 2) the last step included. */
export function evenlySpacedSteps(steps: number, m: number): Set<number> {
  const out = new Set<number>();
  if (m <= 0) return out;
  if (m === 1) return new Set([0]);
  for (let i = 0; i < m; i++) out.add(Math.round((i * (steps - 1)) / (m - 1)));
  return out;
}

export function uniformTokenBaseline(p: BaselineProblem): BaselineSchedule {
  const attention = p.attention ?? 'reuse';
  const levels = (p.levels ?? [0, 0.25, 0.5, 0.75, 1]).filter((v) => v > 0 && v < 1);
  const candidates: BaselineSchedule[] = [];
  for (const level of levels)
    for (const first of [1, 2, 3])
      for (let every = 2; every <= p.steps; every++) {
        if (first >= p.steps) continue;
        const table = rows(p.steps, p.shape.layers, (t) => (periodicDense(t, first, every) ? 1 : level));
        candidates.push({
          method: 'uniform-tokens',
          description: `ToCa-like: first ${first} step(s) and every ${every}th step dense, other blocks recompute ${level * 100}% of tokens`,
          table,
          attention,
          reuse: 'module-outputs',
          flopsRatio: generationFlops(p.shape, table, attention, p.branches).ratio,
        });
      }
  return pick(candidates, p.budget);
}

function fullStepCandidates(p: BaselineProblem, method: 'block-reuse' | 'step-skip'): BaselineSchedule[] {
  const out: BaselineSchedule[] = [];
  for (let m = 1; m <= p.steps; m++) {
    const dense = evenlySpacedSteps(p.steps, m);
    const table = rows(p.steps, p.shape.layers, (t) => (dense.has(t) ? 1 : 0));
    const list = [...dense].sort((a, b) => a - b).join(', ');
    out.push({
      method,
      description: method === 'block-reuse' ? `FORA-like: steps ${list} dense, every block reused with current gates otherwise` : `TeaCache-like: steps ${list} computed, the others reuse the block-stack residual`,
      table,
      attention: p.attention ?? 'reuse',
      reuse: method === 'block-reuse' ? 'module-outputs' : 'stack-residual',
      flopsRatio: generationFlops(p.shape, table, p.attention ?? 'reuse', p.branches).ratio,
    });
  }
  return out;
}

export const blockReuseBaseline = (p: BaselineProblem): BaselineSchedule => pick(fullStepCandidates(p, 'block-reuse'), p.budget);
export const stepSkipBaseline = (p: BaselineProblem): BaselineSchedule => pick(fullStepCandidates(p, 'step-skip'), p.budget);
