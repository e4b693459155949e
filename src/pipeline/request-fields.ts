/**
 * Shape checks for the fields of a generate request coming from outside TypeScript (jobs
 * files, queue payloads, command-line flags, a pipeline definition's or a release's
 * defaults). The pipeline checks values against the model (sizes the model supports, known
 * schedules); this only rejects what can never be a valid request (issue 18's bounds).
 * It sits in pipeline/ so that pipeline definitions and convert can use it; batch/request.ts
 * re-exports it.
 */
import type { GenerateRequest } from '../core/renderer.js';
import { SOLVER_NAMES } from '../sampling/solvers.js';
import { outputFormatProblem, VIDEO_FORMATS } from '../video/format.js';

/** The keys a job line may set, in the order help texts list them. */
export const REQUEST_KEYS = [
  'prompt', 'negativePrompt', 'width', 'height', 'frames', 'fps', 'steps', 'shift', 'guidance', 'seed',
  'solver', 'schedule', 'budget', 'method', 'forecast', 'output', 'format', 'saveLatent', 'noise',
] as const satisfies readonly (keyof GenerateRequest)[];

type Check = (value: unknown) => string | undefined;

/**
 * Longest prompt accepted, in UTF-8 bytes. The encoder keeps only its first text_len tokens
 * (512 for Wan2.1, a few thousand characters) and says so; this bound only keeps absurd inputs
 * out of memory, sidecars and Redis payloads.
 */
export const MAX_PROMPT_BYTES = 65_536;
const promptText = (required: boolean): Check => (v) => {
  if (typeof v !== 'string' || (required && v.trim() === '')) return required ? 'must be a non-empty string' : 'must be a string';
  const bytes = Buffer.byteLength(v, 'utf8');
  return bytes > MAX_PROMPT_BYTES ? `is ${bytes} bytes long, more than the ${MAX_PROMPT_BYTES} allowed; shorten it (the encoder reads only its first 512 tokens anyway)` : undefined;
};

const positiveInt: Check = (v) => (Number.isInteger(v) && (v as number) > 0 ? undefined : 'must be a positive integer');

/** Bounds on sizes a request may ask for, checked before any work (CLI flags use the same). */
export const REQUEST_LIMITS = {
  /** Frame width or height in pixels (Wan2.1 renders up to 1280x720). */
  side: 4096,
  /** Video frames (4k+1; Wan2.1 renders 81). */
  frames: 1025,
  /** Denoising steps (the schedule has 1000 timesteps). */
  steps: 1000,
} as const;
const boundedInt = (max: number): Check => (v) => positiveInt(v) ?? ((v as number) > max ? `must be at most ${max}` : undefined);
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
  prompt: promptText(true),
  negativePrompt: promptText(false),
  width: boundedInt(REQUEST_LIMITS.side),
  height: boundedInt(REQUEST_LIMITS.side),
  frames: boundedInt(REQUEST_LIMITS.frames),
  fps: finiteNumber(0, false),
  steps: boundedInt(REQUEST_LIMITS.steps),
  shift: finiteNumber(0, false),
  guidance: finiteNumber(0, true),
  seed: (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : 'must be a non-negative integer'),
  solver: oneOf(SOLVER_NAMES),
  schedule: nonEmptyString,
  budget: finiteNumber(0, false, 1),
  // The pipeline knows which sparsity methods exist; here it only has to be a name.
  method: nonEmptyString,
  forecast: oneOf(['none', 'linear']),
  output: nonEmptyString,
  format: oneOf(VIDEO_FORMATS),
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

/** A value as JSON for a message, cut to a readable length. */
function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 60)}… (${text.length} characters)` : text;
}

/**
 * Problems with the fields of a (possibly partial) request, as short phrases such as
 * `"steps" must be a positive integer (got "ten")`. Empty when the fields are fine.
 */
export function requestFieldProblems(fields: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (!Object.hasOwn(CHECKS, key)) { // own keys only: "__proto__" or "constructor" is an unknown field
      const hint = suggestKey(key);
      problems.push(`unknown field "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
      continue;
    }
    const problem = CHECKS[key as keyof typeof CHECKS](value);
    if (problem) problems.push(`"${key}" ${problem} (got ${shortJson(value)})`);
  }
  if (typeof fields.output === 'string') {
    const problem = outputFormatProblem(fields.output, typeof fields.format === 'string' ? fields.format : undefined);
    if (problem) problems.push(`"output" ${problem}`);
  }
  if (fields.schedule !== undefined && fields.budget !== undefined) {
    problems.push('give "schedule" or "budget", not both');
  }
  return problems;
}
