/**
 * Sparse block execution: `SparseDiT` is a VelocityModel that runs the DiT's one block loop
 * (`WanDiT.forwardWithText`) with the hooks of its plan's reuse mode; it holds the token
 * cache and the statistics, and checks the plan against each generation.
 *
 * `TokenReuseHooks` (reuse 'module-outputs', the engine of learned schedules, ToCa-like
 * uniform tokens and FORA-like block reuse) gives every (step, layer) the recompute level
 * of the plan:
 * - level 1: the block runs whole in the loop (the very stage calls of the dense model, so
 *   an all-ones plan reproduces it bit for bit); its raw SA/CA/FFN outputs (and K/V for
 *   'cached-kv') are stored for every token, plus the scorer signals.
 * - level 0: every token reuses its cached raw outputs with the current step's gates:
 *   x_out = x + m2·SA + CA + m5·FFN.
 * - partial: the top-k tokens by score are recomputed, the rest reuse as above. Self-attention
 *   for the recomputed rows follows the plan's variant: 'reuse' (cached output, ToCa),
 *   'fresh-kv' (their queries against fresh K/V of all tokens, B1) or 'cached-kv' (fresh
 *   Q/K/V of the selected rows, cached K/V of the others, B2). Cross-attention and FFN run
 *   on the selected rows in the loop's row-wise `post` stage.
 * A layer whose cache is still empty runs whole whatever the plan says (counted in stats).
 * Reuse 'stack-residual' (TeaCache-like step skipping) has its hooks in methods/step-skip.ts.
 * Caches are per guidance branch; a new generation (a step index that does not advance) or
 * a new latent size resets them.
 */
import { DiTVelocityModel } from '../models/wan/dit/dense.js';
import type { BlockCall, BlockDecision, ForwardHooks, PassState, WholeBlockOutputs } from '../models/wan/dit/hooks.js';
import { gatherRows } from '../models/wan/dit/rows.js';
import type { WanDiT } from '../models/wan/dit/runtime.js';
import type { GuidanceBranch, Latent, StepInfo, TextContext, VelocityModel } from '../core/types.js';
import { AttentionInfluence } from './attentionScore.js';
import { TokenCache, type LayerCache } from './cache.js';
import { SparseShapeError } from './errors.js';
import { levelFlops, tokensForLevel, type FlopsShape } from './flops.js';
import { StackResidualHooks } from './methods/step-skip.js';
import { modulationRows, readBlockModulations } from './modulation.js';
import { newStats, passInfo, recordExecuted, type SparseDiTOptions, type SparsePlan, type SparseRunState, type SparseStats } from './run-state.js';
import { DEFAULT_SCORE_WEIGHTS, SCORE_MIXES, movementSignal, tokenScores, topK, valueNormSignal, type ScoreWeights } from './scores.js';
import { newLayerForecast, sigmaOfTimestep, type LayerForecast } from './forecast.js';

/** The token rows a partial block recomputed and their block outputs, in that order. */
interface FreshRows {
  rows: ArrayLike<number>;
  x: Float32Array;
}

/** What the optional features keep per layer cache: forecast histories and the cached block inputs (movement score). */
interface LayerExtras {
  forecast?: LayerForecast;
  input?: Float32Array;
}

export * from './run-state.js';

/** The score weights a run uses: the options', else the plan's named mix, else the default. */
function planWeights(plan: SparsePlan, options: SparseDiTOptions): ScoreWeights {
  if (options.scoreWeights) return options.scoreWeights;
  if (plan.scores === undefined) return DEFAULT_SCORE_WEIGHTS;
  const mix = SCORE_MIXES[plan.scores];
  if (!mix) throw new SparseShapeError(`sparse plan: unknown score mix "${plan.scores}"; use one of ${Object.keys(SCORE_MIXES).join(', ')}`);
  return mix;
}

export class SparseDiT implements VelocityModel, SparseRunState {
  readonly cache: TokenCache;
  stats: SparseStats = newStats();
  timestep = 0;
  private readonly model: DiTVelocityModel;
  private readonly lastStep = new Map<GuidanceBranch, number>();

  private constructor(
    readonly dit: WanDiT,
    readonly plan: SparsePlan,
    private readonly influence: AttentionInfluence | null,
    options: SparseDiTOptions,
  ) {
    const c = dit.config;
    this.cache = new TokenCache({ grid: { frames: 1, height: 1, width: 1 }, dim: c.dim, layers: c.numLayers, precision: options.precision, keepKv: plan.attention === 'cached-kv' });
    const hooks = options.hooks ? options.hooks(this) : plan.reuse === 'stack-residual' ? new StackResidualHooks(this) : new TokenReuseHooks(this, readBlockModulations(dit), influence, { ...planWeights(plan, options) });
    this.model = new DiTVelocityModel(dit, hooks);
  }

  static async create(dit: WanDiT, plan: SparsePlan, options: SparseDiTOptions = {}): Promise<SparseDiT> {
    const layers = dit.config.numLayers;
    plan.table.forEach((row, t) => {
      if (row.length !== layers) throw new SparseShapeError(`sparse plan: step ${t} has ${row.length} layers but the model has ${layers}; use a schedule made for this model`);
      for (const v of row) if (!(v >= 0 && v <= 1)) throw new SparseShapeError(`sparse plan: level ${v} at step ${t} is outside [0, 1]`);
    });
    const weights = planWeights(plan, options);
    const queries = options.attentionQueries ?? 256;
    // The scorer's signals only serve partial levels: a table of whole blocks (FORA-like reuse, all ones) needs none.
    const partial = plan.table.some((row) => row.some((v) => v > 0 && v < 1));
    const influence = !options.hooks && partial && plan.reuse !== 'stack-residual' && weights.attention !== 0 && queries > 0 ? await AttentionInfluence.create(dit.config.dim, dit.config.numHeads, queries) : null;
    return new SparseDiT(dit, plan, influence, options);
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
    const { plan } = this;
    if (info.steps !== plan.table.length)
      throw new SparseShapeError(`the sparsity schedule has ${plan.table.length} steps but this generation uses ${info.steps}; resample the schedule to ${info.steps} steps (resampleSchedule) or generate with ${plan.table.length} steps`);
    const last = this.lastStep.get(info.branch);
    if (last !== undefined && info.step <= last) this.reset();
    this.lastStep.set(info.branch, info.step);
    this.timestep = timestep;
    return this.model.predict(latent, timestep, context, info);
  }
}

/**
 * out = x + m2·SA + CA + m5·FFN over float32 caches for every token not flagged in `recomputed`:
 * one fused pass with the same float32 roundings in the same order as three row adds. A
 * function of its own, so the loop optimised on its first call has no code after it that never
 * ran (in a fresh process that code cost `assemble` several deoptimisations per generation).
 */
function assembleReusedRows(out: Float32Array, x: Float32Array, sa: Float32Array, ca: Float32Array, ffn: Float32Array, gateSa: Float32Array, gateFfn: Float32Array, recomputed: Uint8Array, D: number): void {
  for (let i = 0; i < recomputed.length; i++) {
    if (recomputed[i]) continue;
    const o = i * D;
    for (let j = 0; j < D; j++) {
      const k = o + j;
      let v = Math.fround(x[k] + gateSa[j] * sa[k]);
      v = Math.fround(v + ca[k]);
      out[k] = v + gateFfn[j] * ffn[k];
    }
  }
}

/**
 * As `assembleReusedRows`, each module output forecast: ŷ = y + (y − y_prev)·a[row], with the
 * same float32 roundings, in the same order, as adding the three forecast rows one at a time.
 */
function assembleForecastRows(out: Float32Array, x: Float32Array, sa: ForecastInputs, ca: ForecastInputs, ffn: ForecastInputs, gateSa: Float32Array, gateFfn: Float32Array, recomputed: Uint8Array, D: number): void {
  // Locals, not property loads, in the inner loop. A factor of 0 (held constant) needs no branch:
  // y + (y − prev)·0 is y exactly, prev being finite.
  const ySa = sa.y, pSa = sa.prev, fSa = sa.factor;
  const yCa = ca.y, pCa = ca.prev, fCa = ca.factor;
  const yFfn = ffn.y, pFfn = ffn.prev, fFfn = ffn.factor;
  for (let i = 0; i < recomputed.length; i++) {
    if (recomputed[i]) continue;
    const o = i * D;
    const aSa = fSa[i];
    const aCa = fCa[i];
    const aFfn = fFfn[i];
    for (let j = 0; j < D; j++) {
      const k = o + j;
      const s = ySa[k];
      const c = yCa[k];
      const f = yFfn[k];
      let v = Math.fround(x[k] + gateSa[j] * (s + (s - pSa[k]) * aSa));
      v = Math.fround(v + (c + (c - pCa[k]) * aCa));
      out[k] = v + gateFfn[j] * (f + (f - pFfn[k]) * aFfn);
    }
  }
}

/** One module's cached outputs, previous outputs and per-row extrapolation factors. */
interface ForecastInputs {
  y: Float32Array;
  prev: Float32Array;
  factor: Float64Array;
}

/** Writes the recomputed rows' block outputs into their token rows of `out`. */
function writeRows(out: Float32Array, D: number, fresh: FreshRows): void {
  for (let j = 0; j < fresh.rows.length; j++) {
    const src = fresh.x;
    const from = j * D;
    const to = fresh.rows[j] * D;
    for (let d = 0; d < D; d++) out[to + d] = src[from + d];
  }
}

/** Per-(step, layer) recompute levels over the token cache (reuse 'module-outputs'). */
export class TokenReuseHooks implements ForwardHooks {
  /** Layers whose cache the plan ever reads (others skip the writes). */
  private readonly needsCache: boolean[];
  /** Layers the plan ever runs at a partial level (only they need the scorer's signals). */
  private readonly needsSignals: boolean[];
  /** Levels run in the current pass. */
  private row: number[] = [];
  /** Forecast histories and cached block inputs, per layer cache (dropped with it on reset). */
  private readonly extras = new WeakMap<LayerCache, LayerExtras>();
  private readonly forecast: boolean;
  private readonly movement: boolean;
  private scratch = new Float32Array(0);
  /** Per-row forecast factors of SA, CA and FFN for the layer being assembled. */
  private factors: Float64Array[] = [];
  /**
   * Per layer, the array its reused or merged block outputs are assembled in: the next block
   * reads it as its input before this layer runs again, so no pass needs a fresh one.
   */
  private readonly outputs: Float32Array[] = [];
  /** Flags the rows a merge recomputed; all zero between merges. */
  private recomputedRows = new Uint8Array(0);

  constructor(
    private readonly run: SparseRunState,
    private readonly modulations: Float32Array[],
    private readonly influence: AttentionInfluence | null,
    private readonly weights: ScoreWeights,
  ) {
    const { plan } = run;
    this.needsCache = Array.from({ length: run.dit.config.numLayers }, (_, l) => plan.table.some((row) => row[l] < 1));
    this.needsSignals = Array.from({ length: run.dit.config.numLayers }, (_, l) => plan.table.some((row) => row[l] > 0 && row[l] < 1));
    this.forecast = plan.forecast === 'linear';
    this.movement = (weights.movement ?? 0) !== 0;
  }

  private extra(c: LayerCache): LayerExtras {
    let e = this.extras.get(c);
    if (!e) {
      e = {};
      this.extras.set(c, e);
    }
    return e;
  }

  /** The forecast time of a pass: its step index, or its sigma. */
  private time(pass: PassState): number {
    return this.run.plan.forecastAxis === 'sigma' ? sigmaOfTimestep(this.run.timestep ?? 0) : passInfo(pass).step;
  }

  private histories(c: LayerCache): LayerForecast {
    const e = this.extra(c);
    e.forecast ??= newLayerForecast(this.run.cache.tokens, this.run.dit.config.dim);
    return e.forecast;
  }

  beginPass(pass: PassState): null {
    this.run.cache.configure({ frames: pass.grid.frames, height: pass.grid.rows, width: pass.grid.cols });
    this.row = [];
    return null;
  }

  endPass(pass: PassState): void {
    recordExecuted(this.run.stats, passInfo(pass), this.row);
  }

  /** One block at its level; records the level actually run. */
  decide(call: BlockCall): BlockDecision {
    const { cache, stats, dit } = this.run;
    const { branch, step } = passInfo(call.pass);
    const l = call.layer;
    const level = this.run.plan.table[step][l];
    const { x } = call;
    const { e0, rope } = call.pass;
    const n = cache.tokens;
    const k = tokensForLevel(level, n);
    if (k === n || !this.needsCache[l] || !cache.isFilled(branch, l)) {
      if (k < n) stats.forcedDense++;
      this.row.push(1);
      return { kind: 'whole' };
    }
    const c = cache.layer(branch, l);
    const m = modulationRows(this.modulations[l], e0);
    if (k === 0) {
      const t0 = performance.now();
      const out = this.assemble(c, l, x, m, null, call.pass);
      cache.markRecomputed(branch, l, []);
      stats.assemblyMs += performance.now() - t0;
      stats.reused++;
      this.row.push(0);
      return { kind: 'reuse', x: out };
    }
    const ts = performance.now();
    const cachedInput = this.movement ? this.extra(c).input : undefined;
    const movement = cachedInput ? movementSignal(x, cachedInput, dit.config.dim) : null;
    const rows = topK(tokenScores({ age: c.age, attention: c.attentionScore, value: c.valueScore, ...(movement && { movement }) }, cache.grid, this.weights), k);
    stats.scoringMs += performance.now() - ts;
    const D = dit.config.dim;
    const attention = this.run.plan.attention;
    const selfAttention = async (): Promise<Float32Array> => {
      switch (attention) {
        case 'reuse':
          return c.sa.read(rows);
        case 'fresh-kv': {
          const qkv = await dit.selfAttnQKV(l, x, e0, rope);
          const ySa = await dit.selfAttnOut(l, await dit.attention(gatherRows(qkv.q, D, rows), qkv.k, qkv.v));
          if (this.forecast) this.histories(c).sa.record(c.sa, rows, this.time(call.pass));
          c.sa.write(rows, ySa);
          return ySa;
        }
        case 'cached-kv': {
          const qkv = await dit.selfAttnQKV(l, x, e0, rope, rows);
          c.k!.write(rows, qkv.k);
          c.v!.write(rows, qkv.v);
          const keys = c.k!.f32 ?? c.k!.read(null);
          const values = c.v!.f32 ?? c.v!.read(null);
          const ySa = await dit.selfAttnOut(l, await dit.attention(qkv.q, keys, values));
          if (this.forecast) this.histories(c).sa.record(c.sa, rows, this.time(call.pass));
          c.sa.write(rows, ySa);
          return ySa;
        }
      }
    };
    this.row.push(level);
    return {
      kind: 'rows',
      rows,
      selfAttention,
      merge: (post) => {
        const t0 = performance.now();
        if (this.forecast) {
          const h = this.histories(c);
          const t = this.time(call.pass);
          h.ca.record(c.ca, rows, t);
          h.ffn.record(c.ffn, rows, t);
        }
        c.ca.write(rows, post.yCa);
        c.ffn.write(rows, post.yFfn);
        if (cachedInput) for (let i = 0; i < rows.length; i++) cachedInput.set(x.subarray(rows[i] * D, (rows[i] + 1) * D), rows[i] * D);
        const out = this.assemble(c, l, x, m, { rows, x: post.x }, call.pass);
        cache.markRecomputed(branch, l, rows);
        stats.assemblyMs += performance.now() - t0;
        stats.partial++;
        stats.recomputedTokens += k;
        return out;
      },
    };
  }

  /** A whole block ran: fill the layer's cache and the scorer signals. */
  async afterWhole(call: BlockCall, out: WholeBlockOutputs): Promise<void> {
    const { cache, stats, dit } = this.run;
    const l = call.layer;
    stats.dense++;
    if (!this.needsCache[l]) return;
    const { branch } = passInfo(call.pass);
    const c = cache.layer(branch, l);
    if (this.movement && this.needsSignals[l]) {
      const e = this.extra(c);
      if (e.input?.length === call.x.length) e.input.set(call.x);
      else e.input = new Float32Array(call.x);
    }
    // The whole block's stage outputs are fresh arrays that nothing else keeps: the cache takes
    // them, and with a forecast the rows they replace become the previous computation.
    if (this.forecast) {
      const h = this.histories(c);
      const t = this.time(call.pass);
      h.sa.recordWhole(c.sa, out.ySa, t);
      h.ca.recordWhole(c.ca, out.yCa, t);
      h.ffn.recordWhole(c.ffn, out.yFfn, t);
    } else {
      c.sa.adopt(out.ySa);
      c.ca.adopt(out.yCa);
      c.ffn.adopt(out.yFfn);
    }
    if (c.k && c.v) {
      c.k.adopt(out.k);
      c.v.adopt(out.v);
    }
    const t0 = performance.now();
    if (this.needsSignals[l]) {
      if (this.weights.value !== 0) c.valueScore = valueNormSignal(out.v, cache.tokens, dit.config.numHeads);
      if (this.influence) c.attentionScore = await this.influence.compute(out.q, out.k);
    }
    stats.scoringMs += performance.now() - t0;
    cache.markRecomputed(branch, l, null);
  }

  /** Layer `layer`'s output array. */
  private outputArray(layer: number, length: number): Float32Array {
    let out = this.outputs[layer];
    if (out?.length !== length) this.outputs[layer] = out = new Float32Array(length);
    return out;
  }

  /**
   * The rows of `fresh` flagged in the one mask every assembly reads (all zero without it, so
   * the loops see one array type); `unflag` clears them again.
   */
  private flag(fresh: FreshRows | null): Uint8Array {
    const n = this.run.cache.tokens;
    if (this.recomputedRows.length !== n) this.recomputedRows = new Uint8Array(n);
    if (fresh) for (let j = 0; j < fresh.rows.length; j++) this.recomputedRows[fresh.rows[j]] = 1;
    return this.recomputedRows;
  }

  private unflag(fresh: FreshRows | null): void {
    if (fresh) for (let j = 0; j < fresh.rows.length; j++) this.recomputedRows[fresh.rows[j]] = 0;
  }

  /**
   * The block output in the layer's output array: a recomputed token's row of `fresh`, every
   * other token's x + m2·SA + CA + m5·FFN from the cache (forecast when the plan says so).
   */
  private assemble(c: LayerCache, layer: number, x: Float32Array, m: Float32Array, fresh: FreshRows | null, pass: PassState): Float32Array {
    if (this.forecast) return this.assembleForecast(c, layer, x, m, fresh, pass);
    const D = this.run.dit.config.dim;
    const n = this.run.cache.tokens;
    const out = this.outputArray(layer, x.length);
    const gateSa = m.subarray(2 * D, 3 * D);
    const gateFfn = m.subarray(5 * D, 6 * D);
    const recomputed = this.flag(fresh);
    const sa = c.sa.f32;
    const ca = c.ca.f32;
    const ffn = c.ffn.f32;
    if (sa && ca && ffn) assembleReusedRows(out, x, sa, ca, ffn, gateSa, gateFfn, recomputed, D);
    else
      for (let i = 0; i < n; i++) {
        if (recomputed[i]) continue;
        const o = i * D;
        out.set(x.subarray(o, o + D), o);
        c.sa.addRowInto(i, gateSa, out, o);
        c.ca.addRowInto(i, null, out, o);
        c.ffn.addRowInto(i, gateFfn, out, o);
      }
    this.unflag(fresh);
    if (fresh) writeRows(out, D, fresh);
    return out;
  }

  /** As `assemble`, with each module output extrapolated from the token's last two computations. */
  private assembleForecast(c: LayerCache, layer: number, x: Float32Array, m: Float32Array, fresh: FreshRows | null, pass: PassState): Float32Array {
    const D = this.run.dit.config.dim;
    const n = this.run.cache.tokens;
    const out = this.outputArray(layer, x.length);
    const gateSa = m.subarray(2 * D, 3 * D);
    const gateFfn = m.subarray(5 * D, 6 * D);
    const h = this.histories(c);
    const t = this.time(pass);
    const recomputed = this.flag(fresh);
    const sa = c.sa.f32;
    const ca = c.ca.f32;
    const ffn = c.ffn.f32;
    if (sa && ca && ffn) {
      if (this.factors.length !== 3 || this.factors[0].length !== n) this.factors = [0, 1, 2].map(() => new Float64Array(n));
      const [fSa, fCa, fFfn] = this.factors;
      assembleForecastRows(out, x, { y: sa, prev: h.sa.prev, factor: h.sa.factorsAt(t, fSa) }, { y: ca, prev: h.ca.prev, factor: h.ca.factorsAt(t, fCa) }, { y: ffn, prev: h.ffn.prev, factor: h.ffn.factorsAt(t, fFfn) }, gateSa, gateFfn, recomputed, D);
    } else {
      if (this.scratch.length !== D) this.scratch = new Float32Array(D);
      for (let i = 0; i < n; i++) {
        if (recomputed[i]) continue;
        const o = i * D;
        out.set(x.subarray(o, o + D), o);
        h.sa.addRowInto(c.sa, i, t, gateSa, out, o, this.scratch);
        h.ca.addRowInto(c.ca, i, t, null, out, o, this.scratch);
        h.ffn.addRowInto(c.ffn, i, t, gateFfn, out, o, this.scratch);
      }
    }
    this.unflag(fresh);
    if (fresh) writeRows(out, D, fresh);
    return out;
  }
}
