/**
 * Row gathers on row-major [rows, width] float32 matrices: sparse blocks run their row-wise
 * stages on a selected subset of tokens (the executor writes the results back as it assembles).
 */

export function gatherRows(src: Float32Array, width: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    out.set(src.subarray(r * width, (r + 1) * width), i * width);
  }
  return out;
}
