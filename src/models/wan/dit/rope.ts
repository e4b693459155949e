/**
 * Wan's 3-D rotary position tables. The head_dim/2 rotation pairs are split into a frame
 * part, a row part and a column part (c − 2⌊c/3⌋, ⌊c/3⌋, ⌊c/3⌋ pairs for c = head_dim/2,
 * i.e. 22/21/21 at head_dim 128); each axis uses frequencies 1/10000^(2k/d_axis) with its
 * own width d_axis (d − 4⌊d/6⌋ for frames, 2⌊d/6⌋ for rows and columns). Angles are
 * computed in float64 and rounded to float32, as the reference rounds its rotated output.
 */
import type { PatchGrid } from './patchify.js';

export interface RopeTables {
  /** cos of each token's rotation angles, [tokens, headDim/2] row-major. */
  cos: Float32Array;
  /** sin of each token's rotation angles, [tokens, headDim/2]. */
  sin: Float32Array;
  /** Pairs per token (headDim/2). */
  pairs: number;
}

export interface RopeSplit {
  /** Rotation pairs driven by the frame, row and column index. */
  frame: number;
  row: number;
  col: number;
}

export function ropeSplit(headDim: number): RopeSplit {
  const c = headDim / 2;
  const third = Math.floor(c / 3);
  return { frame: c - 2 * third, row: third, col: third };
}

/** Per-axis angular frequencies in float64: freq[k] = 1 / 10000^(2k / axisWidth). */
function axisFrequencies(pairs: number): Float64Array {
  const width = 2 * pairs;
  const out = new Float64Array(pairs);
  for (let k = 0; k < pairs; k++) out[k] = 1 / Math.pow(10000, (2 * k) / width);
  return out;
}

/** cos/sin tables for every token of a grid, in token order (f·H' + h)·W' + w. */
export function ropeTables(grid: PatchGrid, headDim: number): RopeTables {
  const split = ropeSplit(headDim);
  const pairs = headDim / 2;
  const ff = axisFrequencies(split.frame);
  const fh = axisFrequencies(split.row);
  const fw = axisFrequencies(split.col);
  const n = grid.frames * grid.rows * grid.cols;
  const cos = new Float32Array(n * pairs);
  const sin = new Float32Array(n * pairs);
  const angles = new Float64Array(pairs);
  let token = 0;
  for (let f = 0; f < grid.frames; f++)
    for (let h = 0; h < grid.rows; h++)
      for (let w = 0; w < grid.cols; w++, token++) {
        let j = 0;
        for (let k = 0; k < split.frame; k++) angles[j++] = f * ff[k];
        for (let k = 0; k < split.row; k++) angles[j++] = h * fh[k];
        for (let k = 0; k < split.col; k++) angles[j++] = w * fw[k];
        const base = token * pairs;
        for (let p = 0; p < pairs; p++) {
          cos[base + p] = Math.cos(angles[p]);
          sin[base + p] = Math.sin(angles[p]);
        }
      }
  return { cos, sin, pairs };
}
