/** Messages between `VaeDecodeWorker` and the decode worker thread. */
import type { ExecutionProvider } from '../runtime/session.js';
import type { DecodedChunk } from '../models/wan/vae/chunk-decoder.js';
import type { TilingOptions } from './tiling.js';
import type { LatentFrameSize } from './decode-stream.js';

export interface DecodeWorkerInit {
  modelDir: string;
  intraOpThreads?: number;
  providers?: readonly ExecutionProvider[];
}

/**
 * Main → worker: a clip is `clip`, its `frame`s, then `clip-end` (sent when every chunk came
 * back, or early to stop: queued frames are dropped); `exit` ends the thread.
 */
export type WorkerRequest =
  | { type: 'clip'; size: LatentFrameSize; tiling?: TilingOptions }
  | { type: 'frame'; data: Float32Array }
  | { type: 'clip-end' }
  | { type: 'exit' };

/** Worker → main: `ready` once the sessions are loaded; per clip its `chunk`s, then `clip-done` or `error`. */
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'chunk'; chunk: DecodedChunk }
  | { type: 'clip-done' }
  | { type: 'error'; name: string; message: string };
