/**
 * One generation off the main thread: the model runs in a lane thread (so Ctrl-C and progress
 * drawing stay responsive while onnxruntime blocks its thread), writes into a staging folder,
 * and only a complete result is renamed to the requested output path.
 */
import path from 'node:path';
import { checkOutputTargets, renderTargets } from '../io/safe-output.js';
import { AbortedError } from './errors.js';
import { Lane, type PreparedLane } from './lane.js';
import { ensureWritableDir } from './output-dir.js';
import { defaultRunnerSpec } from './runner-module.js';
import { commitStage, createStage, discardStage, removeDeadStages } from './staging.js';
import type { GenerateRequest, GenerateResult, Progress, RunnerSpec } from './types.js';

export interface RenderOneOptions {
  request: GenerateRequest;
  runner?: RunnerSpec;
  signal?: AbortSignal;
  onProgress?(p: Progress): void;
  /** Called once the output folder is known to be writable, just before rendering starts. */
  onStart?(request: GenerateRequest): void;
  /** Replace an existing regular file at the output (default false: refuse before rendering). */
  overwrite?: boolean;
  /** A lane thread already started (see `startLaneEarly`); renderOne then owns it and ends it on every path. */
  lane?: PreparedLane;
}

/**
 * Starts the lane thread now, so that its start-up (a fresh thread loading its code, about 0.1 s)
 * runs on the other core while the main thread checks the request and the output; the model
 * loads only once they have passed (`renderOne`), and a command they stop cancels it cheaply.
 */
export function startLaneEarly(runner?: RunnerSpec): PreparedLane {
  return Lane.prepare(runner ?? defaultRunnerSpec(), 'generate');
}

export async function renderOne({ request, runner, signal, onProgress, onStart, overwrite = false, lane: early }: RenderOneOptions): Promise<GenerateResult> {
  const output = path.resolve(request.output);
  let stage: Awaited<ReturnType<typeof createStage>>;
  try {
    // Checked before any work: a device, folder or FIFO is never replaced, a file only when asked.
    await checkOutputTargets(renderTargets(output, request.saveLatent === true), { overwrite, folder: request.format === 'png' });
    await ensureWritableDir(path.dirname(output));
    await removeDeadStages(path.dirname(output)); // left by a run killed with SIGKILL
    if (signal?.aborted) throw new AbortedError();
    onStart?.(request);
    stage = await createStage(output);
  } catch (err) {
    await early?.cancel();
    throw err;
  }
  let lane: Lane | undefined;
  try {
    lane = await (early ? early.start() : Lane.start(runner ?? defaultRunnerSpec(), 'generate'));
    const result = await lane.generate({ ...request, output: stage.output }, { ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) });
    const moved = await commitStage(stage, output);
    const finalPath = (staged: string | null): string | null => (staged ? moved.get(path.basename(staged)) ?? null : null);
    return { ...result, output, sidecar: finalPath(result.sidecar), latent: finalPath(result.latent) };
  } catch (err) {
    await discardStage(stage);
    throw signal?.aborted ? new AbortedError() : err;
  } finally {
    // Closed, not terminated, even after Ctrl-C: by now its operation has stopped (or the lane has
    // ended the thread itself), and ending a thread whose decode worker is still inside onnxruntime
    // (creating its sessions, say) aborts the whole process.
    if (lane) await lane.close();
  }
}
