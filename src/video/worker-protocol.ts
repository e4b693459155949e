/** Messages between `decodeStreamInWorker` and the decode worker. */
import type { ExecutionProvider } from '../runtime/session.js';
import type { DecodedChunk } from '../models/wan/vae/chunk-decoder.js';
import type { TilingOptions } from './tiling.js';

export interface DecodeWorkerInit {
  modelDir: string;
  size: { height: number; width: number };
  tiling?: TilingOptions;
  intraOpThreads?: number;
  providers?: readonly ExecutionProvider[];
}

export type WorkerRequest = { type: 'frame'; data: Float32Array } | { type: 'end' };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'chunk'; chunk: DecodedChunk }
  | { type: 'error'; name: string; message: string };
