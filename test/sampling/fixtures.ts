import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseNpy } from '../../src/io/npy.js';

export const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/wan21-tiny/', import.meta.url));

// A fresh Uint8Array: parseNpy slices its input, and slicing a Node Buffer gives a view.
function load(rel: string) {
  const path = FIXTURES + rel;
  return parseNpy(new Uint8Array(readFileSync(path)), path);
}

export function loadF32(rel: string): { shape: number[]; data: Float32Array } {
  const a = load(rel);
  if (!(a.data instanceof Float32Array)) throw new Error(`${rel}: expected float32, found ${a.dtype}`);
  return { shape: a.shape, data: a.data };
}

export function loadTimesteps(rel: string): number[] {
  const a = load(rel);
  if (!(a.data instanceof BigInt64Array)) throw new Error(`${rel}: expected int64, found ${a.dtype}`);
  return Array.from(a.data, Number);
}

/** Row i of a stacked (steps, ...) array. */
export function row(a: { data: Float32Array }, i: number, rowLength: number): Float32Array {
  return a.data.subarray(i * rowLength, (i + 1) * rowLength);
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export const SAMPLER_FIXTURES = [
  { dir: 'sampler_unipc', solver: 'unipc' as const },
  { dir: 'sampler_dpmpp', solver: 'dpm++' as const },
];
