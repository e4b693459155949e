/**
 * A lane: one runner living in its own worker thread, driven from the main thread. Batch
 * rendering uses two (denoise and finish) so the next job's denoising overlaps the previous
 * job's decode and encode; queue workers use one so Redis lock renewal is never starved.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../runtime/worker.js';
import { AbortedError, RemoteError } from './errors.js';
import type { FromThread, SerializedError, ToThread } from './lane-protocol.js';
import type { Renderer, DenoisedJob, GenerateRequest, GenerateResult, Progress, RunOptions, RunnerSpec } from './types.js';

/**
 * How long an aborted operation may take to notice its signal before the thread is terminated,
 * unless the runner says otherwise (`Renderer.stopGraceMs`: the pipeline, whose onnxruntime calls
 * cannot be interrupted and must not have their thread ended under them, waits minutes).
 */
const DEFAULT_STOP_GRACE_MS = 1500;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?: (p: Progress) => void;
}

/** Start the lane thread (from the TypeScript sources through tsx, see runtime/worker.ts). */
function startThread(name: string): Worker {
  return startModuleWorker(new URL('./lane-thread.js', import.meta.url), { name });
}

function rebuild(error: SerializedError): Error {
  return new RemoteError(error.name, error.message, error.userFacing, error.stack);
}

/** A lane thread started ahead of its runner (see `Lane.prepare`); use exactly one of the two. */
export interface PreparedLane {
  /** Load the runner in the thread and hand over the lane. */
  start(): Promise<Lane>;
  /** End the thread without loading the runner. */
  cancel(): Promise<void>;
}

export class Lane implements Renderer {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | undefined;
  private closing = false;

  private constructor(
    readonly name: string,
    private readonly worker: Worker,
    /** How long an aborted operation may take to stop before the thread is ended (the runner's say). */
    readonly stopGraceMs: number,
  ) {
    worker.on('message', (message: FromThread) => this.onMessage(message));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`${this.name} lane thread exited unexpectedly (code ${code})`));
    });
  }

  /** Start a thread and load the runner in it; rejects with the runner's own error if loading fails. */
  static start(runner: RunnerSpec, name = 'render'): Promise<Lane> {
    return Lane.init(startThread(`diffsparse-${name}`), runner, name);
  }

  /**
   * Start the thread now and let it import the runner's code, but load the runner (its model)
   * only on `start()`: the thread's start-up overlaps checks that may still stop the command,
   * and `cancel()` then ends it cheaply, before any model work.
   */
  static prepare(runner: RunnerSpec, name = 'render'): PreparedLane {
    const worker = startThread(`diffsparse-${name}`);
    let failed: Error | undefined;
    const onError = (err: Error): void => void (failed ??= err);
    const onExit = (code: number): void => void (failed ??= new Error(`${name} lane thread exited while starting (code ${code})`));
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage({ type: 'preload', runner } satisfies ToThread);
    let used = false;
    const detach = (): void => {
      used = true;
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    return {
      start: () => {
        if (used) return Promise.reject(new Error(`${name} lane was already started or cancelled`));
        detach();
        return failed ? Promise.reject(failed) : Lane.init(worker, runner, name);
      },
      cancel: async () => {
        if (used) return;
        detach();
        if (failed) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 5000);
          worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          worker.postMessage({ type: 'close' } satisfies ToThread);
        });
      },
    };
  }

  private static async init(worker: Worker, runner: RunnerSpec, name: string): Promise<Lane> {
    const stopGraceMs = await new Promise<number>((resolve, reject) => {
      const onMessage = (message: FromThread): void => {
        if (message.type === 'ready') resolve(message.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
        else if (message.type === 'init-failed') {
          void worker.terminate();
          reject(rebuild(message.error));
        }
      };
      worker.once('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`${name} lane thread exited while starting (code ${code})`)));
      worker.postMessage({ type: 'init', runner } satisfies ToThread);
    });
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    return new Lane(name, worker, stopGraceMs);
  }

  denoise(request: GenerateRequest, opts: RunOptions = {}): Promise<DenoisedJob> {
    return this.call({ type: 'run', id: 0, op: 'denoise', request }, opts) as Promise<DenoisedJob>;
  }

  finish(job: DenoisedJob, opts: RunOptions = {}): Promise<GenerateResult> {
    const data = job.latent.data;
    const transfer =
      data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? [data.buffer] : [];
    return this.call({ type: 'run', id: 0, op: 'finish', job }, opts, transfer) as Promise<GenerateResult>;
  }

  /** Denoise and finish inside the thread, without shipping the latent back and forth. */
  generate(request: GenerateRequest, opts: RunOptions = {}): Promise<GenerateResult> {
    return this.call({ type: 'run', id: 0, op: 'generate', request }, opts) as Promise<GenerateResult>;
  }

  /** Start `count` lanes; if any fails to start, the others are stopped and the first error is thrown. */
  static async startMany(runner: RunnerSpec, names: string[]): Promise<Lane[]> {
    const results = await Promise.allSettled(names.map((name) => Lane.start(runner, name)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const lanes = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (failed) {
      await Promise.all(lanes.map((lane) => lane.terminate()));
      throw failed.reason;
    }
    return lanes;
  }

  async close(): Promise<void> {
    if (this.dead || this.closing) return;
    this.closing = true;
    await new Promise<void>((resolve) => {
      // The thread handles 'close' after its current operation (a queue worker's shutdown closes
      // lanes whose aborted job is still finishing a block): give it the runner's stop grace.
      const timer = setTimeout(() => void this.worker.terminate().then(() => resolve()), Math.max(5000, this.stopGraceMs));
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.worker.postMessage({ type: 'close' } satisfies ToThread);
    });
  }

  /** Stop the thread now, whatever it is doing. */
  async terminate(): Promise<void> {
    this.closing = true;
    this.fail(new AbortedError());
    await this.worker.terminate();
  }

  private call(message: ToThread & { type: 'run' }, opts: RunOptions, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    if (opts.signal?.aborted) return Promise.reject(new AbortedError());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.worker.postMessage({ type: 'abort', id } satisfies ToThread);
        // A runner that has not stopped by then is stuck: end the thread.
        setTimeout(() => {
          if (this.pending.has(id)) void this.terminate();
        }, this.stopGraceMs).unref();
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => opts.signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (v) => (settle(), resolve(v)),
        reject: (e) => (settle(), reject(e)),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  private onMessage(message: FromThread): void {
    if (message.type === 'progress') {
      this.pending.get(message.id)?.onProgress?.(message.progress);
    }
    else if (message.type === 'result' || message.type === 'error') {
      const entry = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.type === 'result') entry?.resolve(message.value);
      else entry?.reject(rebuild(message.error));
    }
  }

  private fail(err: Error): void {
    this.dead ??= err;
    for (const entry of this.pending.values()) entry.reject(err);
    this.pending.clear();
  }
}
