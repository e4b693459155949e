/**
 * Shape checks for generate requests coming from outside TypeScript (jobs files, queue
 * payloads, command-line flags). The pipeline checks values against the model (sizes the
 * model supports, known schedules); this only rejects what can never be a valid request.
 */
import { randomInt } from 'node:crypto';
import { FORMATS, REQUEST_KEYS, SOLVERS, type GenerateRequest } from './types.js';

/** A request whose output path may still be chosen by the batch engine. */
export type JobRequest = Omit<GenerateRequest, 'output'> & { output?: string };

type Check = (value: unknown) => string | undefined;

const positiveInt: Check = (v) => (Number.isInteger(v) && (v as number) > 0 ? undefined : 'must be a positive integer');
const nonEmptyString: Check = (v) => (typeof v === 'string' && v.trim() !== '' ? undefined : 'must be a non-empty string');
const finiteNumber = (min: number, minInclusive: boolean, max = Infinity): Check => (v) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'must be a number';
  if (minInclusive ? v < min : v <= min) return `must be ${minInclusive ? '>=' : '>'} ${min}`;
  if (v > max) return `must be <= ${max}`;
  return undefined;
};
const oneOf = (choices: readonly string[]): Check => (v) =>
  typeof v === 'string' && choices.includes(v) ? undefined : `must be one of ${choices.join(', ')}`;

const CHECKS: Record<(typeof REQUEST_KEYS)[number], Check> = {
  prompt: nonEmptyString,
  negativePrompt: (v) => (typeof v === 'string' ? undefined : 'must be a string'),
  width: positiveInt,
  height: positiveInt,
  frames: positiveInt,
  fps: finiteNumber(0, false),
  steps: positiveInt,
  shift: finiteNumber(0, false),
  guidance: finiteNumber(0, true),
  seed: (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : 'must be a non-negative integer'),
  solver: oneOf(SOLVERS),
  schedule: nonEmptyString,
  budget: finiteNumber(0, false, 1),
  // The pipeline knows which sparsity methods exist; here it only has to be a name.
  method: nonEmptyString,
  forecast: oneOf(['none', 'linear']),
  output: nonEmptyString,
  format: oneOf(FORMATS),
  saveLatent: (v) => (typeof v === 'boolean' ? undefined : 'must be true or false'),
  noise: nonEmptyString,
};

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The known key closest to a misspelt one, if any is close. */
export function suggestKey(key: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of REQUEST_KEYS) {
    const d = editDistance(key.toLowerCase(), known.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [known, d];
  }
  return best;
}

/**
 * Problems with the fields of a (possibly partial) request, as short phrases such as
 * `"steps" must be a positive integer (got "ten")`. Empty when the fields are fine.
 */
export function requestFieldProblems(fields: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (!(key in CHECKS)) {
      const hint = suggestKey(key);
      problems.push(`unknown field "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
      continue;
    }
    const problem = CHECKS[key as keyof typeof CHECKS](value);
    if (problem) problems.push(`"${key}" ${problem} (got ${JSON.stringify(value)})`);
  }
  if (fields.schedule !== undefined && fields.budget !== undefined) {
    problems.push('give "schedule" or "budget", not both');
  }
  return problems;
}

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
