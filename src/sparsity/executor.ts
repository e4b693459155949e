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
import { gatherRows, scatterRows } from '../models/wan/dit/rows.js';
import type { WanDiT } from '../models/wan/dit/runtime.js';
import type { GuidanceBranch, Latent, StepInfo, TextContext, VelocityModel } from '../core/types.js';
import { AttentionInfluence } from './attentionScore.js';
import { TokenCache, type CachePrecision, type LayerCache } from './cache.js';
import { SparseShapeError } from './errors.js';
import { levelFlops, tokensForLevel, type FlopsShape } from './flops.js';
import { StackResidualHooks } from './methods/step-skip.js';
import { modulationRows, readBlockModulations } from './modulation.js';
import { newStats, passInfo, recordExecuted, type SparseDiTOptions, type SparsePlan, type SparseRunState, type SparseStats } from './run-state.js';
import { DEFAULT_SCORE_WEIGHTS, tokenScores, topK, valueNormSignal, type ScoreWeights } from './scores.js';

export * from './run-state.js';

export class SparseDiT implements VelocityModel, SparseRunState {
  readonly cache: TokenCache;
  stats: SparseStats = newStats();
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
    const hooks = options.hooks ? options.hooks(this) : plan.reuse === 'stack-residual' ? new StackResidualHooks(this) : new TokenReuseHooks(this, readBlockModulations(dit), influence, options.scoreWeights ?? { ...DEFAULT_SCORE_WEIGHTS });
    this.model = new DiTVelocityModel(dit, hooks);
  }

  static async create(dit: WanDiT, plan: SparsePlan, options: SparseDiTOptions = {}): Promise<SparseDiT> {
    const layers = dit.config.numLayers;
    plan.table.forEach((row, t) => {
      if (row.length !== layers) throw new SparseShapeError(`sparse plan: step ${t} has ${row.length} layers but the model has ${layers}; use a schedule made for this model`);
      for (const v of row) if (!(v >= 0 && v <= 1)) throw new SparseShapeError(`sparse plan: level ${v} at step ${t} is outside [0, 1]`);
    });
    const weights = options.scoreWeights ?? DEFAULT_SCORE_WEIGHTS;
    const queries = options.attentionQueries ?? 256;
    const influence = !options.hooks && plan.reuse !== 'stack-residual' && weights.attention !== 0 && queries > 0 ? await AttentionInfluence.create(dit.config.dim, dit.config.numHeads, queries) : null;
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
    return this.model.predict(latent, timestep, context, info);
  }
}

/** Per-(step, layer) recompute levels over the token cache (reuse 'module-outputs'). */
export class TokenReuseHooks implements ForwardHooks {
  /** Layers whose cache the plan ever reads (others skip the writes). */
  private readonly needsCache: boolean[];
  /** Levels run in the current pass. */
  private row: number[] = [];

  constructor(
    private readonly run: SparseRunState,
    private readonly modulations: Float32Array[],
    private readonly influence: AttentionInfluence | null,
    private readonly weights: ScoreWeights,
  ) {
    const { plan } = run;
    this.needsCache = Array.from({ length: run.dit.config.numLayers }, (_, l) => plan.table.some((row) => row[l] < 1));
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
      const out = this.assemble(c, x, m, null);
      cache.markRecomputed(branch, l, []);
      stats.assemblyMs += performance.now() - t0;
      stats.reused++;
      this.row.push(0);
      return { kind: 'reuse', x: out };
    }
    const ts = performance.now();
    const rows = topK(tokenScores({ age: c.age, attention: c.attentionScore, value: c.valueScore }, cache.grid, this.weights), k);
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
        c.ca.write(rows, post.yCa);
        c.ffn.write(rows, post.yFfn);
        const out = this.assemble(c, x, m, rows);
        scatterRows(out, D, rows, post.x);
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
    c.sa.write(null, out.ySa);
    c.ca.write(null, out.yCa);
    c.ffn.write(null, out.yFfn);
    if (c.k && c.v) {
      c.k.write(null, out.k);
      c.v.write(null, out.v);
    }
    const t0 = performance.now();
    if (this.weights.value !== 0) c.valueScore = valueNormSignal(out.v, cache.tokens, dit.config.numHeads);
    if (this.influence) c.attentionScore = await this.influence.compute(out.q, out.k);
    stats.scoringMs += performance.now() - t0;
    cache.markRecomputed(branch, l, null);
  }

  /** x + m2·SA + CA + m5·FFN from the cache for every row not in `skip` (whose rows are left as x). */
  private assemble(c: LayerCache, x: Float32Array, m: Float32Array, skip: ArrayLike<number> | null): Float32Array {
    const D = this.run.dit.config.dim;
    const n = this.run.cache.tokens;
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
