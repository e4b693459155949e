/**
 * The registry of cache methods: each one file in this folder (config, state and plan),
 * listed here once. The CLI (--method choices and help), the pipeline, eval's compare and
 * baseline variants, and the benchmarks read names, help and plans from this list.
 * Adding a method: a new file exporting a `CacheMethod`, and one line below.
 */
import { blockReuse } from './block-reuse.js';
import { easyCache } from './easycache.js';
import { learned } from './learned.js';
import { stepSkip } from './step-skip.js';
import { taylorSeer } from './taylorseer.js';
import type { CacheMethod } from './types.js';
import { uniformTokens } from './uniform-tokens.js';

export const CACHE_METHODS = [
  learned, // the default
  uniformTokens,
  blockReuse,
  stepSkip,
  taylorSeer,
  easyCache,
] as const satisfies readonly CacheMethod[];

export type SparsityMethod = (typeof CACHE_METHODS)[number]['name'];

/** Every method name, the default (learned) first. */
export const SPARSITY_METHODS = CACHE_METHODS.map((m) => m.name) as readonly SparsityMethod[];

/** The methods with a heuristic schedule at a budget (the peer baselines). */
export const BASELINE_METHODS = CACHE_METHODS.filter((m): m is Extract<(typeof CACHE_METHODS)[number], { heuristic: unknown }> => 'heuristic' in m).map((m) => m.name);
export type BaselineMethod = (typeof BASELINE_METHODS)[number];

export function cacheMethod(name: string): CacheMethod | undefined {
  return CACHE_METHODS.find((m) => m.name === name);
}

export const isSparsityMethod = (name: string): name is SparsityMethod => cacheMethod(name) !== undefined;

/** "name: help" lines, for --help texts. */
export const methodHelp = (): string => CACHE_METHODS.map((m) => `${m.name}: ${m.help}`).join('; ');

export { StackResidualHooks } from './step-skip.js';
export type * from './types.js';
export { uniformTokenBaseline } from './uniform-tokens.js';
export { blockReuseBaseline } from './block-reuse.js';
export { stepSkipBaseline } from './step-skip.js';
export { taylorSeerBaseline } from './taylorseer.js';
export { easyCachePlan, runEasyCache, tuneEasyCache, TransformationRateHooks } from './easycache.js';
export { evenlySpacedSteps } from './heuristic.js';
