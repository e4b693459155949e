/**
 * The peer methods' heuristic schedules (ToCa-like uniform tokens, FORA-like block reuse,
 * TeaCache-like step skipping) now live one file each in ./methods/; re-exported here.
 */
export { blockReuseBaseline, evenlySpacedSteps, stepSkipBaseline, uniformTokenBaseline } from './methods/index.js';
export type { BaselineProblem, BaselineSchedule } from './methods/types.js';
