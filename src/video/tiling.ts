/**
 * Spatial tiling for the streaming decoder. The latent frame is cut into equal, overlapping
 * tiles; each tile is decoded with its own causal caches, and the decoded tiles are blended
 * with linear ramps across every overlap (weights normalised, so two overlapping tiles mix as
 * (1 − t)·a + t·b). Peak activation memory then follows the tile size, not the frame size.
 * The caches of all tiles together still cover the frame (plus the overlaps).
 */
import type { DecodedChunk, VaeChunkDecoder, VaeDecodeState } from '../models/wan/vae/chunk-decoder.js';

export interface TilingOptions {
  /** Tile size in latent pixels (×8 in the output). */
  tileHeight: number;
  tileWidth: number;
  /** Minimum overlap between neighbouring tiles, in latent pixels. */
  overlap: number;
}

export interface Tile {
  y: number;
  x: number;
  height: number;
  width: number;
}

export interface TileLayout {
  tiles: Tile[];
  /** Tile starts per axis (latent pixels); tiles are the grid product of these. */
  ys: number[];
  xs: number[];
  tileHeight: number;
  tileWidth: number;
}

export class TilingError extends Error {
  override readonly name = 'TilingError';
}

/** Evenly spread starts of tiles of `tile` pixels covering `length` with at least `overlap` shared. */
export function tileStarts(length: number, tile: number, overlap: number): number[] {
  if (tile >= length) return [0];
  if (overlap >= tile) throw new TilingError(`tiling: overlap ${overlap} must be smaller than the tile (${tile}).`);
  const count = Math.ceil((length - overlap) / (tile - overlap));
  return Array.from({ length: count }, (_, k) => Math.round((k * (length - tile)) / (count - 1)));
}

export function planTiles(size: { height: number; width: number }, options: TilingOptions): TileLayout {
  const { tileHeight, tileWidth, overlap } = options;
  if (!(tileHeight > 0 && tileWidth > 0 && overlap >= 0)) throw new TilingError('tiling: tile sizes must be positive and the overlap non-negative.');
  const th = Math.min(tileHeight, size.height);
  const tw = Math.min(tileWidth, size.width);
  const ys = tileStarts(size.height, th, overlap);
  const xs = tileStarts(size.width, tw, overlap);
  const tiles: Tile[] = [];
  for (const y of ys) for (const x of xs) tiles.push({ y, x, height: th, width: tw });
  return { tiles, ys, xs, tileHeight: th, tileWidth: tw };
}

/**
 * Blend weights along one axis for the tile starting at `starts[k]` (output pixels): 1 in its
 * own part, a linear ramp across each overlap with a neighbour, the neighbour's complement.
 */
export function axisWeights(starts: number[], k: number, tile: number): Float32Array {
  const w = new Float32Array(tile).fill(1);
  const start = starts[k];
  if (k > 0) {
    const overlap = starts[k - 1] + tile - start; // shared with the previous tile
    for (let i = 0; i < overlap; i++) w[i] = Math.min(w[i], (i + 0.5) / overlap);
  }
  if (k < starts.length - 1) {
    const overlap = start + tile - starts[k + 1]; // shared with the next tile
    for (let i = 0; i < overlap; i++) w[tile - overlap + i] = Math.min(w[tile - overlap + i], 1 - (i + 0.5) / overlap);
  }
  return w;
}

function cropLatent(frame: Float32Array, channels: number, height: number, width: number, tile: Tile): Float32Array {
  const out = new Float32Array(channels * tile.height * tile.width);
  for (let c = 0; c < channels; c++) for (let y = 0; y < tile.height; y++) {
    const src = (c * height + tile.y + y) * width + tile.x;
    out.set(frame.subarray(src, src + tile.width), (c * tile.height + y) * tile.width);
  }
  return out;
}

/** Decodes one latent frame tile by tile (advancing every tile's state) and blends the result. */
export async function decodeTiledFrame(
  decoder: VaeChunkDecoder,
  states: VaeDecodeState[],
  layout: TileLayout,
  frame: Float32Array,
  size: { height: number; width: number },
  channels: number,
): Promise<Omit<DecodedChunk, 'latentIndex' | 'firstFrame'>> {
  const s = decoder.spatialScale;
  const outH = size.height * s;
  const outW = size.width * s;
  const tileH = layout.tileHeight * s;
  const tileW = layout.tileWidth * s;
  const ysPx = layout.ys.map((y) => y * s);
  const xsPx = layout.xs.map((x) => x * s);
  let data: Float32Array | null = null;
  let frames = 0;
  const weightSum = new Float32Array(outH * outW);
  for (let t = 0; t < layout.tiles.length; t++) {
    const tile = layout.tiles[t];
    const chunk = await states[t].decode(cropLatent(frame, channels, size.height, size.width, tile), tile.height, tile.width);
    if (!data) {
      frames = chunk.frames;
      data = new Float32Array(3 * frames * outH * outW);
    }
    const wy = axisWeights(ysPx, layout.ys.indexOf(tile.y), tileH);
    const wx = axisWeights(xsPx, layout.xs.indexOf(tile.x), tileW);
    const oy = tile.y * s;
    const ox = tile.x * s;
    for (let y = 0; y < tileH; y++) for (let x = 0; x < tileW; x++) weightSum[(oy + y) * outW + ox + x] += wy[y] * wx[x];
    for (let c = 0; c < 3; c++) for (let f = 0; f < frames; f++) {
      const src = (c * frames + f) * tileH * tileW;
      const dst = (c * frames + f) * outH * outW;
      for (let y = 0; y < tileH; y++) {
        const row = dst + (oy + y) * outW + ox;
        for (let x = 0; x < tileW; x++) data[row + x] += chunk.data[src + y * tileW + x] * wy[y] * wx[x];
      }
    }
  }
  if (!data) throw new TilingError('tiling: no tiles to decode.');
  for (let c = 0; c < 3 * frames; c++) {
    const base = c * outH * outW;
    for (let p = 0; p < outH * outW; p++) data[base + p] /= weightSum[p];
  }
  return { frames, height: outH, width: outW, data };
}
