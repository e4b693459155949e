/**
 * Which renderer an evaluation uses: a runner the caller already holds (a loaded `Pipeline`, or
 * a test runner), or the real pipeline loaded by name or folder through the same loader batch
 * rendering uses (src/batch/pipeline-runner.ts, which imports src/pipeline/generate.ts).
 */
import { createRunner } from '../batch/pipeline-runner.js';
import type { Renderer } from '../batch/types.js';
import type { ExecutionProvider } from '../runtime/session.js';

export interface RendererChoice {
  /** A renderer already loaded; the caller keeps ownership (it is not closed here). */
  runner?: Renderer;
  /** Pipeline name or converted model folder to load (default: the built-in demo model). */
  pipeline?: string;
  /** onnxruntime intra-op threads when the pipeline is loaded here. */
  threads?: number;
  /** Execution providers when the pipeline is loaded here (default cpu). */
  providers?: ExecutionProvider[];
}

/** Runs `body` with a renderer, closing it afterwards when it was loaded here. */
export async function withRenderer<T>(choice: RendererChoice, body: (runner: Renderer) => Promise<T>): Promise<T> {
  if (choice.runner) return body(choice.runner);
  const runner = await createRunner({
    ...(choice.pipeline !== undefined ? { pipeline: choice.pipeline } : {}),
    ...(choice.threads !== undefined ? { threads: choice.threads } : {}),
    ...(choice.providers !== undefined ? { providers: choice.providers } : {}),
  });
  try {
    return await body(runner);
  } finally {
    await runner.release?.();
  }
}
