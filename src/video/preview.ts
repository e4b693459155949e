/**
 * Cheap latent previews (issue 19, item 4), as ComfyUI's latent previews do: a per-model
 * linear projection from the latent's channels to RGB (`rgb = zᵀ·factors + bias`, then
 * (rgb+1)/2), applied to each latent pixel, instead of running the VAE. The projection lives
 * in the VAE folder as `latent_rgb.json`, fitted by least squares from latents and their
 * decoded frames (`fitLatentRgb`, scripts/fit-latent-rgb.ts).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PNG } from 'pngjs';

export const LATENT_RGB_FILE = 'latent_rgb.json';
export const LATENT_RGB_FORMAT = 'diffsparse/latent-rgb';

export interface LatentRgb {
  format: typeof LATENT_RGB_FORMAT;
  version: 1;
  /** One [r, g, b] row per latent channel; applied to the latent the DiT sees (normalised). */
  factors: number[][];
  bias: [number, number, number];
  /**
   * Optional: one [r, g, b] row per channel for the latent frame's mean, added to every pixel of
   * that frame (the demo VAE keeps the background colour in the frame as a whole, not per pixel).
   */
  frameMeanFactors?: number[][];
  /** How it was made (samples, error). */
  fitted?: Record<string, unknown>;
}

export class LatentPreviewError extends Error {
  override name = 'LatentPreviewError';
}

/** The projection stored in a VAE folder, or undefined if the model ships none. */
export function readLatentRgb(vaeDir: string): LatentRgb | undefined {
  const file = join(vaeDir, LATENT_RGB_FILE);
  if (!existsSync(file)) return undefined;
  const doc = JSON.parse(readFileSync(file, 'utf8')) as LatentRgb;
  const ok = doc.format === LATENT_RGB_FORMAT && Array.isArray(doc.factors) && doc.factors.every((r) => Array.isArray(r) && r.length === 3 && r.every(Number.isFinite))
    && Array.isArray(doc.bias) && doc.bias.length === 3 && doc.bias.every(Number.isFinite)
    && (doc.frameMeanFactors === undefined || (Array.isArray(doc.frameMeanFactors) && doc.frameMeanFactors.length === doc.factors.length && doc.frameMeanFactors.every((r) => Array.isArray(r) && r.length === 3 && r.every(Number.isFinite))));
  if (!ok) throw new LatentPreviewError(`${file} is not a latent-to-RGB projection (format ${LATENT_RGB_FORMAT}, factors C×3, bias 3)`);
  return doc;
}

/**
 * The preview picture of a (C, F, H, W) latent: one tile per latent frame (left to right,
 * at most 8 a row), each latent pixel drawn as a `scale`×`scale` block.
 */
export function latentPreviewPng(latent: Float32Array, shape: readonly [number, number, number, number], proj: LatentRgb, scale = 8): Buffer {
  const [C, F, H, W] = shape;
  if (proj.factors.length !== C) throw new LatentPreviewError(`the preview projection has ${proj.factors.length} channels but the latent has ${C}`);
  const cols = Math.min(F, 8);
  const rows = Math.ceil(F / cols);
  const gap = 2;
  const tw = W * scale;
  const th = H * scale;
  const png = new PNG({ width: cols * tw + (cols - 1) * gap, height: rows * th + (rows - 1) * gap });
  png.data.fill(255);
  const plane = F * H * W;
  for (let f = 0; f < F; f++) {
    const ox = (f % cols) * (tw + gap);
    const oy = Math.floor(f / cols) * (th + gap);
    const base = [proj.bias[0], proj.bias[1], proj.bias[2]];
    if (proj.frameMeanFactors) {
      const means = frameMeans(latent, shape, f);
      for (let c = 0; c < C; c++) for (let k = 0; k < 3; k++) base[k] += means[c] * proj.frameMeanFactors[c][k];
    }
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const at = (f * H + h) * W + w;
        const rgb = [base[0], base[1], base[2]];
        for (let c = 0; c < C; c++) {
          const z = latent[c * plane + at];
          const k = proj.factors[c];
          rgb[0] += z * k[0];
          rgb[1] += z * k[1];
          rgb[2] += z * k[2];
        }
        const px = rgb.map((v) => Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255));
        for (let y = 0; y < scale; y++) {
          for (let x = 0; x < scale; x++) {
            const o = ((oy + h * scale + y) * png.width + ox + w * scale + x) * 4;
            png.data[o] = px[0];
            png.data[o + 1] = px[1];
            png.data[o + 2] = px[2];
            png.data[o + 3] = 255;
          }
        }
      }
    }
  }
  return PNG.sync.write(png);
}

/** Each channel's mean over latent frame `f`. */
function frameMeans(latent: Float32Array, shape: readonly [number, number, number, number], f: number): Float64Array {
  const [C, F, H, W] = shape;
  const out = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let m = 0;
    const o = (c * F + f) * H * W;
    for (let i = 0; i < H * W; i++) m += latent[o + i];
    out[c] = m / (H * W);
  }
  return out;
}

/** Writes a PNG under a temporary name and renames it into place, so a viewer never sees half a file. */
export function writePreviewFile(file: string, png: Buffer): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, png);
  renameSync(tmp, file);
}

/**
 * Least-squares fit of `rgb ≈ zᵀ·factors + bias` from pairs of a latent (C, F, H, W) and its
 * decoded frames (T × H·s × W·s × 3 bytes, T = (F−1)·t + 1). Each latent pixel is paired with
 * the mean colour of its s×s block over the video frames it decodes to (frame 0 for latent
 * frame 0, frames t(f−1)+1 … t·f after), in [−1, 1] like the VAE's output.
 */
export function fitLatentRgb(samples: { latent: Float32Array; shape: readonly [number, number, number, number]; frames: Uint8Array[]; spatialScale: number; temporalScale: number }[], options: { ridge?: number; frameMean?: boolean } = {}): LatentRgb {
  const ridge = options.ridge ?? 1e-4;
  const C = samples[0].shape[0];
  const G = options.frameMean ? C : 0;
  const n = C + G + 1;
  const ata = Array.from({ length: n }, () => new Float64Array(n));
  const aty = Array.from({ length: n }, () => new Float64Array(3));
  let count = 0;
  const pairs: [Float64Array, number[]][] = [];
  for (const { latent, shape, frames, spatialScale: s, temporalScale: t } of samples) {
    const [, F, H, W] = shape;
    const plane = F * H * W;
    const width = W * s;
    for (let f = 0; f < F; f++) {
      const means = G ? frameMeans(latent, shape, f) : undefined;
      const video = f === 0 ? [0] : Array.from({ length: t }, (_, i) => t * (f - 1) + 1 + i).filter((i) => i < frames.length);
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          const rgb = [0, 0, 0];
          let m = 0;
          for (const v of video) {
            for (let y = h * s; y < (h + 1) * s; y++) {
              for (let x = w * s; x < (w + 1) * s; x++) {
                const o = (y * width + x) * 3;
                rgb[0] += frames[v][o];
                rgb[1] += frames[v][o + 1];
                rgb[2] += frames[v][o + 2];
                m++;
              }
            }
          }
          const target = rgb.map((v) => (v / m / 255) * 2 - 1);
          const a = new Float64Array(n);
          for (let c = 0; c < C; c++) a[c] = latent[c * plane + (f * H + h) * W + w];
          for (let c = 0; c < G; c++) a[C + c] = means![c];
          a[C + G] = 1;
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) ata[i][j] += a[i] * a[j];
            for (let k = 0; k < 3; k++) aty[i][k] += a[i] * target[k];
          }
          if (pairs.length < 200_000) pairs.push([a, target]);
          count++;
        }
      }
    }
  }
  for (let i = 0; i < C + G; i++) ata[i][i] += ridge * count;
  const x = solve(ata, aty);
  const row = (i: number): number[] => [x[i][0], x[i][1], x[i][2]].map((v) => Number(v.toFixed(5)));
  const factors = Array.from({ length: C }, (_, c) => row(c));
  const frameMeanFactors = G ? Array.from({ length: G }, (_, c) => row(C + c)) : undefined;
  const bias = row(C + G) as [number, number, number];
  let err = 0;
  let flat = 0;
  const mean = [0, 1, 2].map((k) => pairs.reduce((m, [, t]) => m + t[k], 0) / pairs.length);
  for (const [a, t] of pairs) for (let k = 0; k < 3; k++) {
    let p = bias[k];
    for (let c = 0; c < C; c++) p += a[c] * factors[c][k];
    for (let c = 0; c < G; c++) p += a[C + c] * frameMeanFactors![c][k];
    err += Math.abs(Math.min(1, Math.max(-1, p)) - t[k]);
    flat += Math.abs(mean[k] - t[k]);
  }
  const unit = (e: number): number => Number((e / (pairs.length * 3) / 2).toFixed(4));
  return {
    format: LATENT_RGB_FORMAT, version: 1, factors, bias, ...(frameMeanFactors && { frameMeanFactors }),
    fitted: { latentPixels: count, meanAbsError: unit(err), flatColourError: unit(flat), errorUnit: 'mean absolute error as a fraction of the 0..1 colour range (flatColourError: one mean colour everywhere, for scale)' },
  };
}

/** Solves A·X = B (A n×n symmetric positive definite, B n×3) by Gaussian elimination with partial pivoting. */
function solve(a: Float64Array[], b: Float64Array[]): Float64Array[] {
  const n = a.length;
  const A = a.map((r) => Float64Array.from(r));
  const B = b.map((r) => Float64Array.from(r));
  for (let i = 0; i < n; i++) {
    let p = i;
    for (let r = i + 1; r < n; r++) if (Math.abs(A[r][i]) > Math.abs(A[p][i])) p = r;
    [A[i], A[p]] = [A[p], A[i]];
    [B[i], B[p]] = [B[p], B[i]];
    for (let r = i + 1; r < n; r++) {
      const k = A[r][i] / A[i][i];
      for (let c = i; c < n; c++) A[r][c] -= k * A[i][c];
      for (let c = 0; c < 3; c++) B[r][c] -= k * B[i][c];
    }
  }
  const X = Array.from({ length: n }, () => new Float64Array(3));
  for (let i = n - 1; i >= 0; i--) {
    for (let c = 0; c < 3; c++) {
      let v = B[i][c];
      for (let j = i + 1; j < n; j++) v -= A[i][j] * X[j][c];
      X[i][c] = v / A[i][i];
    }
  }
  return X;
}
