/**
 * Latent → video file in one call: the VAE decodes on a worker thread, one latent frame at a
 * time, and each chunk is encoded while the next one decodes (step 5 of a generation).
 */
import type { Latent } from '../core/types.js';
import { latentFrames } from './decode-stream.js';
import { encodeChunks, type EncodeChunksOptions, type VideoEncodeResult } from './encode.js';
import { decodeStreamInWorker, type ClipOptions, type WorkerDecodeOptions } from './worker-decode-stream.js';

export interface RenderOptions extends EncodeChunksOptions, WorkerDecodeOptions, ClipOptions {}

/** Decodes `latent` (C, F, H, W, DiT space) with the converted VAE in `vaeDir` and writes the video. */
export function renderLatentToVideo(vaeDir: string, latent: Latent, options: RenderOptions): Promise<VideoEncodeResult> {
  const { tiling, intraOpThreads, ...encode } = options;
  const [, , height, width] = latent.shape;
  return encodeChunks(decodeStreamInWorker(vaeDir, latentFrames(latent), { height, width }, { tiling, intraOpThreads }), encode);
}
