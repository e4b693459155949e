/**
 * Forecasting cached module outputs instead of holding them constant (TaylorSeer-like,
 * first order; reference: TaylorSeer, "From Reusing to Forecasting"): a token whose cached
 * output y was computed at t1, and before that at t0, is served at t as
 *
 *   y(t) ≈ y(t1) + (y(t1) − y(t0)) · (t − t1) / (t1 − t0)
 *
 * with t the step index ('step') or the flow-matching sigma ('sigma'). A token with one
 * computation only (or t1 = t0) is held constant, as plain reuse does. The history keeps,
 * per module and token, the previous output and both times; `record` is called before a
 * store's rows are overwritten with a fresh computation.
 */
import type { RowStore } from './cache.js';

export type ForecastMode = 'none' | 'linear';
export type ForecastAxis = 'step' | 'sigma';
export const FORECAST_MODES: readonly ForecastMode[] = ['none', 'linear'];

/** The extrapolation factor (t − t1) / (t1 − t0); 0 without two distinct earlier times. */
export function linearFactor(t0: number, t1: number, t: number): number {
  const span = t1 - t0;
  if (!Number.isFinite(t0) || !Number.isFinite(t1) || span === 0) return 0;
  return (t - t1) / span;
}

/** The first-order forecast of one value (tests and small grids). */
export const forecastLinear = (y0: number, y1: number, t0: number, t1: number, t: number): number => y1 + (y1 - y0) * linearFactor(t0, t1, t);

/** The previous computation of one module's rows: its outputs and the two times per token. */
export class ForecastHistory {
  /** Outputs of each token's previous computation (replaced, not copied, when a whole block runs). */
  prev: Float32Array;
  readonly t0: Float64Array;
  readonly t1: Float64Array;

  constructor(
    readonly rows: number,
    readonly width: number,
  ) {
    this.prev = new Float32Array(rows * width);
    this.t0 = new Float64Array(rows).fill(NaN);
    this.t1 = new Float64Array(rows).fill(NaN);
  }

  /** Before `store`'s rows (null: all) are overwritten by a computation at `t`: keep their current values as the previous ones. */
  record(store: RowStore, rows: ArrayLike<number> | null, t: number): void {
    if (!rows && store.f32) {
      // A whole block: one copy (rows never computed keep t1 = NaN, so their copied values are never read).
      this.prev.set(store.f32);
      this.t0.set(this.t1);
      this.t1.fill(t);
      return;
    }
    const n = rows ? rows.length : this.rows;
    for (let i = 0; i < n; i++) {
      const r = rows ? rows[i] : i;
      if (Number.isFinite(this.t1[r])) store.readRowInto(r, this.prev, r * this.width);
      this.t0[r] = this.t1[r];
      this.t1[r] = t;
    }
  }

  /**
   * A whole block computed every row at `t`: `store` takes `values` as its rows and its old rows
   * become the previous ones, by handing the arrays over instead of copying them (float32
   * storage; otherwise `record` and a write).
   */
  recordWhole(store: RowStore, values: Float32Array, t: number): void {
    const old = store.f32;
    if (old?.length !== this.prev.length || values.length !== old.length) {
      this.record(store, null, t);
      store.adopt(values);
      return;
    }
    store.adopt(values);
    this.prev = old;
    this.t0.set(this.t1);
    this.t1.fill(t);
  }

  /** Every row's extrapolation factor at `t` into `out` (0: held constant). */
  factorsAt(t: number, out: Float64Array): Float64Array {
    for (let r = 0; r < this.rows; r++) out[r] = linearFactor(this.t0[r], this.t1[r], t);
    return out;
  }

  /** out[j] += gate[j]·ŷ[j] over one row, ŷ the forecast at t (gate null means 1). */
  addRowInto(store: RowStore, row: number, t: number, gate: Float32Array | null, out: Float32Array, offset: number, scratch: Float32Array): void {
    const a = linearFactor(this.t0[row], this.t1[row], t);
    if (a === 0) {
      store.addRowInto(row, gate, out, offset);
      return;
    }
    const w = this.width;
    store.readRowInto(row, scratch, 0);
    const p = this.prev;
    const o = row * w;
    if (gate) for (let j = 0; j < w; j++) out[offset + j] += gate[j] * (scratch[j] + (scratch[j] - p[o + j]) * a);
    else for (let j = 0; j < w; j++) out[offset + j] += scratch[j] + (scratch[j] - p[o + j]) * a;
  }
}

/** Forecast state of one layer on one branch: SA, CA and FFN histories. */
export interface LayerForecast {
  sa: ForecastHistory;
  ca: ForecastHistory;
  ffn: ForecastHistory;
}

export const newLayerForecast = (rows: number, width: number): LayerForecast => ({ sa: new ForecastHistory(rows, width), ca: new ForecastHistory(rows, width), ffn: new ForecastHistory(rows, width) });

/** Flow-matching sigma of a Wan timestep (t = 1000·σ). */
export const sigmaOfTimestep = (timestep: number): number => timestep / 1000;
