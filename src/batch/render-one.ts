/**
 * One generation off the main thread: the model runs in a lane thread (so Ctrl-C and progress
 * drawing stay responsive while onnxruntime blocks its thread), writes into a staging folder,
 * and only a complete result is renamed to the requested output path.
 */
import path from 'node:path';
import { checkOutputTargets, renderTargets } from '../io/safe-output.js';
import { AbortedError } from './errors.js';
import { Lane } from './lane.js';
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
  /** A lane already starting (see `startLaneEarly`); renderOne then owns it and stops it on every path. */
  lane?: EarlyLane;
}

/** A lane thread started ahead of the checks that decide whether it is needed. */
export interface EarlyLane {
  readonly lane: Promise<Lane>;
  /** Stop it (once started), for a command that ends before rendering. */
  cancel(): Promise<void>;
}

/**
 * Starts the lane thread now, so that its start-up (a fresh thread loading its modules, about
 * 0.1 s) runs on the other core while the main thread checks the request and the output.
 */
export function startLaneEarly(runner?: RunnerSpec): EarlyLane {
  const lane = Lane.start(runner ?? defaultRunnerSpec(), 'generate');
  lane.catch(() => undefined); // its error surfaces where it is awaited, if it ever is
  return { lane, cancel: () => lane.then((l) => l.close(), () => undefined) };
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
    lane = await (early?.lane ?? Lane.start(runner ?? defaultRunnerSpec(), 'generate'));
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
