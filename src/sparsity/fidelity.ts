/**
 * Fidelity of an accelerated generation against the dense one with the same seed, as the
 * acceleration papers measure it (TeaCache/MagCache common_metrics, evaluation reference §2.1):
 * - latent: relative L2 error of the final latent;
 * - PSNR per frame on RGB in [0, 1]: 20·log10(1/√MSE), 100 when MSE < 1e-10, averaged over frames;
 * - SSIM per frame and RGB channel: 11×11 Gaussian window (σ 1.5), "valid" region,
 *   C1 = 0.01², C2 = 0.03², mean of the map, averaged over channels then frames.
 * Frames are planar (3, T, H, W) decoder output in [-1, 1] (clamped here).
 */

export function relativeL2(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = a[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

export interface Video {
  /** Planar (3, frames, height, width), values in [-1, 1] (clamped when read). */
  data: Float32Array;
  frames: number;
  height: number;
  width: number;
}

const unit = (v: number): number => (Math.min(1, Math.max(-1, v)) + 1) / 2;

/** One channel plane of one frame, mapped to [0, 1]. */
function plane(v: Video, channel: number, frame: number): Float64Array {
  const size = v.height * v.width;
  const o = (channel * v.frames + frame) * size;
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = unit(v.data[o + i]);
  return out;
}

function checkPair(a: Video, b: Video): void {
  if (a.frames !== b.frames || a.height !== b.height || a.width !== b.width) throw new RangeError(`videos differ in size: ${a.frames}×${a.height}×${a.width} vs ${b.frames}×${b.height}×${b.width}`);
}

/** Mean over frames of the per-frame PSNR (dB). */
export function videoPsnr(a: Video, ref: Video): number {
  checkPair(a, ref);
  let total = 0;
  for (let f = 0; f < a.frames; f++) {
    let se = 0;
    let count = 0;
    for (let c = 0; c < 3; c++) {
      const x = plane(a, c, f);
      const y = plane(ref, c, f);
      for (let i = 0; i < x.length; i++) se += (x[i] - y[i]) ** 2;
      count += x.length;
    }
    const mse = se / count;
    total += mse < 1e-10 ? 100 : 20 * Math.log10(1 / Math.sqrt(mse));
  }
  return total / a.frames;
}

function gaussianWindow(size = 11, sigma = 1.5): Float64Array {
  const g = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = i - (size - 1) / 2;
    g[i] = Math.exp(-(x * x) / (2 * sigma * sigma));
    sum += g[i];
  }
  for (let i = 0; i < size; i++) g[i] /= sum;
  return g;
}

/** Separable "valid" filtering of an H×W plane with a 1-D kernel along both axes. */
function filterValid(src: Float64Array, h: number, w: number, k: Float64Array): { data: Float64Array; h: number; w: number } {
  const n = k.length;
  const w1 = w - n + 1;
  const h1 = h - n + 1;
  const tmp = new Float64Array(h * w1);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w1; x++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += k[i] * src[y * w + x + i];
      tmp[y * w1 + x] = s;
    }
  const out = new Float64Array(h1 * w1);
  for (let y = 0; y < h1; y++)
    for (let x = 0; x < w1; x++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += k[i] * tmp[(y + i) * w1 + x];
      out[y * w1 + x] = s;
    }
  return { data: out, h: h1, w: w1 };
}

/** SSIM of two [0, 1] planes (Gaussian 11/1.5, valid region). */
export function planeSsim(x: Float64Array, y: Float64Array, h: number, w: number): number {
  const k = gaussianWindow();
  if (h < k.length || w < k.length) throw new RangeError(`SSIM needs frames of at least ${k.length}×${k.length} pixels (got ${h}×${w})`);
  const C1 = 0.01 ** 2;
  const C2 = 0.03 ** 2;
  const xy = new Float64Array(x.length);
  const xx = new Float64Array(x.length);
  const yy = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    xy[i] = x[i] * y[i];
    xx[i] = x[i] * x[i];
    yy[i] = y[i] * y[i];
  }
  const mx = filterValid(x, h, w, k).data;
  const my = filterValid(y, h, w, k).data;
  const sxx = filterValid(xx, h, w, k).data;
  const syy = filterValid(yy, h, w, k).data;
  const sxy = filterValid(xy, h, w, k).data;
  let total = 0;
  for (let i = 0; i < mx.length; i++) {
    const vx = sxx[i] - mx[i] * mx[i];
    const vy = syy[i] - my[i] * my[i];
    const cov = sxy[i] - mx[i] * my[i];
    total += ((2 * mx[i] * my[i] + C1) * (2 * cov + C2)) / ((mx[i] * mx[i] + my[i] * my[i] + C1) * (vx + vy + C2));
  }
  return total / mx.length;
}

/** Mean over frames of the mean over RGB channels of the per-channel SSIM. */
export function videoSsim(a: Video, ref: Video): number {
  checkPair(a, ref);
  let total = 0;
  for (let f = 0; f < a.frames; f++) for (let c = 0; c < 3; c++) total += planeSsim(plane(a, c, f), plane(ref, c, f), a.height, a.width);
  return total / (3 * a.frames);
}
