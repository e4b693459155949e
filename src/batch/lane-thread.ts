/**
 * Worker-thread side of a lane: holds one runner and runs one operation at a time. onnxruntime's
 * run() blocks the thread that calls it, so model work lives here and the main thread stays free
 * for progress, manifests, signals and (in queue workers) Redis lock renewal.
 */
import { parentPort } from 'node:worker_threads';
import { isUserFacingError } from './errors.js';
import type { FromThread, SerializedError, ToThread } from './lane-protocol.js';
import { loadRunner, preloadRunner } from './runner-module.js';
import type { Renderer, DenoisedJob, Progress } from './types.js';

const port = parentPort;
if (!port) throw new Error('lane-thread.ts must run inside a worker thread');

let runner: Renderer | undefined;
const controllers = new Map<number, AbortController>();

function send(message: FromThread, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function serialize(err: unknown): SerializedError {
  if (err instanceof Error) {
    return { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}), userFacing: isUserFacingError(err) };
  }
  return { name: 'Error', message: String(err), userFacing: false };
}

/** Move a latent's buffer instead of copying it when it owns the whole buffer. */
function latentTransfer(job: DenoisedJob): ArrayBuffer[] {
  const data = job.latent.data;
  const buffer = data.buffer;
  return buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buffer.byteLength ? [buffer] : [];
}

port.on('message', (message: ToThread) => {
  void handle(message);
});

async function handle(message: ToThread): Promise<void> {
  switch (message.type) {
    case 'preload':
      await preloadRunner(message.runner);
      return;
    case 'init':
      try {
        runner = await loadRunner(message.runner);
        send({ type: 'ready', ...(runner.stopGraceMs !== undefined && { stopGraceMs: runner.stopGraceMs }) });
      } catch (err) {
        send({ type: 'init-failed', error: serialize(err) });
      }
      return;
    case 'abort':
      controllers.get(message.id)?.abort();
      return;
    case 'close':
      await runner?.release?.();
      send({ type: 'closed' });
      port!.close();
      return;
    case 'run': {
      const controller = new AbortController();
      controllers.set(message.id, controller);
      const opts = {
        signal: controller.signal,
        onProgress: (progress: Progress) => send({ type: 'progress', id: message.id, progress }),
      };
      try {
        if (!runner) throw new Error('lane used before its runner was loaded');
        if (message.op === 'denoise') {
          const value = await runner.denoise(message.request, opts);
          send({ type: 'result', id: message.id, op: 'denoise', value }, latentTransfer(value));
        } else if (message.op === 'finish') {
          const value = await runner.finish(message.job, opts);
          send({ type: 'result', id: message.id, op: 'finish', value });
        } else if (runner.generate) {
          send({ type: 'result', id: message.id, op: 'generate', value: await runner.generate(message.request, opts) });
        } else {
          const job = await runner.denoise(message.request, opts);
          const finished = await runner.finish(job, opts);
          const value = { ...finished, timings: { ...job.timings, ...finished.timings } };
          send({ type: 'result', id: message.id, op: 'generate', value });
        }
      } catch (err) {
        send({ type: 'error', id: message.id, error: serialize(err) });
      } finally {
        controllers.delete(message.id);
      }
      return;
    }
  }
}
