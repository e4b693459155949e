/** Early check of a --pipeline value, without loading any model (kept light for CLI start-up). */
import { resolvePipeline } from '../pipeline/definition.js';

/**
 * Throws the pipeline's own PipelineDefinitionError (a clear message naming the name, folder or
 * file and the fix) when `pipeline` does not resolve to a definition whose model folders exist.
 */
export function checkPipelineArg(pipeline: string | undefined): void {
  resolvePipeline(pipeline);
}
