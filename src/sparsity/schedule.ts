/**
 * Sparsity schedules as data: a versioned JSON document holding, for every (step, layer),
 * the share of tokens a block recomputes, plus everything needed to tell whether it fits the
 * model and settings at hand and how it was obtained. Loading validates; any problem is one
 * typed error naming the file and the fix.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ATTENTION_VARIANTS, type AttentionVariant } from './flops.js';
import { SCORE_MIXES } from './scores.js';
import { ScheduleFormatError, ScheduleLayerCountError, ScheduleLevelError, ScheduleModelMismatchError } from './errors.js';
import { jsonErrorMessage, MAX_JSON_INPUT_BYTES, refuseSpecialFile } from '../io/input-file.js';

export const SCHEDULE_FORMAT = 'diffsparse-schedule';
export const SCHEDULE_VERSION = 1;
export const DEFAULT_LEVELS: readonly number[] = [0, 0.25, 0.5, 0.75, 1];

/** How a step with level 0 everywhere is executed. */
export type ReuseMode =
  /** Per layer: cached raw SA/CA/FFN outputs with the current gates (token caching, FORA). */
  | 'module-outputs'
  /** Per step: the cached residual of the whole block stack (TeaCache-like step skipping). */
  | 'stack-residual';

/**
 * How a schedule was made: `learned` (a token-level table from calibration and the solver;
 * some level strictly between 0 and 1), `calibrated` (solved on a measured cost table),
 * `heuristic` (solved on a prior), `baseline` (a peer method's structure, e.g. FORA-like block
 * reuse, picked among candidates; `method` names it).
 */
export type Provenance = 'learned' | 'calibrated' | 'heuristic' | 'baseline';

export interface ScheduleModel {
  /** Model id, e.g. the converted model's name ("wan21-tiny"). */
  id: string;
  /** Content fingerprint of the model weights (e.g. "sha256:..."), when known. */
  fingerprint?: string;
  layers: number;
  dim: number;
  heads: number;
}

export interface ScheduleFidelity {
  latentRelL2?: number;
  psnr?: number;
  ssim?: number;
  /**
   * Prompt adherence of the schedule's clips in percent (colour, direction, shape, continuity:
   * the adherence measurement of bench/adherence.ts) and the dense clips' on the same cases.
   */
  adherence?: { schedule: Record<string, number>; dense: Record<string, number> };
  /** How it was measured: prompts, seeds, reference, resolution. */
  how: string;
}

/** What learning a schedule cost: model generations (one case through the sampler) and minutes. */
export interface ScheduleLearning {
  generations: number;
  minutes: number;
  /** What the figures cover (e.g. a calibration shared by several budgets). */
  how: string;
}

export interface Schedule {
  format: typeof SCHEDULE_FORMAT;
  version: typeof SCHEDULE_VERSION;
  model: ScheduleModel;
  sampling: { steps: number; solver: string; shift: number; guidance?: number };
  /** Latent token grid (F', H', W') the schedule was made at; schedules transfer across sizes. */
  tokenGrid: { frames: number; height: number; width: number };
  levels: number[];
  attention: AttentionVariant;
  reuse: ReuseMode;
  /** table[step][layer]: a value from `levels`. */
  table: number[][];
  /** Generation FLOPs / dense FLOPs at `tokenGrid` (both CFG branches, head included). */
  flopsRatio: number;
  provenance: { kind: Provenance; method: string; created: string; budget?: number; notes?: string; learning?: ScheduleLearning };
  fidelity: ScheduleFidelity | null;
  /** Token score mix of partial blocks (a SCORE_MIXES name); absent: the default mix. */
  scores?: string;
  /**
   * 'linear': reused module outputs are extrapolated from each token's last two computations
   * (TaylorSeer-like, in step index) instead of held constant; the table was learned that way,
   * so running it without forecasting is another schedule. Absent: held constant.
   */
  forecast?: 'linear';
}

/** What the loader checks a schedule against. Omitted fields are not checked. */
export interface ScheduleExpectation {
  modelId?: string;
  fingerprint?: string;
  layers?: number;
}

type Json = Record<string, unknown>;

function where(file: string | undefined): string {
  return file ? `schedule ${file}` : 'schedule';
}

function field<T>(obj: Json, key: string, check: (v: unknown) => v is T, what: string, file: string | undefined, prefix = ''): T {
  const v = obj[key];
  if (!check(v))
    throw new ScheduleFormatError(`${where(file)}: field "${prefix}${key}" must be ${what} (got ${JSON.stringify(v) ?? 'nothing'}); fix the file or re-create it with "diffsparse schedule solve"`);
  return v;
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isPosInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isOptNum = (v: unknown): v is number | undefined => v === undefined || isNum(v);
const isOptStr = (v: unknown): v is string | undefined => v === undefined || isStr(v);

/** Validates a parsed JSON value as a schedule. `file` is only used in messages. */
export function parseSchedule(raw: unknown, file?: string, expect: ScheduleExpectation = {}): Schedule {
  if (!isObj(raw)) throw new ScheduleFormatError(`${where(file)}: not a JSON object; a schedule file is the JSON written by "diffsparse schedule solve"`);
  if (raw.format !== SCHEDULE_FORMAT)
    throw new ScheduleFormatError(`${where(file)}: "format" is ${JSON.stringify(raw.format)}, expected "${SCHEDULE_FORMAT}"; this is not a diffsparse schedule file`);
  if (raw.version !== SCHEDULE_VERSION)
    throw new ScheduleFormatError(`${where(file)}: version ${JSON.stringify(raw.version)} is not supported (this build reads version ${SCHEDULE_VERSION}); upgrade diffsparse or re-create the schedule`);

  const m = field(raw, 'model', isObj, 'an object', file);
  const model: ScheduleModel = {
    id: field(m, 'id', isStr, 'a non-empty string', file, 'model.'),
    fingerprint: field(m, 'fingerprint', isOptStr, 'a string', file, 'model.'),
    layers: field(m, 'layers', isPosInt, 'a positive integer', file, 'model.'),
    dim: field(m, 'dim', isPosInt, 'a positive integer', file, 'model.'),
    heads: field(m, 'heads', isPosInt, 'a positive integer', file, 'model.'),
  };
  if (model.fingerprint === undefined) delete model.fingerprint;
  const s = field(raw, 'sampling', isObj, 'an object', file);
  const sampling = {
    steps: field(s, 'steps', isPosInt, 'a positive integer', file, 'sampling.'),
    solver: field(s, 'solver', isStr, 'a solver name', file, 'sampling.'),
    shift: field(s, 'shift', isNum, 'a number', file, 'sampling.'),
    guidance: field(s, 'guidance', isOptNum, 'a number', file, 'sampling.'),
  };
  if (sampling.guidance === undefined) delete sampling.guidance;
  const g = field(raw, 'tokenGrid', isObj, 'an object', file);
  const tokenGrid = {
    frames: field(g, 'frames', isPosInt, 'a positive integer', file, 'tokenGrid.'),
    height: field(g, 'height', isPosInt, 'a positive integer', file, 'tokenGrid.'),
    width: field(g, 'width', isPosInt, 'a positive integer', file, 'tokenGrid.'),
  };
  const levels = field(raw, 'levels', (v): v is number[] => Array.isArray(v) && v.length > 0 && v.every(isNum), 'a non-empty array of numbers', file);
  const attention = field(raw, 'attention', (v): v is AttentionVariant => ATTENTION_VARIANTS.includes(v as AttentionVariant), `one of ${ATTENTION_VARIANTS.join(', ')}`, file);
  const reuse = field(raw, 'reuse', (v): v is ReuseMode => v === 'module-outputs' || v === 'stack-residual', '"module-outputs" or "stack-residual"', file);
  const table = field(raw, 'table', (v): v is number[][] => Array.isArray(v) && v.every((r) => Array.isArray(r) && r.every(isNum)), 'an array of rows of numbers (steps × layers)', file);
  const flopsRatio = field(raw, 'flopsRatio', isNum, 'a number', file);
  const scores = field(raw, 'scores', (v): v is string | undefined => v === undefined || (typeof v === 'string' && v in SCORE_MIXES), `one of ${Object.keys(SCORE_MIXES).join(', ')}`, file);
  const forecast = field(raw, 'forecast', (v): v is 'linear' | undefined => v === undefined || v === 'linear', '"linear" or absent (reused outputs held constant)', file);
  if (forecast !== undefined && reuse !== 'module-outputs') throw new ScheduleFormatError(`${where(file)}: "forecast" applies to reuse "module-outputs" only; remove it or change the reuse`);
  const p = field(raw, 'provenance', isObj, 'an object', file);
  const provenance: Schedule['provenance'] = {
    kind: field(p, 'kind', (v): v is Provenance => v === 'learned' || v === 'calibrated' || v === 'heuristic' || v === 'baseline', '"learned", "calibrated", "heuristic" or "baseline"', file, 'provenance.'),
    method: field(p, 'method', isStr, 'a string', file, 'provenance.'),
    created: field(p, 'created', isStr, 'an ISO date string', file, 'provenance.'),
    budget: field(p, 'budget', isOptNum, 'a number', file, 'provenance.'),
    notes: field(p, 'notes', isOptStr, 'a string', file, 'provenance.'),
  };
  for (const k of ['budget', 'notes'] as const) if (provenance[k] === undefined) delete provenance[k];
  if (p.learning !== undefined) {
    const l = field(p, 'learning', isObj, 'an object', file, 'provenance.');
    provenance.learning = {
      generations: field(l, 'generations', isNum, 'a number', file, 'provenance.learning.'),
      minutes: field(l, 'minutes', isNum, 'a number', file, 'provenance.learning.'),
      how: field(l, 'how', isStr, 'a string', file, 'provenance.learning.'),
    };
  }
  let fidelity: ScheduleFidelity | null = null;
  if (raw.fidelity !== null && raw.fidelity !== undefined) {
    const f = field(raw, 'fidelity', isObj, 'an object or null', file);
    fidelity = {
      latentRelL2: field(f, 'latentRelL2', isOptNum, 'a number', file, 'fidelity.'),
      psnr: field(f, 'psnr', isOptNum, 'a number', file, 'fidelity.'),
      ssim: field(f, 'ssim', isOptNum, 'a number', file, 'fidelity.'),
      how: field(f, 'how', isStr, 'a description string', file, 'fidelity.'),
    };
    for (const k of ['latentRelL2', 'psnr', 'ssim'] as const) if (fidelity[k] === undefined) delete fidelity[k];
    if (f.adherence !== undefined) {
      const a = field(f, 'adherence', isObj, 'an object', file, 'fidelity.');
      const isScores = (v: unknown): v is Record<string, number> => isObj(v) && Object.values(v).every(isNum);
      fidelity.adherence = {
        schedule: field(a, 'schedule', isScores, 'an object of numbers', file, 'fidelity.adherence.'),
        dense: field(a, 'dense', isScores, 'an object of numbers', file, 'fidelity.adherence.'),
      };
    }
  }

  // levels: sorted, distinct, within [0, 1]
  for (let i = 0; i < levels.length; i++) {
    if (levels[i] < 0 || levels[i] > 1)
      throw new ScheduleLevelError(`${where(file)}: level ${levels[i]} is outside [0, 1]; levels are shares of tokens recomputed (e.g. [0, 0.25, 0.5, 0.75, 1])`);
    if (i > 0 && levels[i] <= levels[i - 1])
      throw new ScheduleLevelError(`${where(file)}: "levels" must be strictly increasing (got ${JSON.stringify(levels)}); list each level once, smallest first`);
  }
  if (table.length !== sampling.steps)
    throw new ScheduleFormatError(`${where(file)}: the table has ${table.length} rows but sampling.steps is ${sampling.steps}; fix the file or resample the schedule`);
  table.forEach((row, t) => {
    if (row.length !== model.layers)
      throw new ScheduleLayerCountError(`${where(file)}: step ${t} has ${row.length} layers but model.layers is ${model.layers}; the table must have one entry per layer`);
    row.forEach((v, l) => {
      if (!levels.includes(v))
        throw new ScheduleLevelError(`${where(file)}: table[${t}][${l}] = ${v} is not one of the declared levels ${JSON.stringify(levels)}; use a declared level`);
    });
  });
  if (reuse === 'stack-residual')
    table.forEach((row, t) => {
      if (!row.every((v) => v === row[0] && (v === 0 || v === 1)))
        throw new ScheduleLevelError(`${where(file)}: with reuse "stack-residual" every step must be all 0 (skipped) or all 1 (dense); step ${t} is mixed`);
    });

  if (expect.layers !== undefined && model.layers !== expect.layers)
    throw new ScheduleLayerCountError(`${where(file)}: made for a model with ${model.layers} layers, but this model has ${expect.layers}; use a schedule made for this model or learn one with "diffsparse schedule learn"`);
  if (expect.modelId !== undefined && model.id !== expect.modelId)
    throw new ScheduleModelMismatchError(`${where(file)}: made for model "${model.id}", not "${expect.modelId}"; use a schedule made for this model or learn one with "diffsparse schedule learn"`);
  if (expect.fingerprint !== undefined && model.fingerprint !== undefined && model.fingerprint !== expect.fingerprint)
    throw new ScheduleModelMismatchError(`${where(file)}: made for model "${model.id}" with weights ${model.fingerprint}, but these weights are ${expect.fingerprint}; the weights changed, so learn a new schedule with "diffsparse schedule learn"`);

  return {
    format: SCHEDULE_FORMAT,
    version: SCHEDULE_VERSION,
    model,
    sampling,
    tokenGrid,
    levels,
    attention,
    reuse,
    table: table.map((r) => r.slice()),
    flopsRatio,
    provenance,
    fidelity,
    ...(scores !== undefined && { scores }),
    ...(forecast !== undefined && { forecast }),
  };
}

/** Reads and validates a schedule file. */
export async function loadSchedule(file: string, expect: ScheduleExpectation = {}): Promise<Schedule> {
  let text: string;
  await refuseSpecialFile(file, 'a schedule file', MAX_JSON_INPUT_BYTES); // a FIFO or /dev/zero would read forever (issue 18)
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ScheduleFormatError(`schedule ${file}: cannot be read (${code ?? String(err)}); check the path`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ScheduleFormatError(`schedule ${file}: not valid JSON (${jsonErrorMessage(err)}); fix the file or re-create it with "diffsparse schedule solve"`);
  }
  return parseSchedule(raw, file, expect);
}

/** Serialises a schedule: one table row per line so diffs stay readable. */
export function scheduleToJson(schedule: Schedule): string {
  const { table, ...rest } = schedule;
  const head = JSON.stringify({ ...rest, table: [] }, null, 2);
  const rows = table.map((r) => `    ${JSON.stringify(r)}`).join(',\n');
  return head.replace('"table": []', `"table": [\n${rows}\n  ]`) + '\n';
}

/** Writes a schedule atomically (temporary name, then rename). Validates first. */
export async function saveSchedule(schedule: Schedule, file: string): Promise<void> {
  parseSchedule(JSON.parse(scheduleToJson(schedule)), file);
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  await fs.writeFile(tmp, scheduleToJson(schedule));
  await fs.rename(tmp, file);
}

/** The number of steps × layers at each level, for summaries. */
export function levelHistogram(schedule: Schedule): Map<number, number> {
  const counts = new Map<number, number>(schedule.levels.map((v) => [v, 0]));
  for (const row of schedule.table) for (const v of row) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

export interface NewScheduleOptions {
  model: ScheduleModel;
  sampling: Schedule['sampling'];
  tokenGrid: Schedule['tokenGrid'];
  table: number[][];
  flopsRatio: number;
  provenance: Omit<Schedule['provenance'], 'created'> & { created?: string };
  levels?: readonly number[];
  attention?: AttentionVariant;
  reuse?: ReuseMode;
  fidelity?: ScheduleFidelity | null;
  scores?: string;
  forecast?: 'linear';
}

/** Builds a validated schedule document. */
export function makeSchedule(o: NewScheduleOptions): Schedule {
  const doc = {
    format: SCHEDULE_FORMAT,
    version: SCHEDULE_VERSION,
    model: o.model,
    sampling: o.sampling,
    tokenGrid: o.tokenGrid,
    levels: [...(o.levels ?? DEFAULT_LEVELS)],
    attention: o.attention ?? 'reuse',
    reuse: o.reuse ?? 'module-outputs',
    table: o.table,
    flopsRatio: o.flopsRatio,
    provenance: { ...o.provenance, created: o.provenance.created ?? new Date().toISOString() },
    fidelity: o.fidelity ?? null,
    ...(o.scores !== undefined && { scores: o.scores }),
    ...(o.forecast !== undefined && { forecast: o.forecast }),
  };
  return parseSchedule(JSON.parse(JSON.stringify(doc)));
}

/** True when some level lies strictly between 0 and 1 (tokens, not whole blocks, are chosen). */
export const isTokenLevel = (table: readonly (readonly number[])[]): boolean => table.some((row) => row.some((v) => v > 0 && v < 1));
