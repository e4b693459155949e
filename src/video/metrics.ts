/**
 * Frame-level metrics, defined exactly as the reference code that published numbers come from:
 *
 * - PSNR and SSIM as TeaCache / MagCache `common_metrics` compute them (the two are
 *   byte-identical): RGB scaled to [0, 1], PSNR per frame (`20·log10(1/√MSE)`, 100 when
 *   MSE < 1e-10) averaged over frames; SSIM per RGB channel with an 11×11 Gaussian window
 *   (σ = 1.5, cv2.getGaussianKernel), C1 = 0.01², C2 = 0.03², the *valid* part of the maps only
 *   (their `filter2D(...)[5:-5, 5:-5]` crop, which equals skimage's `gaussian_weights=True`
 *   crop), mean of the SSIM map, mean of the three channels, then mean over frames.
 * - VBench's temporal flickering: mean absolute difference of consecutive 8-bit frames over
 *   every pixel and channel, averaged over the pairs, as `(255 − mean)/255`.
 * - The latent relative L2 used to compare denoised latents.
 *
 * Frames are interleaved RGB (`height·width·3` values): bytes (0–255, what a decoded video
 * gives) or floats already in [0, 1] (raw decoder output). All sums run in float64.
 */

export type FrameData = Uint8Array | Uint8ClampedArray | Float32Array | Float64Array;

/** A clip: `frames[i]` holds `height·width·3` interleaved RGB values. */
export interface Clip {
  width: number;
  height: number;
  frames: readonly FrameData[];
}

/** What TeaCache reports for a frame pair whose MSE is below 1e-10 (identical frames). */
export const PSNR_CAP_DB = 100;
/** Below this MSE a frame pair counts as identical and gets `PSNR_CAP_DB` (TeaCache's rule). */
export const PSNR_IDENTICAL_MSE = 1e-10;

export const SSIM_WINDOW = 11;
export const SSIM_SIGMA = 1.5;
/** (K1·L)² and (K2·L)² with K1 = 0.01, K2 = 0.03 and data range L = 1. */
export const SSIM_C1 = 0.01 ** 2;
export const SSIM_C2 = 0.03 ** 2;

export class MetricInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricInputError';
  }
}

/** 255 for byte frames, 1 for float frames: the divisor that maps values into [0, 1]. */
function rangeOf(frame: FrameData): number {
  return frame instanceof Float32Array || frame instanceof Float64Array ? 1 : 255;
}

function checkClip(clip: Clip, what: string): void {
  const { width, height, frames } = clip;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new MetricInputError(`${what}: invalid frame size ${width}×${height}`);
  }
  const expected = width * height * 3;
  frames.forEach((f, i) => {
    if (f.length !== expected) throw new MetricInputError(`${what}: frame ${i} has ${f.length} values, expected ${expected} (${width}×${height} RGB)`);
  });
}

function checkPair(a: Clip, b: Clip): void {
  checkClip(a, 'reference');
  checkClip(b, 'test');
  if (a.width !== b.width || a.height !== b.height) {
    throw new MetricInputError(`the two videos differ in size (${a.width}×${a.height} vs ${b.width}×${b.height}); render both at the same size`);
  }
  if (a.frames.length !== b.frames.length) {
    throw new MetricInputError(`the two videos differ in length (${a.frames.length} vs ${b.frames.length} frames); render both with the same frame count`);
  }
  if (a.frames.length === 0) throw new MetricInputError('the videos have no frames');
}

// ---------------------------------------------------------------------------------------------
// PSNR

/** Mean squared error of one frame pair on [0, 1] values (over all pixels and channels). */
export function frameMse(x: FrameData, y: FrameData): number {
  const sx = 1 / rangeOf(x);
  const sy = 1 / rangeOf(y);
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i]! * sx - y[i]! * sy;
    sum += d * d;
  }
  return sum / x.length;
}

/** PSNR of one frame pair in dB, capped at `PSNR_CAP_DB` for (near-)identical frames. */
export function framePsnr(x: FrameData, y: FrameData): number {
  const mse = frameMse(x, y);
  return mse < PSNR_IDENTICAL_MSE ? PSNR_CAP_DB : 20 * Math.log10(1 / Math.sqrt(mse));
}

export interface PsnrResult {
  /** Mean of the per-frame PSNRs (TeaCache/MagCache), dB. */
  psnr: number;
  perFrame: number[];
  /** Frames that hit the cap because they are identical (MSE < 1e-10). */
  cappedFrames: number;
  /** PSNR of one MSE over the whole clip (EasyCache's definition), dB; capped the same way. */
  psnrWholeVideo: number;
}

export function psnr(reference: Clip, test: Clip): PsnrResult {
  checkPair(reference, test);
  const mses = reference.frames.map((f, i) => frameMse(f, test.frames[i]!));
  const perFrame = mses.map((m) => (m < PSNR_IDENTICAL_MSE ? PSNR_CAP_DB : 20 * Math.log10(1 / Math.sqrt(m))));
  const meanMse = mses.reduce((s, m) => s + m, 0) / mses.length;
  return {
    psnr: mean(perFrame),
    perFrame,
    cappedFrames: mses.filter((m) => m < PSNR_IDENTICAL_MSE).length,
    psnrWholeVideo: meanMse < PSNR_IDENTICAL_MSE ? PSNR_CAP_DB : -10 * Math.log10(meanMse),
  };
}

// ---------------------------------------------------------------------------------------------
// SSIM

/** cv2.getGaussianKernel(size, sigma): exp(−(i − (size−1)/2)² / 2σ²), normalised to sum 1. */
export function gaussianKernel(size = SSIM_WINDOW, sigma = SSIM_SIGMA): Float64Array {
  const k = new Float64Array(size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    k[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    sum += k[i]!;
  }
  for (let i = 0; i < size; i++) k[i]! /= sum;
  return k;
}

/** One channel of an interleaved frame as float64 in [0, 1]. */
function channelPlane(frame: FrameData, channel: number, pixels: number): Float64Array {
  const s = 1 / rangeOf(frame);
  const out = new Float64Array(pixels);
  for (let p = 0; p < pixels; p++) out[p] = frame[p * 3 + channel]! * s;
  return out;
}

/**
 * Valid 1-D correlation along rows with a symmetric kernel: `src` is (rows × width), the result
 * (rows × (width − n + 1)). Taps k and n−1−k share a weight, so each output costs about n/2
 * multiplications.
 */
function rowPass(src: Float64Array, rows: number, width: number, kernel: Float64Array, out: Float64Array): void {
  const n = kernel.length;
  const half = n >> 1;
  const ow = width - n + 1;
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    const obase = r * ow;
    for (let c = 0; c < ow; c++) {
      const i = base + c;
      let acc = kernel[half]! * src[i + half]!;
      for (let k = 0; k < half; k++) acc += kernel[k]! * (src[i + k]! + src[i + n - 1 - k]!);
      out[obase + c] = acc;
    }
  }
}

/** The same along columns: `src` is (height × cols), the result ((height − n + 1) × cols). */
function columnPass(src: Float64Array, height: number, cols: number, kernel: Float64Array, out: Float64Array): void {
  const n = kernel.length;
  const half = n >> 1;
  const oh = height - n + 1;
  for (let r = 0; r < oh; r++) {
    const obase = r * cols;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      let acc = kernel[half]! * src[i + half * cols]!;
      for (let k = 0; k < half; k++) acc += kernel[k]! * (src[i + k * cols]! + src[i + (n - 1 - k) * cols]!);
      out[obase + c] = acc;
    }
  }
}

/**
 * Mean SSIM map of one channel: Gaussian-weighted moments of x, y, x², y², xy by separable
 * valid filtering (rows, then columns), then the SSIM formula per output pixel.
 */
function ssimPlane(x: Float64Array, y: Float64Array, width: number, height: number, kernel: Float64Array): number {
  const n = kernel.length;
  const ow = width - n + 1;
  const oh = height - n + 1;
  const pixels = width * height;
  const product = new Float64Array(pixels);
  const rowsOut = new Float64Array(height * ow);
  const moments = [0, 1, 2, 3, 4].map(() => new Float64Array(oh * ow));
  const filter = (src: Float64Array, m: number): void => {
    rowPass(src, height, width, kernel, rowsOut);
    columnPass(rowsOut, height, ow, kernel, moments[m]!);
  };
  filter(x, 0);
  filter(y, 1);
  for (let p = 0; p < pixels; p++) product[p] = x[p]! * x[p]!;
  filter(product, 2);
  for (let p = 0; p < pixels; p++) product[p] = y[p]! * y[p]!;
  filter(product, 3);
  for (let p = 0; p < pixels; p++) product[p] = x[p]! * y[p]!;
  filter(product, 4);
  const [mx, my, exx, eyy, exy] = moments as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  let total = 0;
  for (let i = 0; i < oh * ow; i++) {
    const a = mx[i]!;
    const b = my[i]!;
    const ab = a * b;
    const aa = a * a;
    const bb = b * b;
    total += ((2 * ab + SSIM_C1) * (2 * (exy[i]! - ab) + SSIM_C2)) / ((aa + bb + SSIM_C1) * (exx[i]! - aa + (eyy[i]! - bb) + SSIM_C2));
  }
  return total / (oh * ow);
}

/** SSIM of one frame pair: mean over R, G, B of the mean valid-window SSIM map. */
export function frameSsim(x: FrameData, y: FrameData, width: number, height: number): number {
  if (width < SSIM_WINDOW || height < SSIM_WINDOW) {
    throw new MetricInputError(`SSIM needs frames of at least ${SSIM_WINDOW}×${SSIM_WINDOW} pixels (got ${width}×${height})`);
  }
  const kernel = gaussianKernel();
  const pixels = width * height;
  let sum = 0;
  for (let c = 0; c < 3; c++) sum += ssimPlane(channelPlane(x, c, pixels), channelPlane(y, c, pixels), width, height, kernel);
  return sum / 3;
}

export interface SsimResult {
  /** Mean over frames of the per-frame (channel-averaged) SSIM. */
  ssim: number;
  perFrame: number[];
}

export function ssim(reference: Clip, test: Clip): SsimResult {
  checkPair(reference, test);
  const perFrame = reference.frames.map((f, i) => frameSsim(f, test.frames[i]!, reference.width, reference.height));
  return { ssim: mean(perFrame), perFrame };
}

// ---------------------------------------------------------------------------------------------
// VBench temporal flickering

export interface FlickerResult {
  /** (255 − mean_i MAE_i) / 255. */
  score: number;
  /** MAE_i between frame i and i+1, in 0–255 units. */
  pairMae: number[];
}

/**
 * VBench `temporal_flickering.cal_score` on one clip. VBench decodes with OpenCV (BGR); the
 * channel order does not change the MAE. Byte frames are used as they are; float frames in
 * [0, 1] are scaled by 255 without rounding (VBench itself only ever sees 8-bit frames).
 */
export function temporalFlickering(clip: Clip): FlickerResult {
  checkClip(clip, 'video');
  if (clip.frames.length < 2) {
    throw new MetricInputError(`temporal flickering needs at least 2 frames (got ${clip.frames.length}); VBench would report NaN`);
  }
  const pairMae: number[] = [];
  for (let i = 0; i + 1 < clip.frames.length; i++) {
    const a = clip.frames[i]!;
    const b = clip.frames[i + 1]!;
    const sa = 255 / rangeOf(a);
    const sb = 255 / rangeOf(b);
    let sum = 0;
    for (let j = 0; j < a.length; j++) sum += Math.abs(a[j]! * sa - b[j]! * sb);
    pairMae.push(sum / a.length);
  }
  return { score: (255 - mean(pairMae)) / 255, pairMae };
}

// ---------------------------------------------------------------------------------------------
// Latents

/** ‖test − reference‖₂ / ‖reference‖₂ over the whole tensor (0 when both are zero). */
export function latentRelativeL2(reference: ArrayLike<number>, test: ArrayLike<number>): number {
  if (reference.length !== test.length) {
    throw new MetricInputError(`latents differ in size (${reference.length} vs ${test.length} values); compare latents of the same shape`);
  }
  let num = 0;
  let den = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i]!;
    const d = test[i]! - r;
    num += d * d;
    den += r * r;
  }
  if (den === 0) return num === 0 ? 0 : Infinity;
  return Math.sqrt(num / den);
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}
