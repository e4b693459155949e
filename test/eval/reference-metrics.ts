/**
 * Independent, deliberately plain implementations of the paper metrics, written in a
 * different form from src/eval/metrics.ts: planar float64 images, a 2-D Gaussian built from
 * exp(−(dx² + dy²)/2σ²) and normalised over all 121 taps, direct 11×11 window sums (no
 * separable passes), and the SSIM formula written with explicit variances/covariance.
 */

/** Planar [channel][row][col] float64 image in [0, 1] from interleaved RGB values. */
export function toPlanar(frame: ArrayLike<number>, width: number, height: number, range: number): number[][][] {
  const out: number[][][] = [];
  for (let c = 0; c < 3; c++) {
    const plane: number[][] = [];
    for (let r = 0; r < height; r++) {
      const row: number[] = [];
      for (let x = 0; x < width; x++) row.push(frame[(r * width + x) * 3 + c]! / range);
      plane.push(row);
    }
    out.push(plane);
  }
  return out;
}

function gaussian2d(size: number, sigma: number): number[][] {
  const c = (size - 1) / 2;
  const w: number[][] = [];
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const row: number[] = [];
    for (let j = 0; j < size; j++) {
      const v = Math.exp(-((i - c) ** 2 + (j - c) ** 2) / (2 * sigma * sigma));
      row.push(v);
      sum += v;
    }
    w.push(row);
  }
  return w.map((row) => row.map((v) => v / sum));
}

function ssimPlaneDirect(a: number[][], b: number[][]): number {
  const size = 11;
  const w = gaussian2d(size, 1.5);
  const C1 = 0.0001;
  const C2 = 0.0009;
  const h = a.length;
  const wd = a[0]!.length;
  let total = 0;
  let count = 0;
  for (let r = 0; r + size <= h; r++) {
    for (let c = 0; c + size <= wd; c++) {
      let muA = 0, muB = 0;
      for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) {
        muA += w[i]![j]! * a[r + i]![c + j]!;
        muB += w[i]![j]! * b[r + i]![c + j]!;
      }
      let varA = 0, varB = 0, cov = 0;
      for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) {
        const da = a[r + i]![c + j]!;
        const db = b[r + i]![c + j]!;
        varA += w[i]![j]! * da * da;
        varB += w[i]![j]! * db * db;
        cov += w[i]![j]! * da * db;
      }
      varA -= muA * muA;
      varB -= muB * muB;
      cov -= muA * muB;
      total += ((2 * muA * muB + C1) * (2 * cov + C2)) / ((muA * muA + muB * muB + C1) * (varA + varB + C2));
      count++;
    }
  }
  return total / count;
}

export function referenceFrameSsim(x: ArrayLike<number>, y: ArrayLike<number>, width: number, height: number, range: number): number {
  const a = toPlanar(x, width, height, range);
  const b = toPlanar(y, width, height, range);
  return (ssimPlaneDirect(a[0]!, b[0]!) + ssimPlaneDirect(a[1]!, b[1]!) + ssimPlaneDirect(a[2]!, b[2]!)) / 3;
}

export function referenceFramePsnr(x: ArrayLike<number>, y: ArrayLike<number>, width: number, height: number, range: number): number {
  const a = toPlanar(x, width, height, range);
  const b = toPlanar(y, width, height, range);
  let se = 0;
  for (let c = 0; c < 3; c++) for (let r = 0; r < height; r++) for (let q = 0; q < width; q++) se += (a[c]![r]![q]! - b[c]![r]![q]!) ** 2;
  const mse = se / (3 * width * height);
  return mse < 1e-10 ? 100 : 10 * Math.log10(1 / mse);
}

/** VBench temporal flickering with integer sums per channel plane. */
export function referenceFlicker(frames: readonly Uint8Array[]): number {
  let total = 0;
  for (let i = 0; i + 1 < frames.length; i++) {
    const a = frames[i]!;
    const b = frames[i + 1]!;
    let s = 0;
    for (let c = 0; c < 3; c++) for (let p = c; p < a.length; p += 3) s += a[p]! > b[p]! ? a[p]! - b[p]! : b[p]! - a[p]!;
    total += s / a.length;
  }
  return (255 - total / (frames.length - 1)) / 255;
}
