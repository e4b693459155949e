import { describe, expect, it } from 'vitest';
import { planarToRgb24, toByte } from '../../src/video/pixels.js';

describe('official 8-bit mapping (clamp, (x+1)/2, ×255, truncate)', () => {
  it('truncates instead of rounding', () => {
    expect(toByte(-1)).toBe(0);
    expect(toByte(1)).toBe(255);
    expect(toByte(0)).toBe(127); // 0.5·255 = 127.5 → 127 (rounding would give 128)
    expect(toByte(-2.5)).toBe(0);
    expect(toByte(7)).toBe(255);
    expect(toByte(Number.NaN)).toBe(0);
    // Just below 1: (x+1)/2 rounds in float32 to 0.99999994, ×255 = 254.99998 → 254.
    expect(toByte(Math.fround(1 - 2 ** -23))).toBe(254);
  });

  it('matches a float32 re-computation on a sweep', () => {
    const f32 = new Float32Array(1);
    for (let i = -1100; i <= 1100; i++) {
      const x = Math.fround(i / 1000);
      const c = Math.min(1, Math.max(-1, x));
      f32[0] = c + 1; f32[0] = f32[0] / 2; f32[0] = f32[0] * 255;
      expect(toByte(x)).toBe(Math.floor(f32[0]));
    }
  });

  it('interleaves planar (3, T, H, W) into rgb24 frames', () => {
    const [t, h, w] = [2, 1, 2];
    const data = new Float32Array(3 * t * h * w);
    // channel c, frame f, pixel p gets a distinct value
    for (let c = 0; c < 3; c++) for (let f = 0; f < t; f++) for (let p = 0; p < h * w; p++) data[(c * t + f) * h * w + p] = -1 + (c * 4 + f * 2 + p) / 6;
    const frames = planarToRgb24(data, t, h, w);
    expect(frames).toHaveLength(2);
    expect(frames[1][1 * 3 + 2]).toBe(toByte(data[(2 * t + 1) * h * w + 1]));
    expect(frames[0][0]).toBe(0);
  });
});
