/**
 * The token cache: per guidance branch and per layer, the raw (ungated) outputs of the
 * block's modules for every token, optional self-attention K/V (variant B2), a per-token
 * staleness counter and the per-token signals the scorer uses. Tokens are indexed on the
 * latent grid as (f·H' + h)·W' + w. Storage is float32 or half precision; memory is
 * accounted exactly (bytes of every allocated array).
 */
import { f32ToF16Bits } from '../core/half.js';
import type { GuidanceBranch } from '../core/types.js';
import { SparseShapeError } from './errors.js';

export interface TokenGrid {
  frames: number;
  height: number;
  width: number;
}

export const gridTokens = (g: TokenGrid): number => g.frames * g.height * g.width;
export const sameGrid = (a: TokenGrid, b: TokenGrid): boolean => a.frames === b.frames && a.height === b.height && a.width === b.width;

export type CachePrecision = 'f32' | 'f16';

/** float16 bits -> float32 by table lookup: the reuse path decodes every cached element. */
let halfTable: Float32Array | null = null;
function halfToFloat(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const exp = (h >>> 10) & 0x1f;
      const mant = h & 0x3ff;
      halfTable[h] = exp === 0 ? sign * mant * 2 ** -24 : exp === 0x1f ? (mant ? NaN : sign * Infinity) : sign * (1 + mant / 1024) * 2 ** (exp - 15);
    }
  }
  return halfTable;
}

/** A [rows, width] matrix stored as float32 or float16 bits. */
export class RowStore {
  private stored: Float32Array | null;
  readonly f16: Uint16Array | null;
  private readonly table: Float32Array | null;

  constructor(
    readonly rows: number,
    readonly width: number,
    readonly precision: CachePrecision,
  ) {
    this.stored = precision === 'f32' ? new Float32Array(rows * width) : null;
    this.f16 = precision === 'f16' ? new Uint16Array(rows * width) : null;
    this.table = precision === 'f16' ? halfToFloat() : null;
  }

  /** The float32 matrix (null when stored as float16). */
  get f32(): Float32Array | null {
    return this.stored;
  }

  get bytes(): number {
    return (this.f32 ?? this.f16)!.byteLength;
  }

  /** Writes `values` ([rows.length, width]) into the given rows, or all rows when `rows` is null. */
  write(rows: ArrayLike<number> | null, values: Float32Array): void {
    const w = this.width;
    const n = rows ? rows.length : this.rows;
    if (values.length !== n * w) throw new SparseShapeError(`token cache: expected ${n}×${w} values, got ${values.length}`);
    if (this.f32) {
      if (!rows) this.f32.set(values);
      else for (let i = 0; i < n; i++) this.f32.set(values.subarray(i * w, (i + 1) * w), rows[i] * w);
    } else {
      const bits = f32ToF16Bits(values);
      if (!rows) this.f16!.set(bits);
      else for (let i = 0; i < n; i++) this.f16!.set(bits.subarray(i * w, (i + 1) * w), rows[i] * w);
    }
  }

  /**
   * Writes every row by taking `values` as the stored matrix instead of copying it (float32
   * storage), so the caller must not use `values` afterwards: a whole block's fresh stage outputs.
   */
  adopt(values: Float32Array): void {
    if (this.stored?.length === values.length) this.stored = values;
    else this.write(null, values);
  }

  /** The given rows (or all rows) as float32. */
  read(rows: ArrayLike<number> | null): Float32Array {
    const w = this.width;
    const n = rows ? rows.length : this.rows;
    const out = new Float32Array(n * w);
    for (let i = 0; i < n; i++) this.readRowInto(rows ? rows[i] : i, out, i * w);
    return out;
  }

  readRowInto(row: number, out: Float32Array, offset: number): void {
    const w = this.width;
    const o = row * w;
    if (this.f32) {
      // An element loop, not set(subarray): a view per row made the reuse path allocation-bound.
      const src = this.f32;
      for (let j = 0; j < w; j++) out[offset + j] = src[o + j];
    } else {
      const src = this.f16!;
      const t = this.table!;
      for (let j = 0; j < w; j++) out[offset + j] = t[src[o + j]];
    }
  }

  /** out[j] += gate[j]·row[j] over one row (gate null means 1). */
  addRowInto(row: number, gate: Float32Array | null, out: Float32Array, offset: number): void {
    const w = this.width;
    const o = row * w;
    if (this.f32) {
      const src = this.f32;
      if (gate) for (let j = 0; j < w; j++) out[offset + j] += gate[j] * src[o + j];
      else for (let j = 0; j < w; j++) out[offset + j] += src[o + j];
    } else {
      const src = this.f16!;
      const t = this.table!;
      if (gate) for (let j = 0; j < w; j++) out[offset + j] += gate[j] * t[src[o + j]];
      else for (let j = 0; j < w; j++) out[offset + j] += t[src[o + j]];
    }
  }
}

/** Everything cached for one layer on one guidance branch. */
export interface LayerCache {
  /** Raw self-attention output (after the o projection, before the gate). */
  sa: RowStore;
  /** Raw cross-attention output (it has no gate). */
  ca: RowStore;
  /** Raw FFN output (before the gate). */
  ffn: RowStore;
  /** Self-attention keys/values after RoPE, for variant B2 (null otherwise). */
  k: RowStore | null;
  v: RowStore | null;
  /** Forwards since each token was last recomputed in this layer. */
  age: Uint32Array;
  /** How often each token has been recomputed (bookkeeping and reports). */
  recomputed: Uint32Array;
  /** True once a dense pass has filled every row. */
  filled: boolean;
  /** Scorer inputs from the last dense pass (null until one ran). */
  valueScore: Float32Array | null;
  attentionScore: Float32Array | null;
}

export interface TokenCacheOptions {
  grid: TokenGrid;
  dim: number;
  layers: number;
  precision?: CachePrecision;
  /** Keep self-attention K/V per layer (needed by the 'cached-kv' variant). */
  keepKv?: boolean;
}

export interface CacheMemory {
  /** Bytes held by all allocated stores and counters. */
  total: number;
  /** Bytes per (branch, layer) of the module outputs, K/V and counters. */
  perLayer: number;
  /** Bytes of the stack residuals (step-skipping). */
  residuals: number;
  layersAllocated: number;
}

export class TokenCache {
  grid: TokenGrid;
  readonly dim: number;
  readonly layers: number;
  readonly precision: CachePrecision;
  readonly keepKv: boolean;
  private readonly states = new Map<GuidanceBranch, (LayerCache | undefined)[]>();
  /** Per branch: block-stack output minus input of the last full evaluation (TeaCache-like reuse). */
  private readonly residuals = new Map<GuidanceBranch, Float32Array>();

  constructor(o: TokenCacheOptions) {
    this.grid = { ...o.grid };
    this.dim = o.dim;
    this.layers = o.layers;
    this.precision = o.precision ?? 'f32';
    this.keepKv = o.keepKv ?? false;
  }

  get tokens(): number {
    return gridTokens(this.grid);
  }

  /** Drops everything (between generations). */
  reset(): void {
    this.states.clear();
    this.residuals.clear();
  }

  /** Adopts a new token grid; a different shape drops every cached row. Returns true if it reset. */
  configure(grid: TokenGrid): boolean {
    if (sameGrid(grid, this.grid)) return false;
    this.grid = { ...grid };
    this.reset();
    return true;
  }

  /** The layer's cache on a branch, allocated on first use. */
  layer(branch: GuidanceBranch, layer: number): LayerCache {
    if (layer < 0 || layer >= this.layers) throw new SparseShapeError(`token cache: layer ${layer} is outside 0..${this.layers - 1}`);
    let list = this.states.get(branch);
    if (!list) {
      list = new Array<LayerCache | undefined>(this.layers);
      this.states.set(branch, list);
    }
    let s = list[layer];
    if (!s) {
      const n = this.tokens;
      const store = (): RowStore => new RowStore(n, this.dim, this.precision);
      s = {
        sa: store(),
        ca: store(),
        ffn: store(),
        k: this.keepKv ? store() : null,
        v: this.keepKv ? store() : null,
        age: new Uint32Array(n),
        recomputed: new Uint32Array(n),
        filled: false,
        valueScore: null,
        attentionScore: null,
      };
      list[layer] = s;
    }
    return s;
  }

  /** True when the layer on that branch holds a complete set of rows. */
  isFilled(branch: GuidanceBranch, layer: number): boolean {
    return this.states.get(branch)?.[layer]?.filled ?? false;
  }

  /** Staleness bookkeeping after a forward of the layer: recomputed rows (null = all) go to 0, the rest age by 1. */
  markRecomputed(branch: GuidanceBranch, layer: number, rows: ArrayLike<number> | null): void {
    const s = this.layer(branch, layer);
    if (!rows) {
      s.age.fill(0);
      for (let i = 0; i < s.recomputed.length; i++) s.recomputed[i]++;
      s.filled = true;
      return;
    }
    for (let i = 0; i < s.age.length; i++) s.age[i]++;
    for (let i = 0; i < rows.length; i++) {
      s.age[rows[i]] = 0;
      s.recomputed[rows[i]]++;
    }
  }

  residual(branch: GuidanceBranch): Float32Array | null {
    return this.residuals.get(branch) ?? null;
  }

  setResidual(branch: GuidanceBranch, value: Float32Array): void {
    this.residuals.set(branch, value);
  }

  memory(): CacheMemory {
    let total = 0;
    let perLayer = 0;
    let layersAllocated = 0;
    for (const list of this.states.values())
      for (const s of list) {
        if (!s) continue;
        let b = s.sa.bytes + s.ca.bytes + s.ffn.bytes + (s.k?.bytes ?? 0) + (s.v?.bytes ?? 0) + s.age.byteLength + s.recomputed.byteLength;
        b += (s.valueScore?.byteLength ?? 0) + (s.attentionScore?.byteLength ?? 0);
        total += b;
        perLayer = Math.max(perLayer, b);
        layersAllocated++;
      }
    let residuals = 0;
    for (const r of this.residuals.values()) residuals += r.byteLength;
    return { total: total + residuals, perLayer, residuals, layersAllocated };
  }
}

/** Cache bytes a configuration will need, before allocating (3 stores, +2 with K/V, per layer and branch). */
export function estimateCacheBytes(o: TokenCacheOptions, branches = 2): number {
  const n = gridTokens(o.grid);
  const stores = 3 + (o.keepKv ? 2 : 0);
  const elem = (o.precision ?? 'f32') === 'f16' ? 2 : 4;
  return branches * o.layers * (stores * n * o.dim * elem + 8 * n);
}
