/**
 * Worker-thread side of `VaeDecodeWorker`. onnxruntime's `run()` blocks the thread it runs on,
 * so decoding here keeps the main thread free to pump frames into ffmpeg (and to report
 * progress) while the next chunk decodes. The sessions load once and serve clip after clip.
 *
 * Protocol (worker-protocol.ts): per clip `clip`, `frame`s, `clip-end`; `exit` to stop. The
 * frames go through `decodeStream`, the same (tiled or whole-frame) loop as in-process decoding.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { VaeChunkDecoder } from '../models/wan/vae/chunk-decoder.js';
import { decodeStream } from './decode-stream.js';
import type { DecodeWorkerInit, WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('decode-worker must run in a worker thread');
const init = workerData as DecodeWorkerInit;

/** Latent frames as they arrive from the main thread, ended by its `clip-end` message. */
class FrameChannel implements AsyncIterable<Float32Array> {
  private readonly frames: Float32Array[] = [];
  private ended = false;
  private wake: (() => void) | null = null;

  push(frame: Float32Array): void {
    this.frames.push(frame);
    this.notify();
  }

  /**
   * `clip-end` comes only when the consumer is done (all chunks received) or stopping early
   * (Ctrl-C, an encoder failure): frames still queued are dropped, so a stop during decoding
   * waits for at most the frame being decoded (issue 18).
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
  // Messages come in order: a clip's frames arrive after its `clip` and before its `clip-end`.
  let frames: FrameChannel | null = null;
  let clip: Promise<void> = Promise.resolve();
  const decodeClip = async (request: Extract<WorkerRequest, { type: 'clip' }>, channel: FrameChannel): Promise<void> => {
    try {
      for await (const chunk of decodeStream(decoder, channel, request.size, { tiling: request.tiling })) {
        // Copy into an exactly-sized buffer so it can be transferred without sharing ORT memory.
        const data = chunk.data.byteOffset === 0 && chunk.data.buffer.byteLength === chunk.data.byteLength ? chunk.data : chunk.data.slice();
        reply({ type: 'chunk', chunk: { ...chunk, data, zUnscaled: undefined, conv2Out: undefined } }, [data.buffer as ArrayBuffer]);
      }
      reply({ type: 'clip-done' });
    } catch (e) {
      const err = e as Error;
      reply({ type: 'error', name: err.name, message: err.message });
    }
  };
  port!.on('message', (msg: WorkerRequest) => {
    switch (msg.type) {
      case 'clip': {
        const channel = new FrameChannel();
        frames = channel;
        clip = clip.then(() => decodeClip(msg, channel));
        return;
      }
      case 'frame':
        frames?.push(msg.data);
        return;
      case 'clip-end':
        frames?.end();
        frames = null;
        return;
      case 'exit':
        frames?.end();
        void clip.then(async () => {
          await decoder.release();
          port!.close();
        });
    }
  });
  reply({ type: 'ready' });
}

main().catch((e: Error) => port.postMessage({ type: 'error', name: e.name, message: e.message } satisfies WorkerReply));
