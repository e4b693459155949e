/**
 * TeaCache-like step skipping: computed steps spread evenly (the first and the last always
 * computed); a skipped step runs no block and adds the residual x_out − x_in of the block
 * stack's last full evaluation on its guidance branch (reuse 'stack-residual'). Holds the
 * method's schedule and its hooks on the DiT's block loop.
 */
import type { ForwardHooks, PassState } from '../../models/wan/dit/hooks.js';
import { generationFlops } from '../flops.js';
import { passInfo, recordExecuted, type SparseRunState } from '../run-state.js';
import { evenlySpacedSteps, heuristicPlan, levelRows, pickForBudget } from './heuristic.js';
import type { BaselineProblem, BaselineSchedule, CacheMethod } from './types.js';

export function stepSkipBaseline(p: BaselineProblem): BaselineSchedule {
  const out: BaselineSchedule[] = [];
  for (let m = 1; m <= p.steps; m++) {
    const dense = evenlySpacedSteps(p.steps, m);
    const table = levelRows(p.steps, p.shape.layers, (t) => (dense.has(t) ? 1 : 0));
    out.push({
      method: 'step-skip',
      description: `TeaCache-like: steps ${[...dense].sort((a, b) => a - b).join(', ')} computed, the others reuse the block-stack residual`,
      table,
      attention: p.attention ?? 'reuse',
      reuse: 'stack-residual',
      flopsRatio: generationFlops(p.shape, table, p.attention ?? 'reuse', p.branches).ratio,
    });
  }
  return pickForBudget(out, p.budget);
}

/** Steps whose plan row is all zeros skip the block stack once a residual exists; the others run every block whole. */
export class StackResidualHooks implements ForwardHooks {
  constructor(private readonly run: SparseRunState) {}

  beginPass(pass: PassState): Float32Array | null {
    const { cache, stats, plan } = this.run;
    cache.configure({ frames: pass.grid.frames, height: pass.grid.rows, width: pass.grid.cols });
    const info = passInfo(pass);
    const levels = plan.table[info.step];
    const residual = cache.residual(info.branch);
    if (!(levels.every((v) => v === 0) && residual)) return null;
    const x = new Float32Array(pass.x0.length);
    for (let i = 0; i < x.length; i++) x[i] = pass.x0[i] + residual[i];
    recordExecuted(stats, info, new Array<number>(levels.length).fill(0));
    stats.skippedSteps++;
    return x;
  }

  afterWhole(): void {
    this.run.stats.dense++;
  }

  endPass(pass: PassState, x: Float32Array, served: boolean): void {
    if (served) return;
    const info = passInfo(pass);
    recordExecuted(this.run.stats, info, new Array<number>(this.run.plan.table[info.step].length).fill(1));
    const r = new Float32Array(x.length);
    for (let i = 0; i < r.length; i++) r[i] = x[i] - pass.x0[i];
    this.run.cache.setResidual(info.branch, r);
  }
}

export const stepSkip = {
  name: 'step-skip',
  label: 'TeaCache-like step skip',
  help: 'TeaCache-like: computed steps spread evenly, the others reuse the block-stack residual',
  heuristic: stepSkipBaseline,
  prepare(r) {
    return heuristicPlan(this, r);
  },
} as const satisfies CacheMethod<'step-skip'> & Required<Pick<CacheMethod, 'heuristic'>>;
