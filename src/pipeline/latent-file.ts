/**
 * Latents on disk as `.npy`, so a run can start from noise made elsewhere (e.g. the CUDA noise
 * of an official run) and the final latent can be decoded again without re-denoising.
 */
import { readInputFile } from '../io/input-file.js';
import { parseNpy, writeNpy } from '../io/npy.js';
import type { Latent } from '../core/types.js';

export class LatentFileError extends Error {
  override name = 'LatentFileError';
}

/** Largest latent file read (Node reads at most 2 GiB in one go; Wan2.1's 81×832×480 latent is 6 MiB). */
export const MAX_LATENT_FILE_BYTES = 2 ** 31 - 1;

/**
 * Reads a float32 (C, F, H, W) latent; a leading batch axis of 1 is accepted and dropped.
 * Special files (/dev/zero, a FIFO) and non-finite values are refused (issue 18): NaN noise
 * rendered an all-black video with exit 0.
 */
export function readLatentNpy(path: string): Latent {
  let bytes: Uint8Array;
  try {
    // A fresh copy: parseNpy slices its input, and a Node Buffer's slice is a view, not a copy.
    bytes = new Uint8Array(readInputFile(path, 'a latent .npy file', MAX_LATENT_FILE_BYTES));
  } catch (err) {
    const message = (err as Error).message;
    if ((err as Error).name === 'InputFileError' && !/does not exist/.test(message)) throw err;
    throw new LatentFileError(`cannot read latent file ${path}: ${/does not exist/.test(message) ? 'it does not exist; check the path' : message}`);
  }
  const array = parseNpy(bytes, path);
  if (!(array.data instanceof Float32Array)) {
    throw new LatentFileError(`${path}: a latent must be float32, found ${array.dtype}; save it with .astype(np.float32)`);
  }
  const shape = array.shape.length === 5 && array.shape[0] === 1 ? array.shape.slice(1) : array.shape;
  if (shape.length !== 4) {
    throw new LatentFileError(`${path}: latent must have shape (C, F, H, W) or (1, C, F, H, W), found (${array.shape.join(', ')})`);
  }
  const bad = array.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    const [, f, h, w] = shape;
    const at = [Math.floor(bad / (f * h * w)), Math.floor(bad / (h * w)) % f, Math.floor(bad / w) % h, bad % w];
    const count = array.data.reduce((n, v) => n + (Number.isFinite(v) ? 0 : 1), 0);
    throw new LatentFileError(`${path}: ${count} of its ${array.data.length} values are not finite numbers (the first, at (${at.join(', ')}), is ${array.data[bad]}); a latent must hold finite values`);
  }
  return { data: array.data, shape: [shape[0], shape[1], shape[2], shape[3]] };
}

/** Writes the latent as float32 (C, F, H, W) under a temporary name, then renames it into place. */
export function writeLatentNpy(path: string, latent: Latent): void {
  writeNpy(path, { dtype: 'float32', shape: [...latent.shape], data: latent.data });
}
