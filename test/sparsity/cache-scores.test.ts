import { describe, expect, it } from 'vitest';
import { estimateCacheBytes, RowStore, TokenCache } from '../../src/sparsity/cache.js';
import { applySpreadBonus, rescale, tokenScores, topK, valueNormSignal } from '../../src/sparsity/scores.js';
import { sampledQueryRows } from '../../src/sparsity/attentionScore.js';

describe('token cache bookkeeping', () => {
  it('stores rows in float32 exactly and in float16 to half precision', () => {
    const v = Float32Array.from({ length: 4 * 3 }, (_, i) => Math.sin(i) * 10);
    const a = new RowStore(4, 3, 'f32');
    a.write(null, v);
    expect(Array.from(a.read(null))).toEqual(Array.from(v));
    a.write([2, 0], Float32Array.from([1, 2, 3, 4, 5, 6]));
    expect(Array.from(a.read([0, 2]))).toEqual([4, 5, 6, 1, 2, 3]);
    const h = new RowStore(4, 3, 'f16');
    h.write(null, v);
    const back = h.read(null);
    for (let i = 0; i < v.length; i++) expect(Math.abs(back[i] - v[i])).toBeLessThanOrEqual(Math.abs(v[i]) * 2 ** -11 + 1e-7);
    expect(h.bytes).toBe(a.bytes / 2);
    const out = new Float32Array(3).fill(1);
    a.addRowInto(1, Float32Array.from([2, 2, 2]), out, 0);
    expect(Array.from(out)).toEqual(Array.from(v.subarray(3, 6), (x) => Math.fround(1 + 2 * x)));
  });

  it('adopts a whole float32 matrix without copying it, and converts one into float16 storage', () => {
    const v = Float32Array.from({ length: 4 * 3 }, (_, i) => i / 3);
    const a = new RowStore(4, 3, 'f32');
    a.adopt(v);
    expect(a.f32).toBe(v);
    a.write([1], Float32Array.from([7, 8, 9]));
    expect(Array.from(a.read([1]))).toEqual([7, 8, 9]);
    const h = new RowStore(4, 3, 'f16');
    h.adopt(v);
    expect(h.f32).toBeNull();
    expect(h.read([3])[0]).toBeCloseTo(3, 2);
  });

  it('counts staleness per token and resets on a shape change', () => {
    const c = new TokenCache({ grid: { frames: 2, height: 2, width: 2 }, dim: 4, layers: 2 });
    c.markRecomputed('cond', 0, null);
    expect(c.isFilled('cond', 0)).toBe(true);
    expect(c.isFilled('uncond', 0)).toBe(false);
    c.markRecomputed('cond', 0, [1, 5]);
    c.markRecomputed('cond', 0, [5]);
    c.markRecomputed('cond', 0, []);
    expect(Array.from(c.layer('cond', 0).age)).toEqual([3, 2, 3, 3, 3, 1, 3, 3]);
    expect(Array.from(c.layer('cond', 0).recomputed)).toEqual([1, 2, 1, 1, 1, 3, 1, 1]);
    expect(c.configure({ frames: 2, height: 2, width: 2 })).toBe(false);
    expect(c.configure({ frames: 3, height: 2, width: 2 })).toBe(true);
    expect(c.isFilled('cond', 0)).toBe(false);
    expect(c.layer('cond', 1).age).toHaveLength(12);
  });

  it('reports memory that matches the estimate', () => {
    const o = { grid: { frames: 3, height: 4, width: 6 }, dim: 8, layers: 2, keepKv: true, precision: 'f16' as const };
    const c = new TokenCache(o);
    for (const b of ['cond', 'uncond'] as const) for (let l = 0; l < 2; l++) c.layer(b, l);
    expect(c.memory().total).toBe(estimateCacheBytes(o, 2));
    expect(c.memory().layersAllocated).toBe(4);
    c.reset();
    expect(c.memory().total).toBe(0);
  });
});

describe('token scores', () => {
  it('rescales signals to [0, 1] and zeroes constant ones', () => {
    expect(Array.from(rescale([2, 4, 3]))).toEqual([0, 1, 0.5]);
    expect(Array.from(rescale([5, 5]))).toEqual([0, 0]);
  });

  it('scores small value norms high (DuCa)', () => {
    const v = Float32Array.from([3, 4, 0, 0, /* token 1 */ 0.6, 0.8, 0, 0]);
    const s = valueNormSignal(v, 2, 2);
    expect(s[0]).toBeCloseTo(1 - 5 + 1, 6);
    expect(s[1]).toBeCloseTo(1 - 1 + 1, 6);
  });

  it('gives the spread bonus to the best token of each 2×2 cell per frame', () => {
    const grid = { frames: 1, height: 2, width: 4 };
    const s = Float32Array.from([0.1, 0.5, 0.9, 0.2, 0.3, 0.2, 0.1, 0.8]);
    applySpreadBonus(s, grid, [1, 2, 2], 0.6);
    expect(Array.from(s).map((x) => Math.round(x * 100) / 100)).toEqual([0.1, 0.8, 1.44, 0.2, 0.3, 0.2, 0.1, 0.8]);
  });

  it('selects top-k deterministically, ties to the lower index, ascending output', () => {
    expect(Array.from(topK([1, 3, 3, 2, 3], 2))).toEqual([1, 2]);
    expect(Array.from(topK([0, 0, 0, 0], 3))).toEqual([0, 1, 2]);
    expect(Array.from(topK([5, 1], 5))).toEqual([0, 1]);
    expect(topK([5, 1], 0)).toHaveLength(0);
  });

  it('selects what sorting by score, then index, selects (random scores with many ties and signed zeros)', () => {
    let seed = 1;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let t = 0; t < 500; t++) {
      const n = 1 + Math.floor(random() * 400);
      const s = Float32Array.from({ length: n }, () => (random() < 0.5 ? Math.floor(random() * 4) / 4 : random()) * (random() < 0.1 ? -1 : 1));
      const k = Math.floor(random() * (n + 1));
      const bySort = Array.from({ length: n }, (_, i) => i).sort((a, b) => s[b] - s[a] || a - b).slice(0, k).sort((a, b) => a - b);
      expect(Array.from(topK(s, k))).toEqual(bySort);
    }
  });

  it('prefers stale tokens when the other signals are flat', () => {
    const grid = { frames: 1, height: 1, width: 4 };
    const s = tokenScores({ age: [0, 3, 1, 3] }, grid, { attention: 1, value: 1, staleness: 1, spread: 0, spreadCell: [1, 2, 2] });
    expect(Array.from(topK(s, 2))).toEqual([1, 3]);
  });

  it('samples evenly spaced query rows for attention influence', () => {
    expect(Array.from(sampledQueryRows(10, 4))).toEqual([0, 2, 5, 7]);
    expect(Array.from(sampledQueryRows(3, 8))).toEqual([0, 1, 2]);
  });
});
