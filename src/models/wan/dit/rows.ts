/**
 * Row gathers and scatters on row-major [rows, width] float32 matrices. Sparse blocks run
 * their row-wise stages on a selected subset of tokens and scatter the results back.
 */

export function gatherRows(src: Float32Array, width: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    out.set(src.subarray(r * width, (r + 1) * width), i * width);
  }
  return out;
}

/** Writes row i of `values` into row rows[i] of `dst` (in place). */
export function scatterRows(dst: Float32Array, width: number, rows: ArrayLike<number>, values: Float32Array): void {
  for (let i = 0; i < rows.length; i++) dst.set(values.subarray(i * width, (i + 1) * width), rows[i] * width);
}
