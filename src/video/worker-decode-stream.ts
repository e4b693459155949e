/**
 * `decodeStream` with the decoder on a worker thread. While the consumer encodes chunk i
 * (ffmpeg gets fed by this thread's event loop), the worker already decodes latent frame
 * i+1. At most two chunks are in flight, so memory stays bounded by the chunk size.
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
  tiling?: TilingOptions;
  /** onnxruntime threads inside the worker (default 2). */
  intraOpThreads?: number;
  /** Execution providers of the decoder sessions (default ['cpu']). */
  providers?: readonly ExecutionProvider[];
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
 * A decode worker started ahead of its latent: the thread starts and loads the decoder sessions
 * (about a quarter of a second for the demo VAE) while the caller still denoises, so the decode
 * that follows starts at once. `decode` may run once; it stops the worker when it ends, and
 * `stop` does so for a worker that never decodes (a failed or cancelled denoise).
 */
export class VaeDecodeWorker {
  private readonly inbox = new Inbox();
  private finished = false;
  private used = false;
  private stopping: Promise<void> | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: WorkerReply) => this.inbox.push(m));
    worker.on('error', (e: Error) => this.inbox.push({ type: 'error', name: e.name, message: e.message }));
    worker.on('exit', (code) => { if (!this.finished) this.inbox.push({ type: 'error', name: 'Exit', message: `decode worker exited (code ${code})` }); });
  }

  static start(modelDir: string, size: LatentFrameSize, options: WorkerDecodeOptions = {}): VaeDecodeWorker {
    return new VaeDecodeWorker(startWorker({ modelDir, size, tiling: options.tiling, intraOpThreads: options.intraOpThreads, providers: options.providers }));
  }

  private async expect(): Promise<WorkerReply> {
    const m = await this.inbox.next();
    if (m.type === 'error') throw new VaeDecodeWorkerError(`VAE decode failed in the worker: ${m.name}: ${m.message}`);
    return m;
  }

  async *decode(frames: LatentFrames): AsyncGenerator<DecodedChunk> {
    if (this.used) throw new VaeDecodeWorkerError('a decode worker decodes one clip; start another for the next one');
    this.used = true;
    try {
      await this.expect(); // ready
      const source = toAsync(frames);
      let inFlight = 0;
      let exhausted = false;
      const send = async (): Promise<void> => {
        const r = await source.next();
        if (r.done) { exhausted = true; return; }
        this.worker.postMessage({ type: 'frame', data: r.value });
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
    } finally {
      await this.stop();
    }
  }

  stop(): Promise<void> {
    this.finished = true;
    this.stopping ??= stopWorker(this.worker);
    return this.stopping;
  }
}

export function decodeStreamInWorker(modelDir: string, frames: LatentFrames, size: LatentFrameSize, options: WorkerDecodeOptions = {}): AsyncGenerator<DecodedChunk> {
  return VaeDecodeWorker.start(modelDir, size, options).decode(frames);
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
    worker.postMessage({ type: 'end' } satisfies WorkerRequest);
  } catch {
    // already gone
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), STOP_GRACE_MS); });
  const outcome = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (outcome === 'late') await worker.terminate();
}
