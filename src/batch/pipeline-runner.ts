/**
 * The runner that renders with the real diffsparse pipeline. Lanes load it by module URL inside
 * their own thread, because a Pipeline holds onnxruntime sessions that stay with one thread.
 */
import { Pipeline } from '../pipeline/generate.js';
import type { ExecutionProvider } from '../runtime/session.js';
import { checkPipelineArg } from './pipeline-arg.js';
import type { Renderer } from './types.js';

export interface PipelineRunnerOptions {
  /** Pipeline name, converted model folder or definition file; the built-in demo when absent. */
  pipeline?: string;
  /** onnxruntime intra-op threads for this lane's sessions. */
  threads?: number;
  /** Execution providers (default the pipeline's, else cpu). */
  providers?: ExecutionProvider[];
  /** DiT blocks loaded for their turn only; absent: chosen from the available memory. */
  lowMemory?: boolean;
  /** Start the VAE decode worker while the models load (a runner that will decode; see PipelineLoadOptions). */
  startDecoder?: boolean;
}

export async function createRunner(options: PipelineRunnerOptions = {}): Promise<Renderer> {
  checkPipelineArg(options.pipeline);
  return Pipeline.load(options.pipeline, { ...(options.threads !== undefined && { threads: options.threads }), ...(options.providers !== undefined && { providers: options.providers }), ...(options.lowMemory !== undefined && { lowMemory: options.lowMemory }), ...(options.startDecoder && { startDecoder: true }) });
}
