/**
 * The slice of the generation API that batch rendering drives: the request, progress and result
 * types of `src/pipeline/generate.ts`, and the Pipeline's denoise/finish pair as an interface.
 * A `Pipeline` is a `BatchRunner` as it stands, and a test can supply a small runner that writes
 * real files without loading a model.
 */
import type { DenoisedJob, GenerateRequest, GenerateResult, Phase, Progress, RunOptions } from '../pipeline/generate.js';
import type { SolverName } from '../sampling/schedule.js';
import type { VideoFormat } from '../video/encode.js';

export type { DenoisedJob, GenerateRequest, GenerateResult, Phase, Progress, RunOptions };
export type Solver = SolverName;
export type OutputFormat = VideoFormat;

/** What the batch engine needs from a pipeline: denoising and finishing as two separable halves. */
export interface BatchRunner {
  denoise(req: GenerateRequest, opts?: RunOptions): Promise<DenoisedJob>;
  finish(job: DenoisedJob, opts?: RunOptions): Promise<GenerateResult>;
  /** Frees the runner's sessions (Pipeline calls it release). */
  release?(): Promise<void>;
}

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
  'solver', 'schedule', 'budget', 'method', 'output', 'format', 'saveLatent', 'noise',
] as const satisfies readonly (keyof GenerateRequest)[];

export const SOLVERS: readonly Solver[] = ['unipc', 'dpm++', 'euler'];
export const FORMATS: readonly OutputFormat[] = ['mp4', 'webm', 'gif', 'png'];
