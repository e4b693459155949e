import { describe, expect, it } from 'vitest';
import { relativeL2, videoPsnr, videoSsim, type Video } from '../../src/sparsity/fidelity.js';

function video(frames: number, h: number, w: number, f: (i: number) => number): Video {
  return { data: Float32Array.from({ length: 3 * frames * h * w }, (_, i) => f(i)), frames, height: h, width: w };
}

/** Direct 2-D Gaussian-window SSIM over every valid position: an independent check of the separable version. */
function naiveSsim(x: Float64Array, y: Float64Array, h: number, w: number): number {
  const g: number[] = [];
  for (let i = 0; i < 11; i++) g.push(Math.exp(-((i - 5) ** 2) / (2 * 1.5 ** 2)));
  const s = g.reduce((a, b) => a + b, 0);
  const win = g.map((v) => v / s);
  let total = 0;
  let count = 0;
  for (let cy = 5; cy < h - 5; cy++)
    for (let cx = 5; cx < w - 5; cx++) {
      let mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
      for (let dy = -5; dy <= 5; dy++)
        for (let dx = -5; dx <= 5; dx++) {
          const wt = win[dy + 5] * win[dx + 5];
          const a = x[(cy + dy) * w + cx + dx];
          const b = y[(cy + dy) * w + cx + dx];
          mx += wt * a; my += wt * b; xx += wt * a * a; yy += wt * b * b; xy += wt * a * b;
        }
      const c1 = 1e-4, c2 = 9e-4;
      total += ((2 * mx * my + c1) * (2 * (xy - mx * my) + c2)) / ((mx * mx + my * my + c1) * (xx - mx * mx + yy - my * my + c2));
      count++;
    }
  return total / count;
}

describe('fidelity metrics', () => {
  it('relative L2', () => {
    expect(relativeL2([1, 2, 2], [1, 2, 2])).toBe(0);
    expect(relativeL2([3, 4], [0, 0])).toBeCloseTo(1, 12);
  });

  it('PSNR per frame on [0, 1] RGB, capped at 100 for identical frames', () => {
    const ref = video(2, 4, 4, () => 0);
    // +0.2 in [-1, 1] is +0.1 in [0, 1]: MSE 0.01 → 20 dB
    const a = video(2, 4, 4, () => 0.2);
    expect(videoPsnr(ref, a)).toBeCloseTo(20, 5); // 0.2 is not exact in float32
    expect(videoPsnr(ref, ref)).toBe(100);
  });

  it('SSIM matches a direct 2-D window computation and is 1 for identical frames', () => {
    let seed = 9;
    const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const h = 17, w = 23;
    const x = Float64Array.from({ length: h * w }, rnd);
    const y = Float64Array.from(x, (v) => Math.min(1, Math.max(0, v + 0.2 * (rnd() - 0.5))));
    // one frame whose three channels are the same plane, mapped from [0, 1] to [-1, 1]
    const asVideo = (p: Float64Array): Video => video(1, h, w, (i) => p[i % (h * w)]! * 2 - 1);
    expect(videoSsim(asVideo(x), asVideo(y))).toBeCloseTo(naiveSsim(x, y, h, w), 6);
    const v = video(2, 16, 16, (i) => Math.sin(i));
    expect(videoSsim(v, v)).toBeCloseTo(1, 12);
    expect(videoSsim(v, video(2, 16, 16, (i) => Math.sin(i) * 0.5))).toBeLessThan(1);
  });
});
