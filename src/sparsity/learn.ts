/**
 * Learning schedules on the target model, training-free (DiffSparse learns its cost table by
 * back-propagating an LPIPS loss through sampling; without a differentiable runtime we
 * measure it instead, reference §5.6):
 *
 * 1. Calibration: for every cell of (step, layer) slots and every level below 1, one
 *    generation with only that cell sparsified; its cost is the squared relative L2 error
 *    of the final latent against the dense run with the same noise and prompts, spread
 *    evenly over the cell's slots. Cells group steps and layers (`grouping`) because one
 *    generation per slot and level is too many on a real model. Step 0 is always dense:
 *    the caches are empty before it.
 * 2. Solve the budgeted DP on that table.
 * 3. Refinement with the solver in the loop: run the solved schedule; for every cell it
 *    sparsifies, run it again with that cell dense to measure the cell's contribution in
 *    context; rescale that cell's costs towards the measured contribution; solve again.
 *    The best schedule measured (lowest final-latent error) is kept.
 * 4. Choice among the solved table and the structured seeds (block reuse, uniform tokens) by
 *    the measured error on the selection cases.
 * 5. Local search on the chosen table (`generations` > 0): each generation raises the level
 *    of one random cell and lowers others until the budget holds again (budget moved between
 *    cells), runs the candidate on the selection cases, and keeps it if the final-sample
 *    error drops; this accounts for errors that grow through later steps, which the
 *    additive cost table cannot.
 * Squared errors are used because independent perturbations add in squared norm. Steps 4 and 5
 * compare whole schedules by the geometric mean over cases of those errors (`selectionError`):
 * it is the latent-space counterpart of the mean PSNR over clips that held-out fidelity is
 * reported in, and one case whose outcome flips cannot outweigh a gain on all the others, as
 * it does in the arithmetic mean.
 */
import { denoise } from '../sampling/denoise.js';
import type { Latent, TextContext } from '../core/types.js';
import type { SolverName } from '../sampling/schedule.js';
import type { WanDiT } from '../models/wan/dit/runtime.js';
import { blockReuseBaseline, uniformTokenBaseline } from './baselines.js';
import { SparseDiT, type SparseDiTOptions, type SparsePlan } from './executor.js';
import { denseBlockFlops, generationFlops, levelFlops, type AttentionVariant, type FlopsShape } from './flops.js';
import { DEFAULT_LEVELS, isTokenLevel, makeSchedule, type Schedule, type ScheduleModel } from './schedule.js';
import { LEARNED_SCORE_MIX } from './scores.js';
import { solveAgedSchedule, solveLevelSchedule, SolverInputError } from './solver.js';
import { uniformRandom } from '../core/random.js';

/** cost[step][layer][levelIndex]. */
export type CostTable = Float64Array[][];

/** Cost that keeps the solver away from a level (finite so the DP stays well defined). */
export const FORBIDDEN_COST = 1e6;

export interface Grouping {
  /** Steps per calibration cell (step 0 is always on its own and dense). */
  steps: number;
  /** Layers per calibration cell. */
  layers: number;
}

export interface Cell {
  steps: number[];
  layers: number[];
}

/** Cells of `grouping` covering steps 1..T−1 and every layer. */
export function calibrationCells(steps: number, layers: number, grouping: Grouping): Cell[] {
  const cells: Cell[] = [];
  for (let t0 = 1; t0 < steps; t0 += grouping.steps)
    for (let l0 = 0; l0 < layers; l0 += grouping.layers)
      cells.push({
        steps: Array.from({ length: Math.min(grouping.steps, steps - t0) }, (_, i) => t0 + i),
        layers: Array.from({ length: Math.min(grouping.layers, layers - l0) }, (_, i) => l0 + i),
      });
  return cells;
}

/** A cost table with level 1 free everywhere and step 0 forced dense. */
export function emptyCostTable(steps: number, layers: number, levels: readonly number[]): CostTable {
  return Array.from({ length: steps }, (_, t) =>
    Array.from({ length: layers }, () => Float64Array.from(levels, (v) => (v >= 1 ? 0 : t === 0 ? FORBIDDEN_COST : 0))),
  );
}

/**
 * A model-free prior: the cost of recomputing a share s of the tokens is (1 − s)², weighted
 * up for early steps (Wan's early steps are the fragile ones). Used where no calibration
 * exists (speed benchmarks, a first guess).
 */
export function priorCostTable(steps: number, layers: number, levels: readonly number[] = DEFAULT_LEVELS): CostTable {
  const table = emptyCostTable(steps, layers, levels);
  for (let t = 1; t < steps; t++)
    for (let l = 0; l < layers; l++) levels.forEach((v, s) => v < 1 && (table[t][l][s] = (1 - v) ** 2 * (1 + 2 * (1 - t / steps))));
  return table;
}

/** One generation setting used for calibration: noise and the two contexts. */
export interface LearnCase {
  noise: Latent;
  cond: TextContext;
  uncond?: TextContext;
}

export interface Sampling {
  steps: number;
  shift: number;
  guidance: number;
  solver: SolverName;
}

/** Runs a plan on every case and returns the final latents. */
export type PlanRunner = (plan: SparsePlan) => Promise<Float32Array[]>;

/** A runner over the WanDiT stages with the real sampler loop. */
export function sparseRunner(dit: WanDiT, cases: readonly LearnCase[], sampling: Sampling, options: SparseDiTOptions = {}): PlanRunner {
  return async (plan) => {
    const model = await SparseDiT.create(dit, plan, options);
    try {
      const out: Float32Array[] = [];
      for (const c of cases) {
        model.reset();
        out.push((await denoise({ model, noise: c.noise, cond: c.cond, uncond: c.uncond, ...sampling })).data);
      }
      return out;
    } finally {
      await model.release();
    }
  };
}

/** ‖a − b‖² / ‖b‖². */
export function squaredRelError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  return num / Math.max(den, 1e-30);
}

const meanError = (outs: Float32Array[], refs: Float32Array[]): number => outs.reduce((a, o, i) => a + squaredRelError(o, refs[i]), 0) / outs.length;

/** Geometric mean over cases of the squared relative error (a floor keeps an exact match finite). */
export function selectionError(outs: Float32Array[], refs: Float32Array[]): number {
  const logSum = outs.reduce((a, o, i) => a + Math.log(Math.max(squaredRelError(o, refs[i]), 1e-20)), 0);
  return Math.exp(logSum / outs.length);
}

export interface LearnProblem {
  steps: number;
  layers: number;
  levels?: readonly number[];
  attention?: AttentionVariant;
  shape: FlopsShape;
  /** Generation FLOPs budget as a fraction of dense (both CFG branches, head included). */
  budget: number;
  branches?: number;
  /**
   * Error growth with cache age for the solver (solveAgedSchedule): a sparse slot in the a-th
   * consecutive step with sparse slots costs its table cost · a^growth. Absent: the additive
   * slot model (solveLevelSchedule). `calibrateGrowth` measures it.
   */
  growth?: number;
  /** With `growth`: at most this many consecutive steps with sparse slots (also kept by the local search). */
  maxRun?: number;
  /**
   * 'linear': every run the learner measures extrapolates reused module outputs from their last
   * two computations (TaylorSeer-like), so the table is learned for forecasting and the
   * schedule records it. Absent: reused outputs held constant.
   */
  forecast?: 'linear';
}

/** The provenance words for a run limit: kept, or asked for but too short for the budget (solveForBudget then drops it). */
function runLimitNote(maxRun: number | undefined, table: readonly (readonly number[])[]): string {
  if (maxRun === undefined) return '';
  return longestSparseRun(table) <= maxRun ? `, runs of at most ${maxRun}` : `; runs of at most ${maxRun} were asked for, but no such table meets the budget, so runs are not limited`;
}

/** The longest run of consecutive steps with some slot below 1. */
export function longestSparseRun(table: readonly (readonly number[])[]): number {
  let longest = 0;
  let run = 0;
  for (const row of table) longest = Math.max(longest, (run = row.every((v) => v >= 1) ? 0 : run + 1));
  return longest;
}

const denseTable = (steps: number, layers: number): number[][] => Array.from({ length: steps }, () => new Array<number>(layers).fill(1));
/** Plans the learner measures: module-output reuse with the learned schedules' token score mix (and the problem's forecast). */
const planOf = (table: number[][], p: Pick<LearnProblem, 'attention' | 'forecast'>): SparsePlan => ({
  table, attention: p.attention ?? 'reuse', reuse: 'module-outputs', scores: LEARNED_SCORE_MIX, ...(p.forecast && { forecast: p.forecast }),
});

export interface CalibrationResult {
  cost: CostTable;
  /** Generations run. */
  runs: number;
}

/** Step 1: measure the cost table, cell by cell. */
export async function calibrateCostTable(p: LearnProblem, run: PlanRunner, reference: Float32Array[], grouping: Grouping, onProgress?: (done: number, total: number) => void): Promise<CalibrationResult> {
  const levels = p.levels ?? DEFAULT_LEVELS;
  const cost = emptyCostTable(p.steps, p.layers, levels);
  const cells = calibrationCells(p.steps, p.layers, grouping);
  const sparseLevels = levels.map((v, s) => [v, s] as const).filter(([v]) => v < 1);
  const total = cells.length * sparseLevels.length;
  let runs = 0;
  for (const cell of cells)
    for (const [v, s] of sparseLevels) {
      const table = denseTable(p.steps, p.layers);
      for (const t of cell.steps) for (const l of cell.layers) table[t][l] = v;
      const err = meanError(await run(planOf(table, p)), reference);
      const perSlot = err / (cell.steps.length * cell.layers.length);
      for (const t of cell.steps) for (const l of cell.layers) cost[t][l][s] = perSlot;
      onProgress?.(++runs, total);
    }
  // keep costs monotone in the level: recomputing more tokens should never be dearer
  for (const row of cost)
    for (const c of row)
      for (let s = c.length - 2; s >= 0; s--) if (levels[s] < 1 && c[s] < c[s + 1]) c[s] = c[s + 1];
  return { cost, runs };
}

export interface GrowthCalibration {
  /** The fitted exponent: a run of a sparse steps costs Σ_i cost_i · i^growth. */
  growth: number;
  /** Generations-runs used (each one run of the cases). */
  runs: number;
  /** Measured against predicted (additive) error of each window. */
  windows: { steps: number[]; measured: number; additive: number }[];
}

/**
 * How errors grow when the same caches are reused over consecutive steps: runs of 2 and 3
 * consecutive steps at level 0 (every layer) in the middle of sampling, measured against the
 * additive prediction of the calibrated table (the sum of their single-step costs); the
 * exponent γ of the aged model (the i-th step of a run costs i^γ times its single-step cost)
 * is fitted by least squares on the log errors over [0, 4].
 */
export async function calibrateGrowth(p: LearnProblem, run: PlanRunner, reference: Float32Array[], cost: CostTable): Promise<GrowthCalibration> {
  const levels = p.levels ?? DEFAULT_LEVELS;
  const zero = levels.indexOf(0);
  if (zero < 0 || p.steps < 6) return { growth: 0, runs: 0, windows: [] };
  const starts = [...new Set([Math.max(1, Math.round(p.steps / 3)), Math.max(1, Math.round(p.steps / 2))])];
  const windows: GrowthCalibration['windows'] = [];
  const single = (t: number): number => cost[t].reduce((a, c) => a + c[zero], 0);
  for (const t0 of starts)
    for (const len of [2, 3]) {
      const steps = Array.from({ length: len }, (_, i) => t0 + i).filter((t) => t < p.steps - 1);
      if (steps.length < 2) continue;
      const table = denseTable(p.steps, p.layers);
      for (const t of steps) table[t].fill(0);
      const measured = meanError(await run(planOf(table, p)), reference);
      windows.push({ steps, measured, additive: steps.reduce((a, t) => a + single(t), 0) });
    }
  let best = { growth: 0, loss: Infinity };
  for (let g = 0; g <= 4 + 1e-9; g += 0.05) {
    let loss = 0;
    for (const w of windows) {
      const pred = w.steps.reduce((a, t, i) => a + single(t) * (i + 1) ** g, 0);
      loss += (Math.log(Math.max(w.measured, 1e-20)) - Math.log(Math.max(pred, 1e-20))) ** 2;
    }
    if (loss < best.loss) best = { growth: Number(g.toFixed(2)), loss };
  }
  return { growth: best.growth, runs: windows.length, windows };
}

export interface SolvedTable {
  table: number[][];
  flopsRatio: number;
}

/** Step 2: the DP under the generation budget (the fixed head/embedding FLOPs are taken off first). */
export function solveForBudget(p: LearnProblem, cost: CostTable): SolvedTable {
  const levels = p.levels ?? DEFAULT_LEVELS;
  const attention = p.attention ?? 'reuse';
  const branches = p.branches ?? 2;
  const dense = generationFlops(p.shape, denseTable(p.steps, p.layers), attention, branches);
  const fixed = dense.dense - dense.denseBlocks;
  const blockBudget = (p.budget * dense.dense - fixed) / branches;
  const problem = {
    steps: p.steps,
    layers: p.layers,
    levels,
    cost,
    levelFlops: levels.map((v) => levelFlops(p.shape, v, attention)),
    denseBlockFlops: denseBlockFlops(p.shape).total,
    blockFlopsBudget: Math.max(0, blockBudget),
  };
  // The DP may only meet a budget by paying a forbidden cell (step 0 below dense: the executor
  // would run it whole anyway, so the table's FLOPs would be a fiction): that is no solution.
  const fits = <T extends { cost: number }>(sol: T): T => {
    if (sol.cost >= FORBIDDEN_COST) throw new SolverInputError(`solver: a budget of ${p.budget} cannot keep the first step dense${p.maxRun !== undefined ? ` with runs of at most ${p.maxRun} sparse steps` : ''}; raise the budget`);
    return sol;
  };
  const aged = (maxRun?: number): ReturnType<typeof solveAgedSchedule> => fits(solveAgedSchedule({ ...problem, growth: p.growth!, ...(maxRun !== undefined && { maxRun }) }));
  let sol;
  if (p.growth === undefined) sol = fits(solveLevelSchedule(problem));
  else
    try {
      sol = aged(p.maxRun);
    } catch (e) {
      // a budget too small for runs that short: solve without the limit
      if (!(e instanceof SolverInputError) || p.maxRun === undefined) throw e;
      sol = aged();
    }
  return { table: sol.table, flopsRatio: generationFlops(p.shape, sol.table, attention, branches).ratio };
}

export interface RefineStep {
  iteration: number;
  flopsRatio: number;
  /** Mean squared relative L2 error of the final latent. */
  error: number;
  runs: number;
}

export interface RefineResult {
  table: number[][];
  flopsRatio: number;
  error: number;
  cost: CostTable;
  history: RefineStep[];
}

/** Step 3: refine the table against the final-sample error of the solved schedule. */
export async function refineCostTable(p: LearnProblem, run: PlanRunner, reference: Float32Array[], initial: CostTable, grouping: Grouping, iterations: number, rate = 0.7): Promise<RefineResult> {
  const cost = initial.map((row) => row.map((c) => c.slice()));
  const cells = calibrationCells(p.steps, p.layers, grouping);
  const history: RefineStep[] = [];
  let best: RefineResult | null = null;
  for (let it = 0; it <= iterations; it++) {
    const solved = solveForBudget(p, cost);
    const error = meanError(await run(planOf(solved.table, p)), reference);
    let runs = 1;
    if (!best || error < best.error) best = { table: solved.table, flopsRatio: solved.flopsRatio, error, cost: [], history };
    if (it < iterations) {
      for (const cell of cells) {
        const sparse = cell.steps.some((t) => cell.layers.some((l) => solved.table[t][l] < 1));
        if (!sparse) continue;
        const table = solved.table.map((r) => r.slice());
        for (const t of cell.steps) for (const l of cell.layers) table[t][l] = 1;
        const without = meanError(await run(planOf(table, p)), reference);
        runs++;
        const contribution = Math.max(error - without, 0);
        let predicted = 0;
        for (const t of cell.steps) for (const l of cell.layers) predicted += cost[t][l][(p.levels ?? DEFAULT_LEVELS).indexOf(solved.table[t][l])];
        const eps = 1e-12;
        const ratio = Math.max(contribution, eps) / Math.max(predicted, eps);
        const factor = Math.exp(rate * Math.log(Math.min(Math.max(ratio, 1e-3), 1e3)));
        for (const t of cell.steps) for (const l of cell.layers) for (let s = 0; s < cost[t][l].length; s++) if (cost[t][l][s] > 0 && cost[t][l][s] < FORBIDDEN_COST) cost[t][l][s] *= factor;
      }
    }
    history.push({ iteration: it, flopsRatio: solved.flopsRatio, error, runs });
  }
  return { ...best!, cost, history };
}

export interface LearnScheduleOptions extends LearnProblem {
  model: ScheduleModel;
  sampling: Sampling;
  tokenGrid: Schedule['tokenGrid'];
  run: PlanRunner;
  /** Final latents of the dense run for each case (computed with `run` when omitted). */
  reference?: Float32Array[];
  grouping: Grouping;
  iterations?: number;
  /** Describes the cases (prompts, seeds) for the fidelity record. */
  casesDescription: string;
  onProgress?: (phase: 'calibrate' | 'refine' | 'search', done: number, total: number) => void;
  /** Local-search generations after the choice (0: none, the default). */
  generations?: number;
  /** Cells the local search moves budget between (default `grouping`; finer cells find more). */
  searchGrouping?: Grouping;
  /** Seed of the local search's move choices. */
  searchSeed?: number;
  /** Told once before anything runs: how many generations each phase takes at most, and an ETA. */
  onPlan?: (plan: LearnPlan) => void;
  /** Milliseconds of one run of `run` (the ETA); measured on the dense reference run when omitted and it is computed here. */
  msPerRun?: number;
  /** Reuse a calibrated table (e.g. across budgets) instead of measuring it again. */
  calibrated?: CostTable;
  /** Fit `growth` (calibrateGrowth, up to 4 runs) after calibration when it is not given. */
  fitGrowth?: boolean;
  /**
   * Other cases (e.g. other seeds) that pick the final schedule among the solved table and the
   * structured seeds. The solved table is tuned on the calibration cases, so judging it on them
   * favours it; on the demo model a 50% schedule picked that way scored 5× the error of
   * FORA-like reuse on held-out seeds.
   */
  selection?: { run: PlanRunner; reference?: Float32Array[]; description: string };
}

/** The generations (runs of a plan over the cases) each phase of learning takes at most. */
export interface LearnPlan {
  calibrate: number;
  refine: number;
  select: number;
  search: number;
  total: number;
  /** Estimated milliseconds for all of them (absent when no run was timed yet). */
  etaMs?: number;
}

/** Upper bounds of the runs each phase takes. */
export function learnPlan(o: Pick<LearnScheduleOptions, 'steps' | 'layers' | 'levels' | 'grouping' | 'iterations' | 'calibrated' | 'selection' | 'generations' | 'reference'>, msPerRun?: number): LearnPlan {
  const cells = calibrationCells(o.steps, o.layers, o.grouping).length;
  const sparseLevels = (o.levels ?? DEFAULT_LEVELS).filter((v) => v < 1).length;
  const iterations = o.iterations ?? 3;
  const calibrate = (o.reference ? 0 : 1) + (o.calibrated ? 0 : cells * sparseLevels);
  const refine = iterations + 1 + iterations * cells;
  // the selection cases' dense reference when not given, the solved table, up to 2 structured seeds
  const select = (o.selection && !o.selection.reference ? 1 : 0) + 1 + 2;
  const search = o.generations ?? 0;
  const total = calibrate + refine + select + search;
  return { calibrate, refine, select, search, total, ...(msPerRun !== undefined && { etaMs: total * msPerRun }) };
}

export interface SearchResult {
  table: number[][];
  flopsRatio: number;
  error: number;
  /** Candidates run and candidates kept. */
  tried: number;
  accepted: number;
}

/**
 * Step 5: local search on a table within the budget. A move raises every slot of one random
 * cell by one level and lowers random other cells by one level until the FLOPs fit again;
 * it is kept when the measured error (`selectionError` on `run`'s cases against `reference`;
 * `start.error` must be measured the same way) drops.
 */
export async function localSearch(p: LearnProblem, start: { table: number[][]; error: number }, run: PlanRunner, reference: Float32Array[], grouping: Grouping, generations: number, seed = 1, onProgress?: (done: number, total: number) => void, guide?: CostTable): Promise<SearchResult> {
  const levels = p.levels ?? DEFAULT_LEVELS;
  const attention = p.attention ?? 'reuse';
  const branches = p.branches ?? 2;
  const cells = calibrationCells(p.steps, p.layers, grouping);
  const random = uniformRandom(seed); // the search's move choices
  const ratio = (t: number[][]): number => generationFlops(p.shape, t, attention, branches).ratio;
  const shiftCell = (table: number[][], cell: Cell, by: 1 | -1): boolean => {
    let moved = false;
    for (const t of cell.steps)
      for (const l of cell.layers) {
        const i = levels.indexOf(table[t][l]) + by;
        if (i >= 0 && i < levels.length) {
          table[t][l] = levels[i];
          moved = true;
        }
      }
    return moved;
  };
  // With a guide (the calibrated cost table), moves are drawn where they are likely to pay: the
  // cell raised with odds ∝ √(cost saved by one level up), the cells lowered with odds
  // ∝ 1/√(cost added by one level down); without one, uniformly.
  const delta = (table: number[][], cell: Cell, by: 1 | -1): number => {
    let d = 0;
    for (const t of cell.steps)
      for (const l of cell.layers) {
        const i = levels.indexOf(table[t][l]);
        const j = i + by;
        if (guide && j >= 0 && j < levels.length) d += Math.abs(guide[t][l][i] - guide[t][l][j]);
      }
    return d;
  };
  const pick = (weight: (cell: Cell) => number): Cell => {
    if (!guide) return cells[Math.floor(random() * cells.length)];
    const w = cells.map(weight);
    const sum = w.reduce((a, b) => a + b, 0);
    if (!(sum > 0) || !Number.isFinite(sum)) return cells[Math.floor(random() * cells.length)];
    let r = random() * sum;
    for (let i = 0; i < cells.length; i++) if ((r -= w[i]) <= 0) return cells[i];
    return cells[cells.length - 1];
  };
  const cap = (v: number): number => Math.min(v, FORBIDDEN_COST / 10);
  // the run-length limit holds for the search when its start keeps it (a budget too small for it solved without it)
  const runLimit = p.maxRun !== undefined && longestSparseRun(start.table) <= p.maxRun ? p.maxRun : undefined;
  let best = { table: start.table.map((r) => r.slice()), error: start.error };
  let tried = 0;
  let accepted = 0;
  for (let g = 0; g < generations; g++) {
    let candidate: number[][] | null = null;
    for (let attempt = 0; attempt < 32 && !candidate; attempt++) {
      const table = best.table.map((r) => r.slice());
      const up = pick((c) => Math.sqrt(cap(delta(table, c, 1))) + 1e-6);
      if (!shiftCell(table, up, 1)) continue;
      for (let lowered = 0; lowered < 6 && ratio(table) > p.budget + 1e-9; lowered++) {
        const down = pick((c) => (c === up || !c.steps.some((t) => c.layers.some((l) => table[t][l] > levels[0])) ? 0 : 1 / Math.sqrt(cap(delta(table, c, -1)) + 1e-9)));
        if (down !== up) shiftCell(table, down, -1);
      }
      if (ratio(table) <= p.budget + 1e-9 && table.some((r, t) => r.some((v, l) => v !== best.table[t][l])) && (runLimit === undefined || longestSparseRun(table) <= runLimit)) candidate = table;
    }
    if (!candidate) break;
    const error = selectionError(await run(planOf(candidate, p)), reference);
    tried++;
    if (error < best.error) {
      best = { table: candidate, error };
      accepted++;
    }
    onProgress?.(g + 1, generations);
  }
  return { table: best.table, flopsRatio: ratio(best.table), error: best.error, tried, accepted };
}

export interface LearnedSchedule {
  schedule: Schedule;
  cost: CostTable;
  calibrated: CostTable;
  history: RefineStep[];
  runs: number;
}

/** Calibrate, solve, refine, and wrap the best schedule as a schedule document. */
export async function learnSchedule(o: LearnScheduleOptions): Promise<LearnedSchedule> {
  const attention = o.attention ?? 'reuse';
  let msPerRun = o.msPerRun;
  const tRef = performance.now();
  const reference = o.reference ?? (await o.run(planOf(denseTable(o.steps, o.layers), o)));
  if (!o.reference) msPerRun ??= performance.now() - tRef;
  o.onPlan?.(learnPlan(o, msPerRun));
  let runs = o.reference ? 0 : 1;
  let calibrated = o.calibrated;
  if (!calibrated) {
    const c = await calibrateCostTable(o, o.run, reference, o.grouping, (d, t) => o.onProgress?.('calibrate', d, t));
    calibrated = c.cost;
    runs += c.runs;
  }
  if (o.fitGrowth && o.growth === undefined) {
    const g = await calibrateGrowth(o, o.run, reference, calibrated);
    runs += g.runs;
    o = { ...o, growth: g.growth };
  }
  const iterations = o.iterations ?? 3;
  const refined = await refineCostTable(o, o.run, reference, calibrated, o.grouping, iterations);
  runs += refined.history.reduce((a, h) => a + h.runs, 0);
  // The additive cost table misses interactions between cells (an early error grows through
  // later steps), so structured tables from the same search space — dense steps with every
  // other step reusing all module outputs, or one token share everywhere — are measured too,
  // and whichever has the lowest measured error within the budget is kept.
  const partialLevels = (o.levels ?? DEFAULT_LEVELS).some((v) => v > 0 && v < 1);
  const seeds = (partialLevels ? [blockReuseBaseline, uniformTokenBaseline] : [blockReuseBaseline]).map((make) => make({ steps: o.steps, shape: o.shape, budget: o.budget, levels: o.levels, attention, branches: o.branches }));
  const judge = o.selection?.run ?? o.run;
  let judgeReference = reference;
  if (o.selection) {
    judgeReference = o.selection.reference ?? (await judge(planOf(denseTable(o.steps, o.layers), o)));
    runs += o.selection.reference ? 0 : 1;
  }
  const solvedError = selectionError(await judge(planOf(refined.table, o)), judgeReference);
  runs++;
  let chosen: { table: number[][]; flopsRatio: number; error: number; from: string; description?: string } = { table: refined.table, flopsRatio: refined.flopsRatio, error: solvedError, from: 'solved' };
  for (const seed of seeds) {
    if (seed.reuse !== 'module-outputs' || seed.flopsRatio > o.budget + 1e-9) continue;
    if (o.maxRun !== undefined && longestSparseRun(seed.table) > o.maxRun) continue; // the run limit holds for every candidate
    const error = selectionError(await judge(planOf(seed.table, o)), judgeReference);
    runs++;
    if (error < chosen.error) chosen = { table: seed.table, flopsRatio: seed.flopsRatio, error, from: seed.method, description: seed.description };
  }
  const generations = o.generations ?? 0;
  let searchNote = '';
  if (generations > 0) {
    const found = await localSearch(o, chosen, judge, judgeReference, o.searchGrouping ?? o.grouping, generations, o.searchSeed ?? 1, (d, t) => o.onProgress?.('search', d, t), refined.cost);
    runs += found.tried;
    const sg = o.searchGrouping ?? o.grouping;
    searchNote = `; local search over cells of ${sg.steps} step(s) × ${sg.layers} layer(s), moves drawn by the cost table, ${found.tried} generation(s), ${found.accepted} move(s) kept`;
    if (found.accepted > 0) chosen = { table: found.table, flopsRatio: found.flopsRatio, error: found.error, from: `search from ${chosen.from}` };
  }
  const schedule = makeSchedule({
    model: o.model,
    sampling: { steps: o.steps, solver: o.sampling.solver, shift: o.sampling.shift, guidance: o.sampling.guidance },
    tokenGrid: o.tokenGrid,
    levels: o.levels ?? DEFAULT_LEVELS,
    attention,
    reuse: 'module-outputs',
    scores: LEARNED_SCORE_MIX,
    ...(o.forecast && { forecast: o.forecast }),
    table: chosen.table,
    flopsRatio: chosen.flopsRatio,
    provenance: learnedProvenance(chosen, `${o.forecast ? 'every measured run forecasting reused module outputs (linear in step index, TaylorSeer-like); ' : ''}calibrated cost table (cells of ${o.grouping.steps} step(s) × ${o.grouping.layers} layer(s), squared final-latent rel-L2 vs dense), budgeted DP${o.growth !== undefined ? ` with error growth over consecutive sparse steps (the i-th step of a run costs i^${o.growth} × its single-step cost${runLimitNote(o.maxRun, chosen.table)})` : ''}, ${iterations} solver-in-the-loop refinement iteration(s); best measured of the solved table and structured seeds${o.selection ? ' on the selection cases' : ''}${searchNote}`, iterations, o.budget),
    fidelity: { latentRelL2: Math.sqrt(chosen.error), how: `geometric mean over cases of the final-latent relative L2 error vs the dense run with the same noise and prompts; ${o.selection?.description ?? o.casesDescription}` },
  });
  return { schedule, cost: refined.cost, calibrated, history: refined.history, runs };
}

/**
 * Honest provenance for what the learner chose: `learned` only for a token-level table from
 * the solver (some level strictly between 0 and 1); a structured candidate records that
 * baseline's name and label; a solved table of whole blocks only is `calibrated`.
 */
export function learnedProvenance(chosen: { table: number[][]; from: string; description?: string }, how: string, iterations: number, budget: number): Omit<Schedule['provenance'], 'created'> {
  if (chosen.from.startsWith('search from ')) {
    const token = isTokenLevel(chosen.table);
    return { kind: token ? 'learned' : 'calibrated', method: `${token ? 'token-level' : 'block-level (levels 0 and 1 only)'} table from local search on the final-sample error, started at ${chosen.from.slice('search from '.length)}: ${how}`, budget };
  }
  if (chosen.from !== 'solved') {
    const label = chosen.from === 'block-reuse' ? 'FORA-like block reuse' : chosen.from === 'uniform-tokens' ? 'ToCa-like uniform tokens' : chosen.from;
    return { kind: 'baseline', method: `${label} (${chosen.from})${chosen.description ? `: ${chosen.description}` : ''}; picked by schedule learning over candidates (${how})`, budget };
  }
  const token = isTokenLevel(chosen.table);
  return {
    kind: token && iterations > 0 ? 'learned' : 'calibrated',
    method: `${token ? 'token-level' : 'block-level (levels 0 and 1 only)'} solved table: ${how}`,
    budget,
  };
}

export interface HeuristicScheduleOptions extends LearnProblem {
  model: ScheduleModel;
  sampling: Sampling;
  tokenGrid: Schedule['tokenGrid'];
  /** A cost table to solve instead of the model-free prior (e.g. one saved from calibration). */
  cost?: CostTable;
}

/** Solves a schedule for a budget without running the model (prior cost table unless given). */
export function solveSchedule(o: HeuristicScheduleOptions): Schedule {
  const levels = o.levels ?? DEFAULT_LEVELS;
  const solved = solveForBudget(o, o.cost ?? priorCostTable(o.steps, o.layers, levels));
  return makeSchedule({
    model: o.model,
    sampling: { steps: o.steps, solver: o.sampling.solver, shift: o.sampling.shift, guidance: o.sampling.guidance },
    tokenGrid: o.tokenGrid,
    levels,
    attention: o.attention ?? 'reuse',
    reuse: 'module-outputs',
    table: solved.table,
    flopsRatio: solved.flopsRatio,
    provenance: {
      kind: o.cost ? 'calibrated' : 'heuristic',
      method: o.cost ? 'budgeted DP on a given cost table' : 'budgeted DP on the prior cost table (1 − level)² weighted towards early steps; step 0 dense',
      budget: o.budget,
    },
  });
}
