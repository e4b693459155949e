import { endianness } from 'node:os';
import { WeightDtypeError, WeightFormatError, WeightKeyError } from './errors.js';
import type { WeightDtype } from './types.js';

let f16Table: Float32Array | undefined;

/** Float32 value of every binary16 bit pattern; built once, then conversion is one lookup per element. */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    let v: number;
    if (exp === 0) v = sign * frac * 2 ** -24;
    else if (exp === 31) v = frac === 0 ? sign * Infinity : NaN;
    else v = sign * (1 + frac / 1024) * 2 ** (exp - 15);
    table[h] = v;
  }
  // NaN payloads are not preserved by the arithmetic above; write the exact widened bits instead.
  const bits = new Uint32Array(table.buffer);
  for (let h = 0x7c01; h <= 0x7fff; h++) {
    bits[h] = 0x7f800000 | ((h & 0x3ff) << 13);
    bits[h | 0x8000] = 0xff800000 | ((h & 0x3ff) << 13);
  }
  f16Table = table;
  return table;
}

/** Typed arrays use the host byte order; every format here is little-endian. */
function requireLittleEndianHost(filePath: string): void {
  if (endianness() !== 'LE') throw new WeightFormatError(filePath, 'weights are little-endian and this host is big-endian; this is not supported');
}

/** Widen little-endian raw bytes of a floating dtype to float32 (exact for all three). */
export function toFloat32(raw: Uint8Array, dtype: WeightDtype, filePath: string, key: string): Float32Array {
  if (dtype === 'I64') {
    throw new WeightDtypeError(filePath, `tensor "${key}" is I64; read it with readI64 instead of readF32`);
  }
  requireLittleEndianHost(filePath);
  if (dtype === 'F32') {
    if (raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    return new Float32Array(raw.slice().buffer);
  }
  const n = raw.byteLength / 2;
  const src = raw.byteOffset % 2 === 0 ? new Uint16Array(raw.buffer, raw.byteOffset, n) : new Uint16Array(raw.slice().buffer);
  const out = new Float32Array(n);
  if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32, so the widening is a shift.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = src[i]! << 16;
  } else {
    const table = halfTable();
    for (let i = 0; i < n; i++) out[i] = table[src[i]!]!;
  }
  return out;
}

export function toBigInt64(raw: Uint8Array, dtype: WeightDtype, filePath: string, key: string): BigInt64Array {
  if (dtype !== 'I64') throw new WeightDtypeError(filePath, `tensor "${key}" is ${dtype}, not I64; read it with readF32`);
  requireLittleEndianHost(filePath);
  if (raw.byteOffset % 8 === 0) return new BigInt64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
  return new BigInt64Array(raw.slice().buffer);
}

/** [rows of the tensor, values per row] after checking every requested row exists. */
export function rowGeometry(shape: readonly number[], rows: readonly number[], filePath: string, key: string): [number, number] {
  const n = shape[0] ?? 1;
  const width = shape.slice(1).reduce((a, b) => a * b, 1);
  for (const r of rows) if (!Number.isInteger(r) || r < 0 || r >= n) throw new WeightKeyError(filePath, `row ${r} of "${key}" is out of range [0, ${n})`);
  return [n, width];
}
