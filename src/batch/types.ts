/**
 * The slice of the generation API that batch rendering drives: the request, progress and result
 * types and the `Renderer` interface (src/core/renderer.ts), which a `Pipeline` implements and
 * a test can supply without loading a model.
 */
import type { DenoisedJob, GenerateRequest, GenerateResult, Phase, Progress, Renderer, RunOptions } from '../core/renderer.js';
import type { SolverName } from '../core/types.js';
import { SOLVER_NAMES } from '../sampling/solvers.js';
import type { VideoFormat } from '../video/encode.js';

export type { DenoisedJob, GenerateRequest, GenerateResult, Phase, Progress, Renderer, RunOptions };
export type Solver = SolverName;
export type OutputFormat = VideoFormat;

/** @deprecated the old name of `Renderer` (src/core/renderer.ts). */
export type BatchRunner = Renderer;

/**
 * Where a lane thread gets its runner: an ES module exporting
 * `createRunner(options): Promise<BatchRunner>`, loaded inside the thread (a runner holds
 * onnxruntime sessions, which cannot cross threads). `options` must be JSON.
 */
export interface RunnerSpec {
  module: string;
  options?: Record<string, unknown>;
}

/** The keys a job line may set, in the order help texts list them. */
export const REQUEST_KEYS = [
  'prompt', 'negativePrompt', 'width', 'height', 'frames', 'fps', 'steps', 'shift', 'guidance', 'seed',
  'solver', 'schedule', 'budget', 'method', 'forecast', 'output', 'format', 'saveLatent', 'noise',
] as const satisfies readonly (keyof GenerateRequest)[];

/** From the solver registry (src/sampling/solvers.ts). */
export const SOLVERS: readonly Solver[] = SOLVER_NAMES;
export const FORMATS: readonly OutputFormat[] = ['mp4', 'webm', 'gif', 'png'];
