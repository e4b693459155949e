/**
 * EasyCache-like runtime-adaptive step reuse (reference: EasyCache, "Training-free video
 * diffusion acceleration via runtime-adaptive caching"): per guidance branch, the block
 * stack's transformation rate k = ‖Δ output‖ / ‖Δ input‖ is measured between consecutive
 * computed steps; at a later step the relative output change is estimated as
 * ε = k·‖x_t − x_{t−1}‖ / ‖y_last‖ and accumulated; while the sum stays under the threshold
 * τ, the step reuses the stack residual of the last computed step (x_t + (y − x)_last, no
 * block runs), otherwise the stack runs and the sum restarts. The first `warmup` steps and
 * the last step always compute.
 *
 * τ decides the FLOPs, so it is found for a FLOPs budget by bisection on calibration cases
 * (`tuneEasyCache`, used by the fidelity bench); `generate --method easycache --budget B`
 * uses a model-free starting guess of τ and reports the FLOPs it ran.
 */
import type { ForwardHooks, PassState } from '../../models/wan/dit/hooks.js';
import type { WanDiT } from '../../models/wan/dit/runtime.js';
import type { GuidanceBranch } from '../../core/types.js';
import { generationFlops, type FlopsShape } from '../flops.js';
import { passInfo, recordExecuted, type SparseRunState } from '../run-state.js';
import type { LearnCase, Sampling } from '../learn.js';
import { SparsityRequestError } from '../errors.js';
import type { CacheMethod, MethodPlan } from './types.js';

const norm = (a: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
};
const diffNorm = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
};

interface BranchState {
  lastStep: number;
  /** Input of the previous call (computed or not). */
  prevInput: Float32Array | null;
  /** Input and output of the last computed call, and the one before (for k). */
  input: Float32Array | null;
  output: Float32Array | null;
  rate: number | null;
  accumulated: number;
}

export interface EasyCacheSettings {
  threshold: number;
  /** Steps always computed at the start (default 10% of the steps, at least 1). */
  warmup?: number;
}

export const defaultWarmup = (steps: number): number => Math.max(1, Math.round(steps / 10));

/** The runtime decision per step and branch on the DiT's block loop. */
export class TransformationRateHooks implements ForwardHooks {
  private readonly branches = new Map<GuidanceBranch, BranchState>();

  constructor(
    private readonly run: SparseRunState,
    private readonly settings: EasyCacheSettings,
  ) {}

  private state(branch: GuidanceBranch, step: number): BranchState {
    let s = this.branches.get(branch);
    if (!s || step <= s.lastStep) {
      s = { lastStep: -1, prevInput: null, input: null, output: null, rate: null, accumulated: 0 };
      this.branches.set(branch, s);
    }
    s.lastStep = step;
    return s;
  }

  beginPass(pass: PassState): Float32Array | null {
    const { cache, stats } = this.run;
    cache.configure({ frames: pass.grid.frames, height: pass.grid.rows, width: pass.grid.cols });
    const info = passInfo(pass);
    const s = this.state(info.branch, info.step);
    const x = pass.x0;
    const warmup = this.settings.warmup ?? defaultWarmup(info.steps);
    let reuse = false;
    if (info.step >= warmup && info.step < info.steps - 1 && s.rate !== null && s.prevInput && s.input && s.output) {
      const eps = (s.rate * diffNorm(x, s.prevInput)) / Math.max(norm(s.output), 1e-30);
      if (s.accumulated + eps < this.settings.threshold) {
        s.accumulated += eps;
        reuse = true;
      }
    }
    s.prevInput = x;
    if (!reuse) return null;
    const out = new Float32Array(x.length);
    const inp = s.input!;
    const y = s.output!;
    for (let i = 0; i < out.length; i++) out[i] = x[i] + (y[i] - inp[i]);
    recordExecuted(stats, info, new Array<number>(this.run.dit.config.numLayers).fill(0));
    stats.skippedSteps++;
    return out;
  }

  afterWhole(): void {
    this.run.stats.dense++;
  }

  endPass(pass: PassState, x: Float32Array, served: boolean): void {
    if (served) return;
    const info = passInfo(pass);
    recordExecuted(this.run.stats, info, new Array<number>(this.run.dit.config.numLayers).fill(1));
    const s = this.branches.get(info.branch)!;
    if (s.input && s.output) {
      const dIn = diffNorm(pass.x0, s.input);
      s.rate = dIn > 0 ? diffNorm(x, s.output) / dIn : null;
    }
    s.input = pass.x0;
    s.output = new Float32Array(x);
    s.accumulated = 0;
  }
}

/** A plan for a threshold; the table is all ones (what runs is decided per step at run time). */
export function easyCachePlan(steps: number, layers: number, settings: EasyCacheSettings, note = ''): MethodPlan {
  return {
    plan: { table: Array.from({ length: steps }, () => new Array<number>(layers).fill(1)), attention: 'reuse', reuse: 'stack-residual' },
    description: `easycache: EasyCache-like adaptive step reuse, threshold τ=${settings.threshold.toPrecision(4)}, warm-up ${settings.warmup ?? defaultWarmup(steps)} step(s)${note}`,
    hooks: (run) => new TransformationRateHooks(run, settings),
  };
}

/** A model-free starting guess of τ for a budget (tune it on the model with `tuneEasyCache`). */
export const guessThreshold = (budget: number): number => 0.08 * Math.max(0, 1 / budget - 1);

export interface EasyCacheRun {
  latents: Float32Array[];
  /** Generation FLOPs / dense, from the steps actually run (mean over cases). */
  flopsRatio: number;
}

/** Runs a threshold on cases; returns the final latents and the FLOPs ratio it ran. */
export async function runEasyCache(dit: WanDiT, cases: readonly LearnCase[], sampling: Sampling, shape: FlopsShape, settings: EasyCacheSettings): Promise<EasyCacheRun> {
  const made = easyCachePlan(sampling.steps, dit.config.numLayers, settings);
  // The executor and the sampler load here, not with the registry the CLI reads at start-up.
  const [{ SparseDiT }, { denoise }] = await Promise.all([import('../executor.js'), import('../../sampling/denoise.js')]);
  const model = await SparseDiT.create(dit, made.plan, { hooks: made.hooks });
  try {
    const latents: Float32Array[] = [];
    let ratio = 0;
    for (const c of cases) {
      model.reset();
      latents.push((await denoise({ model, noise: c.noise, cond: c.cond, uncond: c.uncond, ...sampling })).data);
      let r = 0;
      for (const table of model.stats.executed.values()) r += generationFlops(shape, table, 'reuse', 1).ratio / model.stats.executed.size;
      ratio += r / cases.length;
    }
    return { latents, flopsRatio: ratio };
  } finally {
    await model.release();
  }
}

export interface TunedThreshold {
  threshold: number;
  flopsRatio: number;
  /** Generations run (per case). */
  tries: number;
}

/** Bisection on τ (the FLOPs fall as τ grows) for the largest FLOPs ratio not above the budget. */
export async function tuneEasyCache(dit: WanDiT, cases: readonly LearnCase[], sampling: Sampling, shape: FlopsShape, budget: number, o: { iterations?: number; warmup?: number; onTry?: (threshold: number, flopsRatio: number) => void } = {}): Promise<TunedThreshold> {
  const at = async (threshold: number): Promise<number> => {
    const r = (await runEasyCache(dit, cases, sampling, shape, { threshold, ...(o.warmup !== undefined && { warmup: o.warmup }) })).flopsRatio;
    o.onTry?.(threshold, r);
    return r;
  };
  let tries = 0;
  let lo = 0;
  let hi = Math.max(guessThreshold(budget), 1e-3);
  let hiRatio = await at(hi);
  tries++;
  while (hiRatio > budget + 1e-9 && tries < 12) {
    lo = hi;
    hi *= 4;
    hiRatio = await at(hi);
    tries++;
  }
  let best = { threshold: hi, flopsRatio: hiRatio };
  for (let i = 0; i < (o.iterations ?? 8); i++) {
    const mid = (lo + hi) / 2;
    const r = await at(mid);
    tries++;
    if (r <= budget + 1e-9) {
      hi = mid;
      best = { threshold: mid, flopsRatio: r };
    } else lo = mid;
  }
  return { ...best, tries };
}

export const easyCache = {
  name: 'easycache',
  label: 'EasyCache-like adaptive step reuse',
  help: 'EasyCache-like: a step reuses the block-stack residual while the accumulated transformation-rate estimate stays under a threshold (tuned to the budget by the fidelity bench; generate uses a starting guess)',
  prepare(r) {
    if (r.budget === undefined) throw new SparsityRequestError('method easycache needs a budget, e.g. --budget 0.5');
    if (r.forecast === 'linear') throw new SparsityRequestError('method easycache reuses the block-stack residual; --forecast linear applies to methods that reuse module outputs');
    return Promise.resolve(easyCachePlan(r.steps, r.layers, { threshold: guessThreshold(r.budget) }, ' (model-free guess for the budget; FLOPs decided at run time)'));
  },
} as const satisfies CacheMethod<'easycache'>;
