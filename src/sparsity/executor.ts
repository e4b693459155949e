/**
 * Sparse block execution: `SparseDiT` is a VelocityModel that runs the WanDiT stages with,
 * for every (step, layer), the recompute level its plan gives.
 *
 * - level 1: the dense block, through exactly the stage calls of `WanDiT.block`, so an
 *   all-ones plan reproduces the dense model bit for bit; raw SA/CA/FFN outputs (and K/V for
 *   'cached-kv') are stored for every token, plus the scorer signals.
 * - level 0: every token reuses its cached raw outputs with the current step's gates:
 *   x_out = x + m2·SA + CA + m5·FFN.
 * - partial: the top-k tokens by score are recomputed, the rest reuse as above. Self-attention
 *   for the recomputed rows follows the plan's variant: 'reuse' (cached output, ToCa),
 *   'fresh-kv' (their queries against fresh K/V of all tokens, B1) or 'cached-kv' (fresh
 *   Q/K/V of the selected rows, cached K/V of the others, B2). Cross-attention and FFN run
 *   on the selected rows through the row-wise `post` stage.
 * A layer whose cache is still empty runs dense whatever the plan says (counted in stats).
 * With reuse 'stack-residual' (TeaCache-like), all-zero steps skip the whole block stack
 * and add the residual x_out − x_in of the branch's last full evaluation instead.
 * Caches are per guidance branch; a new generation (a step index that does not advance) or
 * a new latent size resets them.
 */
import { DenseDiT } from '../models/wan/dit/dense.js';
import { gatherRows, scatterRows } from '../models/wan/dit/rows.js';
import type { RopeTables } from '../models/wan/dit/rope.js';
import type { ContextKV, WanDiT } from '../models/wan/dit/runtime.js';
import type { GuidanceBranch, Latent, StepInfo, TextContext, VelocityModel } from '../pipeline/types.js';
import { AttentionInfluence } from './attentionScore.js';
import { TokenCache, type CachePrecision, type LayerCache } from './cache.js';
import { SparseShapeError } from './errors.js';
import { levelFlops, tokensForLevel, type AttentionVariant, type FlopsShape } from './flops.js';
import { modulationRows, readBlockModulations } from './modulation.js';
import type { ReuseMode, Schedule } from './schedule.js';
import { DEFAULT_SCORE_WEIGHTS, tokenScores, topK, valueNormSignal, type ScoreWeights } from './scores.js';

/** What the executor needs from a schedule. */
export interface SparsePlan {
  /** table[step][layer]: share of tokens recomputed, in [0, 1]. */
  table: readonly (readonly number[])[];
  attention: AttentionVariant;
  reuse: ReuseMode;
}

export const planFromSchedule = (s: Schedule): SparsePlan => ({ table: s.table, attention: s.attention, reuse: s.reuse });

/** A plan of all ones: the dense model through the sparse executor. */
export const densePlan = (steps: number, layers: number): SparsePlan => ({
  table: Array.from({ length: steps }, () => new Array<number>(layers).fill(1)),
  attention: 'reuse',
  reuse: 'module-outputs',
});

export interface SparseDiTOptions {
  precision?: CachePrecision;
  scoreWeights?: ScoreWeights;
  /** Query rows sampled for the attention-influence signal (default 256). */
  attentionQueries?: number;
}

export interface SparseStats {
  /** Block executions per kind (all branches). */
  dense: number;
  partial: number;
  reused: number;
  /** Dense runs forced because a layer's cache was still empty. */
  forcedDense: number;
  /** Whole steps served from the stack residual. */
  skippedSteps: number;
  /** Tokens recomputed in partial blocks. */
  recomputedTokens: number;
  /** Executed level per branch, step and layer (after forced-dense fallbacks). */
  executed: Map<GuidanceBranch, number[][]>;
  /** Milliseconds in the JS reuse/assembly and in scoring. */
  assemblyMs: number;
  scoringMs: number;
}

const newStats = (): SparseStats => ({ dense: 0, partial: 0, reused: 0, forcedDense: 0, skippedSteps: 0, recomputedTokens: 0, executed: new Map(), assemblyMs: 0, scoringMs: 0 });

export class SparseDiT implements VelocityModel {
  readonly cache: TokenCache;
  stats: SparseStats = newStats();
  private readonly dense: DenseDiT;
  private readonly weights: ScoreWeights;
  private readonly lastStep = new Map<GuidanceBranch, number>();
  /** Layers whose cache the plan ever reads (others skip the writes). */
  private readonly needsCache: boolean[];

  private constructor(
    readonly dit: WanDiT,
    readonly plan: SparsePlan,
    private readonly modulations: Float32Array[],
    private readonly influence: AttentionInfluence | null,
    options: SparseDiTOptions,
  ) {
    const c = dit.config;
    this.dense = new DenseDiT(dit);
    this.weights = options.scoreWeights ?? { ...DEFAULT_SCORE_WEIGHTS };
    this.cache = new TokenCache({ grid: { frames: 1, height: 1, width: 1 }, dim: c.dim, layers: c.numLayers, precision: options.precision, keepKv: plan.attention === 'cached-kv' });
    this.needsCache = Array.from({ length: c.numLayers }, (_, l) => plan.reuse === 'module-outputs' && plan.table.some((row) => row[l] < 1));
  }

  static async create(dit: WanDiT, plan: SparsePlan, options: SparseDiTOptions = {}): Promise<SparseDiT> {
    const layers = dit.config.numLayers;
    plan.table.forEach((row, t) => {
      if (row.length !== layers) throw new SparseShapeError(`sparse plan: step ${t} has ${row.length} layers but the model has ${layers}; use a schedule made for this model`);
      for (const v of row) if (!(v >= 0 && v <= 1)) throw new SparseShapeError(`sparse plan: level ${v} at step ${t} is outside [0, 1]`);
    });
    const weights = options.scoreWeights ?? DEFAULT_SCORE_WEIGHTS;
    const queries = options.attentionQueries ?? 256;
    const influence = weights.attention !== 0 && queries > 0 ? await AttentionInfluence.create(dit.config.dim, dit.config.numHeads, queries) : null;
    return new SparseDiT(dit, plan, readBlockModulations(dit), influence, options);
  }

  async release(): Promise<void> {
    await this.influence?.release();
  }

  /** Clears caches and statistics (also done automatically when a new generation starts). */
  reset(): void {
    this.cache.reset();
    this.lastStep.clear();
    this.stats = newStats();
  }

  /** FLOPs of the blocks actually executed so far (all branches), for measured ratios. */
  executedBlockFlops(shape: FlopsShape): number {
    let total = 0;
    for (const table of this.stats.executed.values()) for (const row of table) for (const v of row) total += levelFlops(shape, v, this.plan.attention);
    return total;
  }

  async predict(latent: Latent, timestep: number, context: TextContext, info: StepInfo): Promise<Float32Array> {
    const { dit, plan } = this;
    if (info.steps !== plan.table.length)
      throw new SparseShapeError(`the sparsity schedule has ${plan.table.length} steps but this generation uses ${info.steps}; resample the schedule to ${info.steps} steps (resampleSchedule) or generate with ${plan.table.length} steps`);
    const last = this.lastStep.get(info.branch);
    if (last !== undefined && info.step <= last) this.reset();
    this.lastStep.set(info.branch, info.step);

    const { patches, grid } = dit.patchify(latent);
    this.cache.configure({ frames: grid.frames, height: grid.rows, width: grid.cols });
    const text = await this.dense.textState(context);
    const { e, e0 } = await dit.embedTime(timestep);
    const rope = dit.ropeTables(grid);
    const x0 = await dit.embedPatches(patches);
    const levels = plan.table[info.step];
    const executed = this.executedTable(info.branch);

    let x: Float32Array;
    const residual = this.cache.residual(info.branch);
    if (plan.reuse === 'stack-residual' && levels.every((v) => v === 0) && residual) {
      x = new Float32Array(x0.length);
      for (let i = 0; i < x.length; i++) x[i] = x0[i] + residual[i];
      executed[info.step] = new Array<number>(levels.length).fill(0);
      this.stats.skippedSteps++;
    } else {
      x = x0;
      const row: number[] = [];
      for (let l = 0; l < levels.length; l++) {
        const level = plan.reuse === 'stack-residual' ? 1 : levels[l];
        const { x: next, ran } = await this.layer(info.branch, l, level, x, e0, rope, text.kv[l]);
        row.push(ran);
        x = next;
      }
      executed[info.step] = row;
      if (plan.reuse === 'stack-residual') {
        const r = new Float32Array(x.length);
        for (let i = 0; i < r.length; i++) r[i] = x[i] - x0[i];
        this.cache.setResidual(info.branch, r);
      }
    }
    return dit.unpatchify(await dit.head(x, e), grid).data;
  }

  private executedTable(branch: GuidanceBranch): number[][] {
    let t = this.stats.executed.get(branch);
    if (!t) {
      t = [];
      this.stats.executed.set(branch, t);
    }
    return t;
  }

  /** One block at a level; returns the block output and the level actually run. */
  private async layer(branch: GuidanceBranch, l: number, level: number, x: Float32Array, e0: Float32Array, rope: RopeTables, kv: ContextKV): Promise<{ x: Float32Array; ran: number }> {
    const n = this.cache.tokens;
    const k = tokensForLevel(level, n);
    const usesCache = this.needsCache[l];
    if (k === n || !usesCache || !this.cache.isFilled(branch, l)) {
      if (k < n) this.stats.forcedDense++;
      return { x: await this.denseLayer(branch, l, x, e0, rope, kv, usesCache), ran: 1 };
    }
    const c = this.cache.layer(branch, l);
    const m = modulationRows(this.modulations[l], e0);
    if (k === 0) {
      const t0 = performance.now();
      const out = this.assemble(c, x, m, null);
      this.cache.markRecomputed(branch, l, []);
      this.stats.assemblyMs += performance.now() - t0;
      this.stats.reused++;
      return { x: out, ran: 0 };
    }
    const ts = performance.now();
    const rows = topK(tokenScores({ age: c.age, attention: c.attentionScore, value: c.valueScore }, this.cache.grid, this.weights), k);
    this.stats.scoringMs += performance.now() - ts;
    const D = this.dit.config.dim;
    let ySa: Float32Array;
    switch (this.plan.attention) {
      case 'reuse':
        ySa = c.sa.read(rows);
        break;
      case 'fresh-kv': {
        const qkv = await this.dit.selfAttnQKV(l, x, e0, rope);
        ySa = await this.dit.selfAttnOut(l, await this.dit.attention(gatherRows(qkv.q, D, rows), qkv.k, qkv.v));
        c.sa.write(rows, ySa);
        break;
      }
      case 'cached-kv': {
        const qkv = await this.dit.selfAttnQKV(l, x, e0, rope, rows);
        c.k!.write(rows, qkv.k);
        c.v!.write(rows, qkv.v);
        const keys = c.k!.f32 ?? c.k!.read(null);
        const values = c.v!.f32 ?? c.v!.read(null);
        ySa = await this.dit.selfAttnOut(l, await this.dit.attention(qkv.q, keys, values));
        c.sa.write(rows, ySa);
        break;
      }
    }
    const post = await this.dit.post(l, gatherRows(x, D, rows), ySa, e0, kv);
    const t0 = performance.now();
    c.ca.write(rows, post.yCa);
    c.ffn.write(rows, post.yFfn);
    const out = this.assemble(c, x, m, rows);
    scatterRows(out, D, rows, post.x);
    this.cache.markRecomputed(branch, l, rows);
    this.stats.assemblyMs += performance.now() - t0;
    this.stats.partial++;
    this.stats.recomputedTokens += k;
    return { x: out, ran: level };
  }

  /** The dense block (the same stage calls as WanDiT.block), filling the cache. */
  private async denseLayer(branch: GuidanceBranch, l: number, x: Float32Array, e0: Float32Array, rope: RopeTables, kv: ContextKV, store: boolean): Promise<Float32Array> {
    const { q, k, v } = await this.dit.selfAttnQKV(l, x, e0, rope);
    const ySa = await this.dit.selfAttnOut(l, await this.dit.attention(q, k, v));
    const post = await this.dit.post(l, x, ySa, e0, kv);
    this.stats.dense++;
    if (!store) return post.x;
    const c = this.cache.layer(branch, l);
    c.sa.write(null, ySa);
    c.ca.write(null, post.yCa);
    c.ffn.write(null, post.yFfn);
    if (c.k && c.v) {
      c.k.write(null, k);
      c.v.write(null, v);
    }
    const t0 = performance.now();
    if (this.weights.value !== 0) c.valueScore = valueNormSignal(v, this.cache.tokens, this.dit.config.numHeads);
    if (this.influence) c.attentionScore = await this.influence.compute(q, k);
    this.stats.scoringMs += performance.now() - t0;
    this.cache.markRecomputed(branch, l, null);
    return post.x;
  }

  /** x + m2·SA + CA + m5·FFN from the cache for every row not in `skip` (whose rows are left as x). */
  private assemble(c: LayerCache, x: Float32Array, m: Float32Array, skip: ArrayLike<number> | null): Float32Array {
    const D = this.dit.config.dim;
    const n = this.cache.tokens;
    const out = new Float32Array(x);
    const gateSa = m.subarray(2 * D, 3 * D);
    const gateFfn = m.subarray(5 * D, 6 * D);
    let mask: Uint8Array | null = null;
    if (skip) {
      mask = new Uint8Array(n);
      for (let i = 0; i < skip.length; i++) mask[skip[i]] = 1;
    }
    for (let i = 0; i < n; i++) {
      if (mask && mask[i]) continue;
      const o = i * D;
      c.sa.addRowInto(i, gateSa, out, o);
      c.ca.addRowInto(i, null, out, o);
      c.ffn.addRowInto(i, gateFfn, out, o);
    }
    return out;
  }
}
