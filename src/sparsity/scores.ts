/**
 * Token scoring and selection (ToCa / DuCa signals, reference §2.1, §2.2, §5.3). A token's
 * score is a weighted sum of signals, each rescaled to [0, 1] over the tokens so the weights
 * are comparable:
 *
 * - attention: self-attention influence, Σ over queries and heads of the softmax column a
 *   token receives (ToCa s1), from the last dense pass (see attentionScore.ts);
 * - value: DuCa's V-norm score Σ_h (1 − ‖v_h‖): tokens with small value norms score high;
 * - staleness: forwards since the token was last recomputed (ToCa s3);
 * - movement: how far the token's block input has moved since its cached computation,
 *   ‖x_now − x_cached‖ / ‖x_cached‖ per token (elementwise, cheap; `movementSignal`);
 * then a spread bonus: within each cell of the grid (per frame 2×2 by default), the best
 * token gets + bonus·its score (ToCa s4), so fresh tokens cover the whole picture.
 * Top-k breaks ties by the lower token index, so selection is deterministic.
 */
import type { TokenGrid } from './cache.js';

export interface ScoreWeights {
  attention: number;
  value: number;
  staleness: number;
  /** Weight of the input-movement signal (0 when absent: the executor then keeps no block inputs). */
  movement?: number;
  /** Spread bonus factor (ToCa uses 0.6); 0 disables it. */
  spread: number;
  /** Cell of the spread bonus in (frames, rows, columns). */
  spreadCell: [number, number, number];
}

export const DEFAULT_SCORE_WEIGHTS: Readonly<ScoreWeights> = {
  attention: 1,
  value: 0.5,
  staleness: 0.25,
  spread: 0.6,
  spreadCell: [1, 2, 2],
};

/** Rescales to [0, 1] (min → 0, max → 1); a constant signal becomes all zeros. */
export function rescale(x: ArrayLike<number>): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    lo = Math.min(lo, x[i]);
    hi = Math.max(hi, x[i]);
  }
  const out = new Float32Array(x.length);
  const span = hi - lo;
  if (!(span > 0)) return out;
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - lo) / span;
  return out;
}

/** DuCa's value-norm signal Σ_h (1 − ‖v_h‖) per token from v [N, D] with `heads` heads. */
export function valueNormSignal(v: Float32Array, tokens: number, heads: number): Float32Array {
  const dim = v.length / tokens;
  const hd = dim / heads;
  const out = new Float32Array(tokens);
  for (let i = 0; i < tokens; i++) {
    let s = 0;
    for (let h = 0; h < heads; h++) {
      let sq = 0;
      const o = i * dim + h * hd;
      for (let j = 0; j < hd; j++) sq += v[o + j] * v[o + j];
      s += 1 - Math.sqrt(sq);
    }
    out[i] = s;
  }
  return out;
}

/** Per token ‖x_now − x_cached‖ / ‖x_cached‖ over rows of width `dim` (0 for a zero cached row). */
export function movementSignal(now: Float32Array, cached: Float32Array, dim: number): Float32Array {
  const n = now.length / dim;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let num = 0;
    let den = 0;
    const o = i * dim;
    for (let j = 0; j < dim; j++) {
      const d = now[o + j] - cached[o + j];
      num += d * d;
      den += cached[o + j] * cached[o + j];
    }
    out[i] = den > 0 ? Math.sqrt(num / den) : 0;
  }
  return out;
}

/** Named score mixes (the selection bench measures them; `--scores` picks one). */
export const SCORE_MIXES: Readonly<Record<string, Readonly<ScoreWeights>>> = {
  default: DEFAULT_SCORE_WEIGHTS,
  movement: { attention: 0, value: 0, staleness: 0, movement: 1, spread: 0, spreadCell: [1, 2, 2] },
  'movement+staleness': { attention: 0, value: 0, staleness: 0.25, movement: 1, spread: 0, spreadCell: [1, 2, 2] },
  'movement+default': { ...DEFAULT_SCORE_WEIGHTS, movement: 1 },
  attention: { attention: 1, value: 0, staleness: 0, spread: 0, spreadCell: [1, 2, 2] },
  value: { attention: 0, value: 1, staleness: 0, spread: 0, spreadCell: [1, 2, 2] },
  staleness: { attention: 0, value: 0, staleness: 1, spread: 0, spreadCell: [1, 2, 2] },
};

/**
 * The mix learned schedules select tokens with (recorded in their files as `scores`). Measured
 * with bench/sparsity-selection.ts on the demo model (20 steps, dense every 4th step, 2 seeds):
 * at shares ¼ and ½ movement + staleness had the lowest or near-lowest block-output error
 * against the whole block (fresh-kv: 0.158 / 0.091 vs the default's 0.193 / 0.147) and a far
 * lower final-latent error than the default mix. Older schedule files without `scores`, and
 * the ToCa-like baseline, keep DEFAULT_SCORE_WEIGHTS (their outputs are pinned).
 */
export const LEARNED_SCORE_MIX = 'movement+staleness';

export interface ScoreInputs {
  age: ArrayLike<number>;
  attention?: ArrayLike<number> | null;
  value?: ArrayLike<number> | null;
  movement?: ArrayLike<number> | null;
}

/** The combined score per token, spread bonus included. */
export function tokenScores(inputs: ScoreInputs, grid: TokenGrid, weights: ScoreWeights = DEFAULT_SCORE_WEIGHTS): Float32Array {
  const n = inputs.age.length;
  const score = new Float32Array(n);
  const addSignal = (signal: ArrayLike<number> | null | undefined, w: number): void => {
    if (!signal || w === 0) return;
    const r = rescale(signal);
    for (let i = 0; i < n; i++) score[i] += w * r[i];
  };
  addSignal(inputs.attention, weights.attention);
  addSignal(inputs.value, weights.value);
  addSignal(inputs.age, weights.staleness);
  addSignal(inputs.movement, weights.movement ?? 0);
  if (weights.spread > 0) applySpreadBonus(score, grid, weights.spreadCell, weights.spread);
  return score;
}

/** In each (cf × ch × cw) cell of the grid, the highest-scoring token gets + bonus·score (in place). */
export function applySpreadBonus(score: Float32Array, grid: TokenGrid, cell: [number, number, number], bonus: number): void {
  const { frames: F, height: H, width: W } = grid;
  const [cf, ch, cw] = cell;
  for (let f0 = 0; f0 < F; f0 += cf)
    for (let h0 = 0; h0 < H; h0 += ch)
      for (let w0 = 0; w0 < W; w0 += cw) {
        let best = -1;
        for (let f = f0; f < Math.min(F, f0 + cf); f++)
          for (let h = h0; h < Math.min(H, h0 + ch); h++)
            for (let w = w0; w < Math.min(W, w0 + cw); w++) {
              const i = (f * H + h) * W + w;
              if (best < 0 || score[i] > score[best]) best = i;
            }
        if (best >= 0) score[best] += bonus * score[best];
      }
}

/** Indices of the k highest scores, ascending; ties go to the lower index. */
export function topK(score: ArrayLike<number>, k: number): Int32Array {
  const n = score.length;
  if (k >= n) return Int32Array.from({ length: n }, (_, i) => i);
  if (k <= 0) return new Int32Array(0);
  // Every score above the k-th highest is taken, then as many equal to it as are left, lowest
  // index first: the same set as sorting by (score, −index), with a comparator-free numeric sort.
  const sorted = new Float64Array(n);
  sorted.set(score);
  const threshold = sorted.sort()[n - k];
  let ties = k;
  for (let i = 0; i < n; i++) if (score[i] > threshold) ties--;
  const out = new Int32Array(k);
  let taken = 0;
  for (let i = 0; i < n; i++) {
    const s = score[i];
    if (s > threshold) out[taken++] = i;
    else if (s === threshold && ties > 0) {
      out[taken++] = i;
      ties--;
    }
  }
  return out;
}
