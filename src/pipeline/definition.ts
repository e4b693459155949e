/**
 * Pipeline definitions: which converted model folders make up a pipeline and the defaults a
 * request falls back to. A definition is a small JSON file: a built-in one under the
 * package's `pipelines/` folder (named by its file stem), or `pipeline.json` inside a
 * converted model folder, or any path to such a file.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SolverName } from '../core/types.js';
import { requestFieldProblems } from './request-fields.js';
import { checkInputFile, jsonErrorMessage } from '../io/input-file.js';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../runtime/session.js';
import { isSolverName, SOLVER_NAMES } from '../sampling/solvers.js';
import { trainedRangeProblems, type TrainedRange } from './trained.js';

export type { TrainedRange };

export const PIPELINE_FORMAT = 'diffsparse/pipeline';
export const PIPELINE_VERSION = 1;
export const DEFAULT_PIPELINE = 'wan-demo';

export interface PipelineDefaults {
  width: number;
  height: number;
  frames: number;
  steps: number;
  shift: number;
  guidance: number;
  solver: SolverName;
  fps: number;
  /** Used when a request gives none (the release's is the official Chinese one; empty is allowed). */
  negativePrompt: string;
}

export interface PipelineDefinition {
  format: typeof PIPELINE_FORMAT;
  version: number;
  name: string;
  description?: string;
  /** Converted model folders, relative to the definition file. */
  models: { dit: string; vae: string; text: string };
  defaults: PipelineDefaults;
  /** Sparsity schedules shipped for this pipeline, by name, relative to the definition file. */
  schedules?: Record<string, string>;
  /** Execution providers to run on unless the caller picks others (default ['cpu']). */
  providers?: ExecutionProvider[];
  /** What the model was trained to draw (src/pipeline/trained.ts); `generate` warns outside it. */
  trained?: TrainedRange;
}

/** A definition with its model paths made absolute. */
export interface ResolvedPipeline extends PipelineDefinition {
  file: string;
}

export class PipelineDefinitionError extends Error {
  override name = 'PipelineDefinitionError';
}

/** The package root (holds `pipelines/`, `schedules/`, `samples/`), from src/ or dist/. */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function builtInPipelines(): string[] {
  const dir = join(packageRoot(), 'pipelines');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort() : [];
}

/** Finds and validates a pipeline: a built-in name, a model folder, or a definition file. */
export function resolvePipeline(nameOrPath: string = DEFAULT_PIPELINE): ResolvedPipeline {
  const file = locate(nameOrPath);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PipelineDefinitionError(`${file} is not valid JSON (${jsonErrorMessage(e)}); fix or regenerate it with \`diffsparse convert\``);
  }
  const def = validate(parsed, file);
  const base = dirname(file);
  const models = { dit: resolve(base, def.models.dit), vae: resolve(base, def.models.vae), text: resolve(base, def.models.text) };
  for (const [part, dir] of Object.entries(models)) {
    if (!existsSync(dir)) throw new PipelineDefinitionError(`pipeline ${def.name}: the ${part} model folder ${dir} does not exist; run \`diffsparse convert\` to create it or fix ${file}`);
  }
  const schedules = def.schedules ? Object.fromEntries(Object.entries(def.schedules).map(([k, v]) => [k, resolve(base, v)])) : undefined;
  return { ...def, models, schedules, file };
}

function locate(nameOrPath: string): string {
  if (existsSync(nameOrPath)) {
    if (statSync(nameOrPath).isDirectory()) {
      const inside = join(nameOrPath, 'pipeline.json');
      if (existsSync(inside)) return resolve(inside);
      throw new PipelineDefinitionError(`${nameOrPath} has no pipeline.json; point --pipeline at a folder written by \`diffsparse convert\``);
    }
    checkInputFile(nameOrPath, 'a pipeline definition', 16 * 1024 * 1024); // not a device or FIFO (issue 18)
    return resolve(nameOrPath);
  }
  const builtIn = join(packageRoot(), 'pipelines', `${nameOrPath}.json`);
  if (existsSync(builtIn)) return builtIn;
  const known = builtInPipelines();
  throw new PipelineDefinitionError(`no pipeline named or at "${nameOrPath}"; use a model folder from \`diffsparse convert\`${known.length ? ` or one of: ${known.join(', ')}` : ''}`);
}

function validate(value: unknown, file: string): PipelineDefinition {
  const fail = (what: string): never => {
    throw new PipelineDefinitionError(`${file}: ${what}`);
  };
  if (typeof value !== 'object' || value === null) return fail('expected a JSON object');
  const def = value as Partial<PipelineDefinition>;
  if (def.format !== PIPELINE_FORMAT) fail(`format must be "${PIPELINE_FORMAT}"; this is not a diffsparse pipeline definition`);
  if (def.version !== PIPELINE_VERSION) fail(`version ${def.version} is not supported (this diffsparse reads version ${PIPELINE_VERSION}); convert the model again`);
  if (typeof def.name !== 'string' || !def.name) fail('name is missing');
  const m = def.models;
  if (!m || typeof m.dit !== 'string' || typeof m.vae !== 'string' || typeof m.text !== 'string') fail('models must name the dit, vae and text folders');
  const d = def.defaults;
  if (!d) return fail('defaults are missing');
  for (const key of ['width', 'height', 'frames', 'steps', 'shift', 'guidance', 'fps'] as const) {
    if (typeof d[key] !== 'number' || !Number.isFinite(d[key])) fail(`defaults.${key} must be a number`);
  }
  if (typeof d.solver !== 'string' || !isSolverName(d.solver)) fail(`defaults.solver must be one of ${SOLVER_NAMES.join(', ')}`);
  if (typeof d.negativePrompt !== 'string') fail('defaults.negativePrompt must be a string');
  // The bounds a request is held to (issue 18): defaults of 100000 frames must not reach the model.
  const problems = requestFieldProblems({ width: d.width, height: d.height, frames: d.frames, steps: d.steps, shift: d.shift, guidance: d.guidance, fps: d.fps });
  if (problems.length) fail(`defaults: ${problems.map((p) => p.replace(/^"/, '"defaults.')).join('; ')}; fix it or convert the model again`);
  if (def.providers !== undefined && !(Array.isArray(def.providers) && def.providers.length > 0 && def.providers.every((p) => (EXECUTION_PROVIDERS as readonly string[]).includes(p)))) fail(`providers must be a non-empty list of ${EXECUTION_PROVIDERS.join(', ')}`);
  if (def.trained !== undefined) {
    const problems = trainedRangeProblems(def.trained);
    if (problems.length) fail(`trained: ${problems.join('; ')}`);
  }
  return def as PipelineDefinition;
}
