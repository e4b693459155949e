/**
 * Fidelity of an accelerated generation against the dense one with the same seed, as the
 * acceleration papers measure it: relative L2 of the final latent, and per-frame PSNR / SSIM
 * of the decoded videos. The metric definitions live in `src/video/metrics.ts`; this file
 * adapts the decoder's planar output to them. Every function takes the reference (dense)
 * first, then the one under test, like the metrics.
 */
import { latentRelativeL2, psnr, ssim, type Clip } from '../video/metrics.js';

export interface Video {
  /** Planar (3, frames, height, width), values in [-1, 1] (clamped when read). */
  data: Float32Array;
  frames: number;
  height: number;
  width: number;
}

/** Planar [-1, 1] decoder output -> interleaved RGB frames in [0, 1], clamped like the official saver. */
export function videoToClip(v: Video): Clip {
  const size = v.height * v.width;
  const frames: Float32Array[] = [];
  for (let f = 0; f < v.frames; f++) {
    const frame = new Float32Array(size * 3);
    for (let c = 0; c < 3; c++) {
      const o = (c * v.frames + f) * size;
      for (let i = 0; i < size; i++) frame[i * 3 + c] = (Math.min(1, Math.max(-1, v.data[o + i]!)) + 1) / 2;
    }
    frames.push(frame);
  }
  return { width: v.width, height: v.height, frames };
}

/** ‖test − reference‖₂ / ‖reference‖₂ of two latents. */
export function relativeL2(reference: ArrayLike<number>, test: ArrayLike<number>): number {
  return latentRelativeL2(reference, test);
}

/** Mean over frames of the per-frame PSNR (dB), 100 for identical frames. */
export function videoPsnr(reference: Video, test: Video): number {
  return psnr(videoToClip(reference), videoToClip(test)).psnr;
}

/** Mean over frames of the channel-averaged SSIM (Gaussian 11/1.5 window, valid region). */
export function videoSsim(reference: Video, test: Video): number {
  return ssim(videoToClip(reference), videoToClip(test)).ssim;
}
