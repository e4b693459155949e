import { describe, expect, it } from 'vitest';
import {
  frameSsim, gaussianKernel, latentRelativeL2, MetricInputError, psnr, PSNR_CAP_DB, ssim, temporalFlickering, type Clip,
} from '../../src/video/metrics.js';
import { referenceFlicker, referenceFramePsnr, referenceFrameSsim } from './reference-metrics.js';

/** Deterministic pseudo-random bytes (LCG), so failures reproduce. */
function noiseBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** A smooth gradient scene plus noise: structured enough for SSIM to be informative. */
function scene(width: number, height: number, seed: number, noise: number): Uint8Array {
  const n = noiseBytes(width * height * 3, seed);
  const out = new Uint8Array(width * height * 3);
  for (let r = 0; r < height; r++) for (let c = 0; c < width; c++) for (let ch = 0; ch < 3; ch++) {
    const i = (r * width + c) * 3 + ch;
    const base = 40 + 150 * (0.5 + 0.5 * Math.sin((c + 7 * ch) / 5) * Math.cos(r / 7));
    out[i] = Math.max(0, Math.min(255, Math.round(base + (n[i]! - 128) * noise)));
  }
  return out;
}

describe('PSNR (TeaCache/MagCache definition)', () => {
  const W = 23, H = 17;
  it('matches the direct reference per frame and averages over frames', () => {
    const a: Clip = { width: W, height: H, frames: [scene(W, H, 1, 0.1), scene(W, H, 2, 0.1), scene(W, H, 3, 0.1)] };
    const b: Clip = { width: W, height: H, frames: [scene(W, H, 1, 0.3), scene(W, H, 5, 0.2), scene(W, H, 3, 0.05)] };
    const r = psnr(a, b);
    const expected = a.frames.map((f, i) => referenceFramePsnr(f, b.frames[i]!, W, H, 255));
    r.perFrame.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-9));
    expect(Math.abs(r.psnr - (expected[0]! + expected[1]! + expected[2]!) / 3)).toBeLessThan(1e-9);
    expect(r.cappedFrames).toBe(0);
  });

  it('equals −20·log10(d) for a constant offset d on [0,1] frames', () => {
    const d = 0.0625;
    const x = Float32Array.from({ length: W * H * 3 }, (_, i) => ((i * 37) % 200) / 255);
    const y = Float32Array.from(x, (v) => v + d);
    const r = psnr({ width: W, height: H, frames: [x] }, { width: W, height: H, frames: [y] });
    expect(Math.abs(r.psnr - -20 * Math.log10(d))).toBeLessThan(1e-6);
    // byte frames offset by 4 levels: MSE = (4/255)²
    const xb = scene(W, H, 9, 0).map((v) => Math.min(v, 200));
    const yb = xb.map((v) => v + 4);
    const rb = psnr({ width: W, height: H, frames: [xb] }, { width: W, height: H, frames: [yb] });
    expect(Math.abs(rb.psnr - 20 * Math.log10(255 / 4))).toBeLessThan(1e-9);
    expect(Math.abs(rb.psnrWholeVideo - rb.psnr)).toBeLessThan(1e-9);
  });

  it('caps identical frames at 100 dB and counts them', () => {
    const f = scene(W, H, 4, 0.2);
    const r = psnr({ width: W, height: H, frames: [f, f] }, { width: W, height: H, frames: [f.slice(), scene(W, H, 5, 0.2)] });
    expect(r.perFrame[0]).toBe(PSNR_CAP_DB);
    expect(r.cappedFrames).toBe(1);
    expect(r.perFrame[1]).toBeLessThan(PSNR_CAP_DB);
  });

  it('whole-video PSNR (EasyCache) is one MSE over all frames', () => {
    const a: Clip = { width: W, height: H, frames: [scene(W, H, 1, 0), scene(W, H, 2, 0)] };
    const b: Clip = { width: W, height: H, frames: [scene(W, H, 1, 0.5), scene(W, H, 2, 0.05)] };
    const r = psnr(a, b);
    const mse = a.frames.map((f, i) => 10 ** (-referenceFramePsnr(f, b.frames[i]!, W, H, 255) / 10));
    expect(Math.abs(r.psnrWholeVideo - -10 * Math.log10((mse[0]! + mse[1]!) / 2))).toBeLessThan(1e-9);
    expect(r.psnrWholeVideo).toBeLessThanOrEqual(r.psnr); // Jensen
  });

  it('refuses videos of different sizes or lengths with a clear message', () => {
    const f = scene(W, H, 1, 0);
    expect(() => psnr({ width: W, height: H, frames: [f] }, { width: W, height: H, frames: [f, f] })).toThrow(MetricInputError);
    expect(() => psnr({ width: W, height: H, frames: [f] }, { width: H, height: W, frames: [f] })).toThrow(/differ in size/);
  });
});

describe('SSIM (per channel, 11×11 Gaussian σ=1.5, valid window)', () => {
  it('uses cv2.getGaussianKernel(11, 1.5) weights', () => {
    const k = gaussianKernel();
    expect(k.length).toBe(11);
    expect(Math.abs(k.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-15);
    // centre tap of the normalised 1-D Gaussian with σ = 1.5
    const raw = Array.from({ length: 11 }, (_, i) => Math.exp(-((i - 5) ** 2) / 4.5));
    expect(Math.abs(k[5]! - 1 / raw.reduce((s, v) => s + v, 0))).toBeLessThan(1e-15);
  });

  it('matches the direct 2-D window reference to 1e-6 on byte and float frames', () => {
    const W = 29, H = 21;
    for (const [sa, sb, na, nb] of [[1, 1, 0.05, 0.4], [2, 3, 0.2, 0.2], [4, 4, 0, 1]] as const) {
      const a = scene(W, H, sa, na);
      const b = scene(W, H, sb, nb);
      expect(Math.abs(frameSsim(a, b, W, H) - referenceFrameSsim(a, b, W, H, 255))).toBeLessThan(1e-6);
    }
    const fa = Float32Array.from(scene(W, H, 7, 0.1), (v) => v / 255);
    const fb = Float32Array.from(scene(W, H, 8, 0.3), (v) => v / 255);
    const got = frameSsim(fa, fb, W, H);
    const want = referenceFrameSsim(fa, fb, W, H, 1);
    expect(Math.abs(got - want)).toBeLessThan(1e-6);
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(1);
  });

  it('is 1 for identical frames and averages over frames', () => {
    const W = 16, H = 12;
    const f = scene(W, H, 3, 0.3);
    const g = scene(W, H, 4, 0.3);
    const r = ssim({ width: W, height: H, frames: [f, f] }, { width: W, height: H, frames: [f.slice(), g] });
    expect(Math.abs(r.perFrame[0]! - 1)).toBeLessThan(1e-12);
    expect(Math.abs(r.ssim - (1 + referenceFrameSsim(f, g, W, H, 255)) / 2)).toBeLessThan(1e-6);
  });

  it('refuses frames smaller than the window', () => {
    expect(() => frameSsim(new Uint8Array(10 * 10 * 3), new Uint8Array(10 * 10 * 3), 10, 10)).toThrow(/at least 11×11/);
  });
});

describe('VBench temporal flickering', () => {
  it('matches an independent integer computation on the same frames', () => {
    const W = 13, H = 9;
    const frames = [scene(W, H, 1, 0.1), scene(W, H, 1, 0.3), scene(W, H, 2, 0.2), scene(W, H, 2, 0.2)];
    const r = temporalFlickering({ width: W, height: H, frames });
    expect(Math.abs(r.score - referenceFlicker(frames))).toBeLessThan(1e-12);
    expect(r.pairMae).toHaveLength(3);
    expect(r.pairMae[2]).toBe(0);
  });

  it('gives the analytic score for frames alternating between two constants', () => {
    const W = 4, H = 3;
    const lo = new Uint8Array(W * H * 3).fill(10);
    const hi = new Uint8Array(W * H * 3).fill(61);
    const r = temporalFlickering({ width: W, height: H, frames: [lo, hi, lo] });
    expect(r.score).toBeCloseTo((255 - 51) / 255, 15);
    expect(temporalFlickering({ width: W, height: H, frames: [lo, lo] }).score).toBe(1);
  });

  it('needs two frames', () => {
    expect(() => temporalFlickering({ width: 1, height: 1, frames: [new Uint8Array(3)] })).toThrow(/at least 2 frames/);
  });
});

describe('latent relative L2', () => {
  it('is ‖b − a‖ / ‖a‖', () => {
    expect(latentRelativeL2([3, 4], [3, 4])).toBe(0);
    expect(latentRelativeL2([3, 4], [0, 0])).toBe(1);
    expect(latentRelativeL2(Float32Array.of(1, 0, 0), Float32Array.of(1, 0.5, 0))).toBeCloseTo(0.5, 12);
    expect(() => latentRelativeL2([1], [1, 2])).toThrow(/differ in size/);
  });
});
