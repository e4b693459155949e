/**
 * Streaming VAE decode: latent frames go in one at a time and each chunk of RGB frames
 * (1 for the first latent frame, 4 for each later one) comes out as soon as it is decoded.
 * Only the causal caches and the current chunk are alive, so memory does not grow with the
 * clip length. The latent can be a whole `Latent` or any (async) iterable of frames, e.g.
 * frames arriving from another process.
 *
 * This decodes on the calling thread, and onnxruntime blocks it during each chunk, so an
 * ffmpeg pipe fed from this thread only drains between chunks. To overlap decoding with
 * encoding use `decodeStreamInWorker` (same chunks, decoder on a worker thread).
 */
import type { Latent } from '../core/types.js';
import type { DecodedChunk, VaeChunkDecoder } from '../models/wan/vae/chunk-decoder.js';
import { decodeTiledFrame, planTiles, type TileLayout, type TilingOptions } from './tiling.js';

/** Latent frames (zDim, h, w) in DiT (normalised) space. */
export type LatentFrames = Iterable<Float32Array> | AsyncIterable<Float32Array>;

export interface LatentFrameSize {
  height: number;
  width: number;
}

export interface DecodeStreamOptions {
  /** Decode in overlapping spatial tiles, each with its own caches (for frames too big for one chunk). */
  tiling?: TilingOptions;
}

/** Frame `f` of a (C, F, H, W) latent, copied to (C, H, W). */
export function latentFrame(latent: Latent, f: number): Float32Array {
  const [c, frames, h, w] = latent.shape;
  if (f < 0 || f >= frames) throw new RangeError(`latent frame ${f} outside 0..${frames - 1}`);
  const plane = h * w;
  const out = new Float32Array(c * plane);
  for (let ch = 0; ch < c; ch++) out.set(latent.data.subarray((ch * frames + f) * plane, (ch * frames + f + 1) * plane), ch * plane);
  return out;
}

/** Yields the frames of a latent one by one (each copied only when asked for). */
export function* latentFrames(latent: Latent): Generator<Float32Array> {
  for (let f = 0; f < latent.shape[1]; f++) yield latentFrame(latent, f);
}

/** Number of RGB frames a latent of `latentFrames` frames decodes to: 1 + 4·(F − 1). */
export function videoFrameCount(latentFrameCount: number, temporalScale = 4): number {
  return latentFrameCount > 0 ? 1 + temporalScale * (latentFrameCount - 1) : 0;
}

/**
 * Decodes latent frames as they arrive and yields one chunk per latent frame. Chunks are
 * planar (3, frames, H·8, W·8), raw decoder output (clamp when converting to pixels).
 */
export async function* decodeStream(decoder: VaeChunkDecoder, frames: LatentFrames, size: LatentFrameSize, options: DecodeStreamOptions = {}): AsyncGenerator<DecodedChunk> {
  if (options.tiling) {
    const layout = planTiles(size, options.tiling);
    if (layout.tiles.length > 1) {
      yield* decodeTiled(decoder, frames, size, layout);
      return;
    }
  }
  const state = decoder.open();
  for await (const frame of frames) yield await state.decode(frame, size.height, size.width);
}

async function* decodeTiled(decoder: VaeChunkDecoder, frames: LatentFrames, size: LatentFrameSize, layout: TileLayout): AsyncGenerator<DecodedChunk> {
  const states = layout.tiles.map(() => decoder.open());
  let latentIndex = 0;
  let firstFrame = 0;
  for await (const frame of frames) {
    const chunk = await decodeTiledFrame(decoder, states, layout, frame, size, decoder.latentChannels);
    yield { ...chunk, latentIndex: latentIndex++, firstFrame };
    firstFrame += chunk.frames;
  }
}
