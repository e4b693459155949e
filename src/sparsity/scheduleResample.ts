/**
 * Resampling a schedule to another step count. Calibrated tables are tied to the step count
 * they were made at (a recurring complaint about TeaCache/MagCache tables), so a schedule is
 * carried over proportionally:
 *
 * 1. New step t' covers the source interval [t'·T/T', (t'+1)·T/T') of the old steps. For
 *    every layer, the overlap-weighted mean FLOPs weight of the source levels is its target.
 * 2. Each slot takes the level whose weight is nearest that target.
 * 3. Rounding drift is corrected greedily: while moving one slot one level towards its own
 *    target brings the total weight closer to the proportional total, the slot with the
 *    largest remaining gap moves. The FLOPs ratio therefore stays within about one level
 *    step of one slot of the original.
 *
 * With reuse "stack-residual" whole steps are the unit (every layer shares the level).
 */
import { ScheduleFormatError } from './errors.js';
import { generationFlops, levelFlops, type FlopsShape } from './flops.js';
import type { Schedule } from './schedule.js';

export interface ResampleOptions {
  /** Model sizes for exact FLOPs weights and an exact new flopsRatio. Without it, a level's weight is the level itself. */
  flops?: FlopsShape;
}

export function resampleSchedule(schedule: Schedule, steps: number, options: ResampleOptions = {}): Schedule {
  if (!Number.isInteger(steps) || steps <= 0) throw new ScheduleFormatError(`cannot resample a schedule to ${steps} steps; give a positive whole number of steps`);
  const src = schedule.table;
  const T = src.length;
  const layers = schedule.model.layers;
  const levels = schedule.levels;
  const shape = options.flops;
  const weightOf = (level: number): number => (shape ? levelFlops(shape, level, schedule.attention) : level);
  const weights = levels.map(weightOf);
  const idx = (level: number): number => levels.indexOf(level);

  const perStep = schedule.reuse === 'stack-residual';
  const cols = perStep ? 1 : layers;
  const target: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const a = (t * T) / steps;
    const b = ((t + 1) * T) / steps;
    const row = new Array<number>(cols).fill(0);
    for (let s = Math.floor(a); s < Math.min(T, Math.ceil(b)); s++) {
      const overlap = Math.min(b, s + 1) - Math.max(a, s);
      if (overlap <= 0) continue;
      for (let c = 0; c < cols; c++) row[c] += overlap * weights[idx(src[s][c])];
    }
    target.push(row.map((v) => v / (b - a)));
  }
  const wanted = target.flat().reduce((x, y) => x + y, 0);

  const nearest = (w: number): number => {
    let best = 0;
    for (let i = 1; i < weights.length; i++) if (Math.abs(weights[i] - w) < Math.abs(weights[best] - w)) best = i;
    return best;
  };
  const choice = target.map((row) => row.map(nearest));
  let total = choice.flat().reduce((x, i) => x + weights[i], 0);

  // With stack-residual steps only the all-0 and all-1 levels are allowed.
  const allowed = (i: number): boolean => !perStep || levels[i] === 0 || levels[i] === 1;
  for (let t = 0; t < steps; t++) for (let c = 0; c < cols; c++) if (!allowed(choice[t][c])) choice[t][c] = target[t][c] >= weightOf(1) / 2 ? idx(1) : idx(0);
  total = choice.flat().reduce((x, i) => x + weights[i], 0);

  for (;;) {
    const diff = wanted - total;
    let best: { t: number; c: number; to: number; gap: number } | null = null;
    for (let t = 0; t < steps; t++)
      for (let c = 0; c < cols; c++) {
        const cur = choice[t][c];
        let to = cur;
        do to += diff > 0 ? 1 : -1;
        while (to >= 0 && to < levels.length && !allowed(to));
        if (to < 0 || to >= levels.length) continue;
        const delta = weights[to] - weights[cur];
        if (Math.abs(diff - delta) >= Math.abs(diff)) continue;
        const gap = (target[t][c] - weights[cur]) * Math.sign(diff);
        if (!best || gap > best.gap) best = { t, c, to, gap };
      }
    if (!best) break;
    total += weights[best.to] - weights[choice[best.t][best.c]];
    choice[best.t][best.c] = best.to;
  }

  const table = choice.map((row) => (perStep ? new Array<number>(layers).fill(levels[row[0]]) : row.map((i) => levels[i])));
  const flopsRatio = shape ? generationFlops(shape, table, schedule.attention).ratio : schedule.flopsRatio;
  return {
    ...schedule,
    sampling: { ...schedule.sampling, steps },
    table,
    flopsRatio,
    provenance: {
      ...schedule.provenance,
      notes: `${schedule.provenance.notes ? `${schedule.provenance.notes}; ` : ''}resampled from ${T} to ${steps} steps (proportional)`,
    },
    // fidelity was measured at the old step count; it no longer applies
    fidelity: null,
  };
}
