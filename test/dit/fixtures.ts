/** Fixture access for the DiT tests (files stay in the shared folder, never copied). */
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { parseNpy } from '../../src/io/npy.js';

export const FIXTURE_DIT_DIR = fileURLToPath(new URL('../../../shared/fixtures/wan21-tiny/dit/', import.meta.url));

// parseNpy is given a plain Uint8Array copy: on a Node Buffer its `slice` is a view, and
// the array would then start at the file's header (reported to the lead).
function readFixture(name: string) {
  return parseNpy(new Uint8Array(readFileSync(`${FIXTURE_DIT_DIR}${name}.npy`)), name);
}

export function fixture(name: string): { shape: number[]; data: Float32Array } {
  const a = readFixture(name);
  if (!(a.data instanceof Float32Array)) throw new Error(`${name}: expected float32, found ${a.dtype}`);
  return { shape: a.shape, data: a.data };
}

export function fixtureF64(name: string): { shape: number[]; data: Float64Array } {
  const a = readFixture(name);
  if (!(a.data instanceof Float64Array)) throw new Error(`${name}: expected float64, found ${a.dtype}`);
  return { shape: a.shape, data: a.data };
}

/** Largest |a − b|; throws if the lengths differ. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export const ATOL = 1e-4;
