/**
 * Latents on disk as `.npy`, so a run can start from noise made elsewhere (e.g. the CUDA noise
 * of an official run) and the final latent can be decoded again without re-denoising.
 */
import { readFileSync } from 'node:fs';
import { parseNpy, writeNpy } from '../io/npy.js';
import type { Latent } from '../core/types.js';

export class LatentFileError extends Error {
  override name = 'LatentFileError';
}

/** Reads a float32 (C, F, H, W) latent; a leading batch axis of 1 is accepted and dropped. */
export function readLatentNpy(path: string): Latent {
  let bytes: Uint8Array;
  try {
    // A fresh copy: parseNpy slices its input, and a Node Buffer's slice is a view, not a copy.
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new LatentFileError(`cannot read latent file ${path}: ${(err as Error).message}`);
  }
  const array = parseNpy(bytes, path);
  if (!(array.data instanceof Float32Array)) {
    throw new LatentFileError(`${path}: latent must be float32, found ${array.dtype}; save it with .astype(np.float32)`);
  }
  const shape = array.shape.length === 5 && array.shape[0] === 1 ? array.shape.slice(1) : array.shape;
  if (shape.length !== 4) {
    throw new LatentFileError(`${path}: latent must have shape (C, F, H, W) or (1, C, F, H, W), found (${array.shape.join(', ')})`);
  }
  return { data: array.data, shape: [shape[0], shape[1], shape[2], shape[3]] };
}

/** Writes the latent as float32 (C, F, H, W) under a temporary name, then renames it into place. */
export function writeLatentNpy(path: string, latent: Latent): void {
  writeNpy(path, { dtype: 'float32', shape: [...latent.shape], data: latent.data });
}
