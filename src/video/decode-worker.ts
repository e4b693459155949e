/**
 * Worker-thread side of `decodeStreamInWorker`. onnxruntime's `run()` blocks the thread it
 * runs on, so decoding here keeps the main thread free to pump frames into ffmpeg (and to
 * report progress) while the next chunk decodes.
 *
 * Protocol (main → worker): `init`, then one `frame` per latent frame, then `end`. The
 * frames go through `decodeStream`, the same (tiled or whole-frame) loop as in-process decoding.
 * Worker → main: `ready`, one `chunk` per frame (data buffer transferred), `error`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { VaeChunkDecoder } from '../models/wan/vae/chunk-decoder.js';
import { decodeStream } from './decode-stream.js';
import type { DecodeWorkerInit, WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('decode-worker must run in a worker thread');
const init = workerData as DecodeWorkerInit;

/** Latent frames as they arrive from the main thread, ended by its `end` message. */
class FrameChannel implements AsyncIterable<Float32Array> {
  private readonly frames: Float32Array[] = [];
  private ended = false;
  private wake: (() => void) | null = null;

  push(frame: Float32Array): void {
    this.frames.push(frame);
    this.notify();
  }

  /**
   * `end` comes only when the consumer is done (all chunks received) or stopping early (Ctrl-C,
   * an encoder failure): frames still queued are dropped, so a stop during decoding waits for
   * at most the frame being decoded (issue 18).
   */
  end(): void {
    this.frames.length = 0;
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Float32Array> {
    for (;;) {
      const frame = this.frames.shift();
      if (frame) yield frame;
      else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

async function main(): Promise<void> {
  const decoder = await VaeChunkDecoder.load(init.modelDir, { intraOpThreads: init.intraOpThreads, providers: init.providers });
  const reply = (msg: WorkerReply, transfer: ArrayBuffer[] = []): void => port!.postMessage(msg, transfer);
  // Frames are decoded strictly in order by the same loop as in-process decoding (decodeStream).
  const frames = new FrameChannel();
  port!.on('message', (msg: WorkerRequest) => (msg.type === 'end' ? frames.end() : frames.push(msg.data)));
  reply({ type: 'ready' });
  try {
    for await (const chunk of decodeStream(decoder, frames, init.size, { tiling: init.tiling })) {
      // Copy into an exactly-sized buffer so it can be transferred without sharing ORT memory.
      const data = chunk.data.byteOffset === 0 && chunk.data.buffer.byteLength === chunk.data.byteLength ? chunk.data : chunk.data.slice();
      reply({ type: 'chunk', chunk: { ...chunk, data, zUnscaled: undefined, conv2Out: undefined } }, [data.buffer as ArrayBuffer]);
    }
  } catch (e) {
    const err = e as Error;
    reply({ type: 'error', name: err.name, message: err.message });
  }
  await decoder.release();
  port!.close();
}

main().catch((e: Error) => port.postMessage({ type: 'error', name: e.name, message: e.message } satisfies WorkerReply));
