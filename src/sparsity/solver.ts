/**
 * The budget solver: an exact dynamic program that picks one recompute level per
 * (step, layer) slot, minimising the summed cost while the summed FLOPs stay within a
 * budget (a multiple-choice knapsack; DiffSparse §1.2, reference §5.6).
 *
 *   F[j][b] = min_s F[j−1][b − w(j,s)] + C[j][s],   answer = min_{b ≤ B} F[S][b]
 *
 * Weights are integers. `discretiseWeights` turns FLOPs into integer units of
 * 1/unitsPerBlock of a dense block, rounding **up**, so a schedule the solver accepts never
 * exceeds the budget in exact FLOPs; the DP is exact on those integer weights, and FLOPs
 * left over by the rounding are then spent greedily (`solveLevelSchedule`). Time and memory
 * are O(S·B·|levels|) and O(S·B) bytes.
 */

export class SolverInputError extends Error {
  override readonly name = 'SolverInputError';
}

export interface KnapsackProblem {
  /** cost[slot][option]: the cost of choosing `option` for `slot` (finite numbers). */
  cost: readonly (ArrayLike<number>)[];
  /** weight[slot][option]: non-negative integer weight (FLOPs units). */
  weight: readonly (ArrayLike<number>)[];
  /** Largest allowed summed weight (integer). */
  budget: number;
}

export interface KnapsackSolution {
  /** The chosen option index per slot. */
  choice: Uint8Array;
  cost: number;
  weight: number;
}

/** Exact DP with backtracking. Throws SolverInputError when no assignment fits the budget. */
export function solveKnapsack(problem: KnapsackProblem): KnapsackSolution {
  const { cost, weight } = problem;
  const slots = cost.length;
  if (weight.length !== slots) throw new SolverInputError(`solver: cost has ${slots} slots but weight has ${weight.length}`);
  const budget = Math.floor(problem.budget);
  if (!(budget >= 0)) throw new SolverInputError(`solver: budget must be a non-negative integer (got ${problem.budget})`);
  let minTotal = 0;
  let maxTotal = 0;
  for (let j = 0; j < slots; j++) {
    const c = cost[j];
    const w = weight[j];
    if (c.length !== w.length || c.length === 0 || c.length > 255) throw new SolverInputError(`solver: slot ${j} needs 1..255 options with a cost and a weight each`);
    let lo = Infinity;
    let hi = 0;
    for (let s = 0; s < w.length; s++) {
      if (!Number.isInteger(w[s]) || w[s] < 0) throw new SolverInputError(`solver: weight[${j}][${s}] = ${w[s]} is not a non-negative integer`);
      if (!Number.isFinite(c[s])) throw new SolverInputError(`solver: cost[${j}][${s}] = ${c[s]} is not finite`);
      lo = Math.min(lo, w[s]);
      hi = Math.max(hi, w[s]);
    }
    minTotal += lo;
    maxTotal += hi;
  }
  if (minTotal > budget) throw new SolverInputError(`solver: even the cheapest levels need ${minTotal} units, more than the budget of ${budget}; raise the budget`);
  const width = Math.min(budget, maxTotal) + 1;

  // Flat typed copies keep the hot loop monomorphic.
  const offsets = new Int32Array(slots + 1);
  for (let j = 0; j < slots; j++) offsets[j + 1] = offsets[j] + cost[j].length;
  const flatCost = new Float64Array(offsets[slots]);
  const flatWeight = new Int32Array(offsets[slots]);
  for (let j = 0; j < slots; j++)
    for (let s = 0; s < cost[j].length; s++) {
      flatCost[offsets[j] + s] = cost[j][s];
      flatWeight[offsets[j] + s] = weight[j][s];
    }

  // Two rolling cost rows; a full argmin table (slots × width bytes) for backtracking.
  let prev = new Float64Array(width).fill(Infinity);
  let next = new Float64Array(width);
  prev[0] = 0;
  const arg = new Uint8Array(slots * width);
  let reach = 0; // largest reachable summed weight so far
  for (let j = 0; j < slots; j++) {
    const o0 = offsets[j];
    const options = offsets[j + 1] - o0;
    let maxW = 0;
    for (let s = 0; s < options; s++) maxW = Math.max(maxW, flatWeight[o0 + s]);
    const newReach = Math.min(width - 1, reach + maxW);
    next.fill(Infinity, 0, newReach + 1);
    const base = j * width;
    for (let s = 0; s < options; s++) {
      const ws = flatWeight[o0 + s];
      const cs = flatCost[o0 + s];
      const top = Math.min(reach, newReach - ws);
      for (let b = 0; b <= top; b++) {
        const v = prev[b] + cs;
        // strict < keeps the lowest option index on ties: deterministic results
        if (v < next[b + ws]) {
          next[b + ws] = v;
          arg[base + b + ws] = s;
        }
      }
    }
    reach = newReach;
    const t = prev;
    prev = next;
    next = t;
  }
  let best = Infinity;
  let bestB = -1;
  for (let b = 0; b <= reach; b++)
    if (prev[b] < best) {
      best = prev[b];
      bestB = b;
    }
  if (bestB < 0) throw new SolverInputError('solver: no assignment fits the budget; raise the budget');
  const choice = new Uint8Array(slots);
  let b = bestB;
  for (let j = slots - 1; j >= 0; j--) {
    const s = arg[j * width + b];
    choice[j] = s;
    b -= weight[j][s];
  }
  return { choice, cost: best, weight: bestB };
}

/**
 * Integer weights in units of 1/unitsPerBlock of a dense block FLOPs, rounded up (a level
 * with zero FLOPs stays 0, the dense level is exactly unitsPerBlock).
 */
export function discretiseWeights(levelFlops: readonly number[], denseBlockFlops: number, unitsPerBlock: number): number[] {
  return levelFlops.map((f) => (f <= 0 ? 0 : Math.ceil((f / denseBlockFlops) * unitsPerBlock - 1e-9)));
}

/**
 * A resolution that keeps the DP table near `cellBudget` cells (time ~ cells × levels):
 * between 4 and 64 units per dense block.
 */
export function defaultUnitsPerBlock(slots: number, budgetFraction: number, cellBudget = 2.5e7): number {
  const units = Math.floor(cellBudget / (slots * slots * Math.max(budgetFraction, 1e-3)));
  return Math.max(4, Math.min(64, units));
}

export interface LevelScheduleProblem {
  steps: number;
  layers: number;
  /** The level values, e.g. [0, 0.25, 0.5, 0.75, 1]. */
  levels: readonly number[];
  /** cost[step][layer][levelIndex]. */
  cost: readonly (readonly (ArrayLike<number>)[])[];
  /** FLOPs of one block at each level (same for every slot). */
  levelFlops: readonly number[];
  denseBlockFlops: number;
  /** Budget for the blocks of one branch, in FLOPs (Σ over slots of level FLOPs). */
  blockFlopsBudget: number;
  /** Resolution of the FLOPs discretisation; default from `defaultUnitsPerBlock`. */
  unitsPerBlock?: number;
}

export interface LevelSchedule {
  /** table[step][layer]: the chosen level value. */
  table: number[][];
  cost: number;
  /** Exact block FLOPs of the chosen levels (one branch). */
  blockFlops: number;
  unitsPerBlock: number;
}

/** Solves the (step × layer) level assignment under a block-FLOPs budget. */
export function solveLevelSchedule(p: LevelScheduleProblem): LevelSchedule {
  const slots = p.steps * p.layers;
  if (p.cost.length !== p.steps || p.cost.some((row) => row.length !== p.layers))
    throw new SolverInputError(`solver: the cost table must be ${p.steps} steps × ${p.layers} layers`);
  if (p.levelFlops.length !== p.levels.length) throw new SolverInputError('solver: one FLOPs value per level is needed');
  const fraction = p.blockFlopsBudget / (slots * p.denseBlockFlops);
  const units = p.unitsPerBlock ?? defaultUnitsPerBlock(slots, fraction);
  const w = discretiseWeights(p.levelFlops, p.denseBlockFlops, units);
  const cost: ArrayLike<number>[] = [];
  const weight: number[][] = [];
  for (let t = 0; t < p.steps; t++)
    for (let l = 0; l < p.layers; l++) {
      const c = p.cost[t][l];
      if (c.length !== p.levels.length) throw new SolverInputError(`solver: cost[${t}][${l}] needs ${p.levels.length} entries`);
      cost.push(c);
      weight.push(w);
    }
  // floor plus a hair: a budget that is an exact multiple must not lose a unit to rounding
  const budgetUnits = Math.floor((p.blockFlopsBudget / p.denseBlockFlops) * units + 1e-9);
  const sol = solveKnapsack({ cost, weight, budget: budgetUnits });
  const choice = spendLeftover(sol.choice, p, slots);
  const table: number[][] = [];
  let blockFlops = 0;
  for (let t = 0; t < p.steps; t++) {
    const row: number[] = [];
    for (let l = 0; l < p.layers; l++) {
      const s = choice[t * p.layers + l];
      row.push(p.levels[s]);
      blockFlops += p.levelFlops[s];
    }
    table.push(row);
  }
  let total = 0;
  for (let j = 0; j < slots; j++) total += p.cost[Math.floor(j / p.layers)][j % p.layers][choice[j]];
  return { table, cost: total, blockFlops, unitsPerBlock: units };
}

/**
 * Rounding weights up leaves some exact FLOPs unused; spend them greedily on the upgrades
 * with the largest cost reduction per FLOP that still fit. This only lowers the cost and
 * never breaks the exact budget.
 */
function spendLeftover(initial: Uint8Array, p: LevelScheduleProblem, slots: number): Uint8Array {
  const choice = Uint8Array.from(initial);
  let used = 0;
  for (let j = 0; j < slots; j++) used += p.levelFlops[choice[j]];
  for (;;) {
    const left = p.blockFlopsBudget - used;
    let bestGain = 0;
    let bestJ = -1;
    let bestS = -1;
    for (let j = 0; j < slots; j++) {
      const c = p.cost[Math.floor(j / p.layers)][j % p.layers];
      const cur = choice[j];
      for (let s = 0; s < p.levels.length; s++) {
        const extra = p.levelFlops[s] - p.levelFlops[cur];
        if (extra <= 0 || extra > left) continue;
        const gain = (c[cur] - c[s]) / extra;
        if (gain > bestGain) {
          bestGain = gain;
          bestJ = j;
          bestS = s;
        }
      }
    }
    if (bestJ < 0) return choice;
    used += p.levelFlops[bestS] - p.levelFlops[choice[bestJ]];
    choice[bestJ] = bestS;
  }
}

export interface AgedScheduleProblem extends LevelScheduleProblem {
  /**
   * Error growth with cache age: a (step, layer) slot below level 1 in a step that follows
   * a − 1 other steps with some slot below 1 (the caches are then a steps old) costs
   * cost[step][layer][level] · a^growth. 0 is the additive model of `solveLevelSchedule`.
   */
  growth: number;
  /** Ages beyond this count as this one (default 8). */
  maxAge?: number;
  /** At most this many consecutive steps with a sparse slot (the caches refreshed at least that often); default unlimited. */
  maxRun?: number;
}

/**
 * The (step × layer) level assignment under a block-FLOPs budget with error growth: a DP over
 * steps whose state is (FLOPs units spent, age of the caches), where a step with every layer at
 * level 1 refreshes them (age 0) and any other step ages them by one. The additive slot model
 * cannot see that reusing the same caches over several consecutive steps costs more than the
 * sum of single-step reuses (the cached outputs drift further from what the block would
 * compute); here a run of sparse steps pays for its length. Row options: every combination of
 * levels over the layers when there are at most 4 layers, else one level for the whole step.
 */
export function solveAgedSchedule(p: AgedScheduleProblem): LevelSchedule {
  const { steps, layers, levels } = p;
  if (p.cost.length !== steps || p.cost.some((row) => row.length !== layers)) throw new SolverInputError(`solver: the cost table must be ${steps} steps × ${layers} layers`);
  if (p.levelFlops.length !== levels.length) throw new SolverInputError('solver: one FLOPs value per level is needed');
  const maxRun = p.maxRun ?? Infinity;
  const maxAge = Math.max(1, Math.floor(Math.min(p.maxAge ?? 8, maxRun)));
  const top = levels.length - 1;
  if (levels[top] !== 1) throw new SolverInputError('solver: the last level must be 1 (dense)');
  // row options: level indices per layer
  const options: Uint8Array[] = [];
  if (layers <= 4) {
    const total = levels.length ** layers;
    for (let code = 0; code < total; code++) {
      const o = new Uint8Array(layers);
      let c = code;
      for (let l = 0; l < layers; l++) {
        o[l] = c % levels.length;
        c = Math.floor(c / levels.length);
      }
      options.push(o);
    }
  } else for (let s = 0; s < levels.length; s++) options.push(new Uint8Array(layers).fill(s));
  const slots = steps * layers;
  const budgetUnitsTarget = 20000;
  const fraction = p.blockFlopsBudget / (slots * p.denseBlockFlops);
  const units = p.unitsPerBlock ?? Math.max(4, Math.min(64, Math.floor(budgetUnitsTarget / Math.max(1, slots * Math.max(fraction, 1e-3)))));
  const w = discretiseWeights(p.levelFlops, p.denseBlockFlops, units);
  const B = Math.floor((p.blockFlopsBudget / p.denseBlockFlops) * units + 1e-9);
  const optWeight = options.map((o) => o.reduce((a, s) => a + w[s], 0));
  const optDense = options.map((o) => o.every((s) => s === top));
  const A = maxAge + 1;
  const width = (B + 1) * A;
  let prev = new Float64Array(width).fill(Infinity);
  prev[0] = 0; // nothing spent, fresh caches
  const argOpt = new Uint16Array(steps * width);
  const argFrom = new Int32Array(steps * width).fill(-1);
  const g = Array.from({ length: A }, (_, a) => (a === 0 ? 0 : a ** p.growth));
  for (let t = 0; t < steps; t++) {
    const next = new Float64Array(width).fill(Infinity);
    const rowCost = options.map((o) => {
      let c = 0;
      for (let l = 0; l < layers; l++) c += p.cost[t][l][o[l]];
      return c;
    });
    const base = t * width;
    for (let b = 0; b <= B; b++)
      for (let a = 0; a < A; a++) {
        const here = prev[b * A + a];
        if (here === Infinity) continue;
        for (let k = 0; k < options.length; k++) {
          const nb = b + optWeight[k];
          if (nb > B) continue;
          if (!optDense[k] && a + 1 > maxRun) continue;
          const na = optDense[k] ? 0 : Math.min(maxAge, a + 1);
          const v = here + (optDense[k] ? rowCost[k] : rowCost[k] * g[na]);
          const idx = nb * A + na;
          if (v < next[idx]) {
            next[idx] = v;
            argOpt[base + idx] = k;
            argFrom[base + idx] = b * A + a;
          }
        }
      }
    prev = next;
  }
  let best = Infinity;
  let at = -1;
  for (let i = 0; i < width; i++)
    if (prev[i] < best) {
      best = prev[i];
      at = i;
    }
  if (at < 0) throw new SolverInputError('solver: no assignment fits the budget; raise the budget');
  const table: number[][] = new Array(steps);
  let blockFlops = 0;
  for (let t = steps - 1; t >= 0; t--) {
    const o = options[argOpt[t * width + at]];
    table[t] = Array.from(o, (s) => levels[s]);
    for (const s of o) blockFlops += p.levelFlops[s];
    at = argFrom[t * width + at];
  }
  return { table, cost: best, blockFlops, unitsPerBlock: units };
}
