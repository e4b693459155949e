/**
 * Shape checks for generate requests coming from outside TypeScript (jobs files, queue
 * payloads, command-line flags). The pipeline checks values against the model (sizes the
 * model supports, known schedules); this only rejects what can never be a valid request.
 * The field checks themselves live in src/pipeline/request-fields.ts (a pipeline definition's
 * defaults are checked with them too).
 */
import { randomInt } from 'node:crypto';
import { MAX_PROMPT_BYTES, REQUEST_LIMITS, requestFieldProblems, suggestKey } from '../pipeline/request-fields.js';
import { outputFormatProblem } from '../video/format.js';
import type { GenerateRequest } from './types.js';

export { MAX_PROMPT_BYTES, REQUEST_LIMITS, requestFieldProblems, suggestKey };

/** A request whose output path may still be chosen by the batch engine. */
export type JobRequest = Omit<GenerateRequest, 'output'> & { output?: string };

/** Why an output name does not fit its format: the one rule, src/video/format.ts. */
export { outputFormatProblem };

/** Problems of a complete job request: field problems plus a missing prompt. */
export function jobRequestProblems(fields: Record<string, unknown>): string[] {
  const problems = requestFieldProblems(fields);
  if (fields.prompt === undefined) problems.unshift('"prompt" is missing');
  return problems;
}

/** Largest seed picked at random (2^31 - 1), so seeds print short and fit any generator. */
export const MAX_RANDOM_SEED = 0x7fffffff;

/** A fresh random seed, used when a request does not give one (and always reported). */
export function randomSeed(): number {
  return randomInt(0, MAX_RANDOM_SEED);
}
