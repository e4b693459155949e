/** Forecasting cached outputs (first order, TaylorSeer-like) and the input-movement score, on small grids. */
import { describe, expect, it } from 'vitest';
import { RowStore } from '../../src/sparsity/cache.js';
import { ForecastHistory, forecastLinear, linearFactor } from '../../src/sparsity/forecast.js';
import { movementSignal, SCORE_MIXES, tokenScores, topK } from '../../src/sparsity/scores.js';

describe('first-order forecast', () => {
  it('is exact for a linear signal, in step index or any other axis', () => {
    const y = (t: number): number => 3 - 0.5 * t;
    for (const [t0, t1, t] of [[0, 4, 7], [2, 3, 9], [0.9, 0.7, 0.2]]) expect(forecastLinear(y(t0), y(t1), t0, t1, t)).toBeCloseTo(y(t), 12);
  });

  it('holds the value constant without two distinct earlier computations', () => {
    expect(linearFactor(NaN, 3, 5)).toBe(0);
    expect(linearFactor(3, 3, 5)).toBe(0);
    expect(forecastLinear(1, 2, NaN, 3, 5)).toBe(2);
  });

  it('a history over a row store forecasts every row from its own two times', () => {
    const rows = 4;
    const width = 3;
    const store = new RowStore(rows, width, 'f32');
    const h = new ForecastHistory(rows, width);
    // y[i][j](t) = i + j·t, each row computed at its own steps
    const value = (i: number, j: number, t: number): number => i + j * t;
    const writeRows = (sel: number[], t: number): void => {
      h.record(store, sel, t);
      store.write(sel, Float32Array.from(sel.flatMap((i) => Array.from({ length: width }, (_, j) => value(i, j, t)))));
    };
    h.record(store, null, 0);
    store.write(null, Float32Array.from({ length: rows * width }, (_, k) => value(Math.floor(k / width), k % width, 0)));
    writeRows([0, 1], 2);
    writeRows([1, 2], 3);
    const scratch = new Float32Array(width);
    const gate = Float32Array.from([1, 2, 0.5]);
    for (let i = 0; i < rows; i++) {
      const out = new Float32Array(width);
      h.addRowInto(store, i, 6, gate, out, 0, scratch);
      for (let j = 0; j < width; j++) {
        // row 3 has a single computation (t = 0): held constant
        const expected = i === 3 ? value(i, j, 0) : value(i, j, 6);
        expect(out[j]).toBeCloseTo(gate[j] * expected, 5);
      }
    }
  });

  it('a whole block hands its outputs to the store and the old rows to the history, as record and a write would', () => {
    const rows = 3;
    const width = 2;
    const fill = (t: number): Float32Array => Float32Array.from({ length: rows * width }, (_, k) => k + 10 * t);
    const copied = { store: new RowStore(rows, width, 'f32'), h: new ForecastHistory(rows, width) };
    const handed = { store: new RowStore(rows, width, 'f32'), h: new ForecastHistory(rows, width) };
    for (const t of [1, 2, 4]) {
      copied.h.record(copied.store, null, t);
      copied.store.write(null, fill(t));
      const fresh = fill(t);
      handed.h.recordWhole(handed.store, fresh, t);
      expect(handed.store.f32).toBe(fresh); // taken, not copied
    }
    expect(Array.from(handed.store.f32!)).toEqual(Array.from(copied.store.f32!));
    expect(Array.from(handed.h.prev)).toEqual(Array.from(fill(2)));
    expect(Array.from(handed.h.t0)).toEqual(Array.from(copied.h.t0));
    expect(Array.from(handed.h.t1)).toEqual([4, 4, 4]);
    // half-precision storage cannot take the array: it falls back to record and a write
    const half = { store: new RowStore(rows, width, 'f16'), h: new ForecastHistory(rows, width) };
    half.h.recordWhole(half.store, fill(1), 1);
    half.h.recordWhole(half.store, fill(2), 2);
    expect(Array.from(half.h.prev)).toEqual(Array.from(fill(1)));
    expect(Array.from(half.store.read(null))).toEqual(Array.from(fill(2)));
  });
});

describe('movement score', () => {
  it('is ‖x_now − x_cached‖ / ‖x_cached‖ per token', () => {
    const cached = Float32Array.from([3, 4, 1, 0, 0, 0]);
    const now = Float32Array.from([3, 4, 2, 0, 5, 5]);
    const m = movementSignal(now, cached, 2);
    expect(m[0]).toBe(0);
    expect(m[1]).toBeCloseTo(1, 12);
    expect(m[2]).toBe(0); // a zero cached row has no scale: 0
  });

  it('selects the tokens that moved most under the movement mix', () => {
    const n = 8;
    const movement = Float32Array.from([0.1, 0.9, 0.2, 0.8, 0, 0.05, 0.7, 0.3]);
    const score = tokenScores({ age: new Uint32Array(n), movement }, { frames: 1, height: 2, width: 4 }, SCORE_MIXES.movement);
    expect(Array.from(topK(score, 3))).toEqual([1, 3, 6]);
  });
});
