import type { WeightSource } from './types.js';

/** Rows of a tensor as float32: row by row from the file when the source can, else the whole tensor sliced. */
export async function readRowsF32(source: WeightSource, key: string, rows: readonly number[]): Promise<Float32Array> {
  if (source.readRowsF32) return source.readRowsF32(key, rows);
  const shape = source.info(key).shape;
  const width = shape.slice(1).reduce((a, b) => a * b, 1);
  const all = await source.readF32(key);
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => {
    if (!Number.isInteger(r) || r < 0 || r >= (shape[0] ?? 1)) throw new RangeError(`row ${r} of "${key}" is out of range`);
    out.set(all.subarray(r * width, (r + 1) * width), i * width);
  });
  return out;
}
