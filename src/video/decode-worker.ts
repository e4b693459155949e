/**
 * Worker-thread side of `decodeStreamInWorker`. onnxruntime's `run()` blocks the thread it
 * runs on, so decoding here keeps the main thread free to pump frames into ffmpeg (and to
 * report progress) while the next chunk decodes.
 *
 * Protocol (main → worker): `init`, then one `frame` per latent frame, then `end`.
 * Worker → main: `ready`, one `chunk` per frame (data buffer transferred), `error`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { VaeChunkDecoder, type DecodedChunk, type VaeDecodeState } from '../models/wan/vae/chunk-decoder.js';
import { decodeTiledFrame, planTiles, type TileLayout } from './tiling.js';
import type { DecodeWorkerInit, WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('decode-worker must run in a worker thread');
const init = workerData as DecodeWorkerInit;

async function main(): Promise<void> {
  const decoder = await VaeChunkDecoder.load(init.modelDir, { intraOpThreads: init.intraOpThreads, providers: init.providers });
  const layout: TileLayout | null = init.tiling ? planTiles(init.size, init.tiling) : null;
  const tiled = layout !== null && layout.tiles.length > 1;
  const states: VaeDecodeState[] = tiled ? layout.tiles.map(() => decoder.open()) : [decoder.open()];
  let latentIndex = 0;
  let firstFrame = 0;
  const reply = (msg: WorkerReply, transfer: ArrayBuffer[] = []): void => port!.postMessage(msg, transfer);
  // Frames are handled strictly in order; the queue keeps a message that arrives mid-decode.
  let queue = Promise.resolve();
  port!.on('message', (msg: WorkerRequest) => {
    queue = queue.then(async () => {
      if (msg.type === 'end') {
        await decoder.release();
        port!.close();
        return;
      }
      try {
        let chunk: DecodedChunk;
        if (tiled) {
          const part = await decodeTiledFrame(decoder, states, layout!, msg.data, init.size, decoder.latentChannels);
          chunk = { ...part, latentIndex, firstFrame };
        } else {
          chunk = await states[0].decode(msg.data, init.size.height, init.size.width);
        }
        latentIndex++;
        firstFrame += chunk.frames;
        // Copy into an exactly-sized buffer so it can be transferred without sharing ORT memory.
        const data = chunk.data.byteOffset === 0 && chunk.data.buffer.byteLength === chunk.data.byteLength ? chunk.data : chunk.data.slice();
        reply({ type: 'chunk', chunk: { ...chunk, data, zUnscaled: undefined, conv2Out: undefined } }, [data.buffer as ArrayBuffer]);
      } catch (e) {
        const err = e as Error;
        reply({ type: 'error', name: err.name, message: err.message });
      }
    });
  });
  reply({ type: 'ready' });
}

main().catch((e: Error) => port.postMessage({ type: 'error', name: e.name, message: e.message } satisfies WorkerReply));
