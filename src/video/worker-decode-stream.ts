/**
 * `decodeStream` with the decoder on a worker thread. While the consumer encodes chunk i
 * (ffmpeg gets fed by this thread's event loop), the worker already decodes latent frame
 * i+1. At most two chunks are in flight, so memory stays bounded by the chunk size.
 * A `VaeDecodeWorker` loads its sessions once and decodes clip after clip.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../runtime/worker.js';
import type { DecodedChunk } from '../models/wan/vae/chunk-decoder.js';
import type { ExecutionProvider } from '../runtime/session.js';
import type { LatentFrameSize, LatentFrames } from './decode-stream.js';
import type { TilingOptions } from './tiling.js';
import type { DecodeWorkerInit, WorkerReply, WorkerRequest } from './worker-protocol.js';

export class VaeDecodeWorkerError extends Error {
  override readonly name = 'VaeDecodeWorkerError';
}

export interface WorkerDecodeOptions {
  /** onnxruntime threads inside the worker (default 2). */
  intraOpThreads?: number;
  /** Execution providers of the decoder sessions (default ['cpu']). */
  providers?: readonly ExecutionProvider[];
}

export interface ClipOptions {
  tiling?: TilingOptions;
}

function startWorker(init: DecodeWorkerInit): Worker {
  return startModuleWorker(new URL('./decode-worker.js', import.meta.url), { workerData: init });
}

/** Messages from the worker as an awaitable queue; worker errors and exits become failures. */
class Inbox {
  private readonly messages: WorkerReply[] = [];
  private waiting: ((m: WorkerReply) => void) | null = null;

  push(m: WorkerReply): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(m);
    } else this.messages.push(m);
  }

  next(): Promise<WorkerReply> {
    const m = this.messages.shift();
    return m ? Promise.resolve(m) : new Promise((resolve) => { this.waiting = resolve; });
  }
}

async function* toAsync(frames: LatentFrames): AsyncGenerator<Float32Array> {
  yield* frames;
}

/**
 * A decode worker thread with the decoder's sessions loaded, for clip after clip: started ahead
 * of its first latent, it loads (about a quarter of a second for the demo VAE) while the caller
 * still denoises, and later clips pay no start-up at all. Clips decode one at a time. It keeps the
 * process alive only while it decodes; `stop` ends it, and a worker that failed is `broken`
 * (start another).
 */
export class VaeDecodeWorker {
  private readonly inbox = new Inbox();
  private finished = false;
  private ready = false;
  private failed = false;
  private busy: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: WorkerReply) => this.inbox.push(m));
    worker.on('error', (e: Error) => this.inbox.push({ type: 'error', name: e.name, message: e.message }));
    worker.on('exit', (code) => {
      this.failed ||= !this.finished;
      if (!this.finished) this.inbox.push({ type: 'error', name: 'Exit', message: `decode worker exited (code ${code})` });
    });
    worker.unref();
  }

  static start(modelDir: string, options: WorkerDecodeOptions = {}): VaeDecodeWorker {
    return new VaeDecodeWorker(startWorker({ modelDir, intraOpThreads: options.intraOpThreads, providers: options.providers }));
  }

  /** True once it failed or was stopped: it decodes nothing more. */
  get broken(): boolean {
    return this.failed || this.finished;
  }

  private async expect(): Promise<WorkerReply> {
    const m = await this.inbox.next();
    if (m.type === 'error') {
      this.failed = true;
      throw new VaeDecodeWorkerError(`VAE decode failed in the worker: ${m.name}: ${m.message}`);
    }
    return m;
  }

  /** Decodes one clip; a second clip waits until this one is done. */
  async *decode(frames: LatentFrames, size: LatentFrameSize, options: ClipOptions = {}): AsyncGenerator<DecodedChunk> {
    const previous = this.busy;
    let done!: () => void;
    this.busy = new Promise((resolve) => (done = resolve));
    await previous;
    this.worker.ref(); // a pending decode keeps the process alive
    try {
      if (this.broken) throw new VaeDecodeWorkerError('the VAE decode worker has stopped; start another');
      if (!this.ready) {
        await this.expect();
        this.ready = true;
      }
      yield* this.clip(frames, size, options);
    } finally {
      if (!this.finished) this.worker.unref();
      done();
    }
  }

  private async *clip(frames: LatentFrames, size: LatentFrameSize, options: ClipOptions): AsyncGenerator<DecodedChunk> {
    this.worker.postMessage({ type: 'clip', size, tiling: options.tiling } satisfies WorkerRequest);
    let ended = false;
    try {
      const source = toAsync(frames);
      let inFlight = 0;
      let exhausted = false;
      const send = async (): Promise<void> => {
        const r = await source.next();
        if (r.done) { exhausted = true; return; }
        this.worker.postMessage({ type: 'frame', data: r.value } satisfies WorkerRequest);
        inFlight++;
      };
      // Two frames in flight: the worker moves on to the next frame as soon as one chunk is out.
      await send();
      if (!exhausted) await send();
      while (inFlight > 0) {
        const m = await this.expect();
        if (m.type !== 'chunk') continue;
        inFlight--;
        if (!exhausted) await send();
        yield m.chunk;
      }
      this.worker.postMessage({ type: 'clip-end' } satisfies WorkerRequest);
      ended = true;
      while ((await this.expect()).type !== 'clip-done');
    } finally {
      // Stopped early (the consumer broke off or failed): the worker drops the queued frames and
      // finishes the one it is decoding; wait for that so the next clip starts clean.
      if (!ended && !this.failed) {
        this.worker.postMessage({ type: 'clip-end' } satisfies WorkerRequest);
        try {
          while ((await this.expect()).type !== 'clip-done');
        } catch {
          // failed: `broken` says so
        }
      }
    }
  }

  stop(): Promise<void> {
    this.finished = true;
    this.worker.ref(); // a stopping worker may still be inside run(): the process waits for it
    this.stopping ??= stopWorker(this.worker);
    return this.stopping;
  }
}

/** One clip on a worker of its own, stopped when the clip is done. */
export async function* decodeStreamInWorker(modelDir: string, frames: LatentFrames, size: LatentFrameSize, options: WorkerDecodeOptions & ClipOptions = {}): AsyncGenerator<DecodedChunk> {
  const worker = VaeDecodeWorker.start(modelDir, options);
  try {
    yield* worker.decode(frames, size, options);
  } finally {
    await worker.stop();
  }
}

/** How long a stopping decode worker may take to finish the frame it is decoding. */
const STOP_GRACE_MS = 120_000;

/**
 * Ask the worker to stop and wait until it has: terminating a thread while onnxruntime is inside
 * run() aborts the whole process (`terminate called after throwing an instance of
 * 'Napi::Error'`), so an early stop (Ctrl-C, an encoder failure) lets the current frame finish.
 */
async function stopWorker(worker: Worker): Promise<void> {
  if (worker.threadId === -1) return; // already exited
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  try {
    worker.postMessage({ type: 'exit' } satisfies WorkerRequest);
  } catch {
    // already gone
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), STOP_GRACE_MS); });
  const outcome = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (outcome === 'late') await worker.terminate();
}
