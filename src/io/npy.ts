/**
 * NumPy `.npy` (format 1.0/2.0) reader and writer for little-endian, C-order arrays.
 * Used for fixtures, initial-noise inputs and saved latents, so runs can be compared
 * with other implementations. `readNpyF32` also reads float16 (`<f2`), widened exactly to
 * float32 (the demo model v2's reference video is stored that way to stay small).
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { f16BitsToF32 } from '../core/half.js';

export type NpyDtype = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8';

export type NpyData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const DESCR_TO_DTYPE: Record<string, NpyDtype> = {
  '<f4': 'float32', '<f8': 'float64', '<i8': 'int64', '<i4': 'int32', '|u1': 'uint8', '<u1': 'uint8',
};
const DTYPE_TO_DESCR: Record<NpyDtype, string> = {
  float32: '<f4', float64: '<f8', int64: '<i8', int32: '<i4', uint8: '|u1',
};
const MAGIC = '\x93NUMPY';

export class NpyFormatError extends Error {
  override name = 'NpyFormatError';
}

export function parseNpy(bytes: Uint8Array, source = '<buffer>'): NpyArray {
  return parse(bytes, source, false);
}

function parse(bytes: Uint8Array, source: string, allowHalf: boolean): NpyArray {
  const magic = String.fromCharCode(...bytes.subarray(0, 6));
  if (magic !== MAGIC || bytes.byteLength < 12) throw new NpyFormatError(`${source}: not a .npy file (bad magic)`);
  const major = bytes[6];
  if (major !== 1 && major !== 2 && major !== 3) throw new NpyFormatError(`${source}: .npy format version ${major} is not supported (1, 2 or 3)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLen > bytes.byteLength) throw new NpyFormatError(`${source}: truncated .npy header`);
  // Headers are short; a long one is not quoted in messages.
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + Math.min(headerLen, 4096)));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new NpyFormatError(`${source}: unreadable .npy header: ${JSON.stringify(header.slice(0, 200))}`);
  if (fortran === 'True') throw new NpyFormatError(`${source}: Fortran-order arrays are not supported`);
  const half = allowHalf && descr === '<f2';
  const dtype = half ? 'float32' : Object.hasOwn(DESCR_TO_DTYPE, descr) ? DESCR_TO_DTYPE[descr] : undefined;
  if (!dtype) throw new NpyFormatError(`${source}: unsupported dtype ${JSON.stringify(descr.slice(0, 20))} (float32 '<f4', float64, int64, int32 or uint8 are read)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new NpyFormatError(`${source}: .npy shape (${shapeText.slice(0, 100)}) must be non-negative integers`);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = headerStart + headerLen;
  if (half) {
    const body = Uint8Array.prototype.slice.call(bytes, offset, offset + count * 2);
    if (body.byteLength !== count * 2) throw new NpyFormatError(`${source}: truncated data`);
    return { dtype, shape, data: f16BitsToF32(new Uint16Array(body.buffer)) };
  }
  // Copy (Buffer#slice would be a view into Node's pool) so the typed array is aligned and owns its memory.
  const body = Uint8Array.prototype.slice.call(bytes, offset, offset + count * bytesPerElement(dtype));
  if (body.byteLength !== count * bytesPerElement(dtype)) throw new NpyFormatError(`${source}: truncated data`);
  return { dtype, shape, data: typedArray(dtype, body.buffer) };
}

export function readNpy(path: string): NpyArray {
  return parseNpy(readFileSync(path), path);
}

/** Reads a float32 array; float64 input is narrowed (fixtures store a few helpers in f64), float16 widened. */
export function readNpyF32(path: string): { shape: number[]; data: Float32Array } {
  const a = parse(readFileSync(path), path, true);
  if (a.data instanceof Float32Array) return { shape: a.shape, data: a.data };
  if (a.data instanceof Float64Array) return { shape: a.shape, data: Float32Array.from(a.data) };
  throw new NpyFormatError(`${path}: expected a float array, found ${a.dtype}`);
}

export function encodeNpy(array: NpyArray): Uint8Array {
  const shapeText = array.shape.length === 1 ? `${array.shape[0]},` : array.shape.join(', ');
  let header = `{'descr': '${DTYPE_TO_DESCR[array.dtype]}', 'fortran_order': False, 'shape': (${shapeText}), }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + array.data.byteLength);
  out.set([0x93, ...Array.from('NUMPY', (c) => c.charCodeAt(0)), 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength), 10 + header.length);
  return out;
}

/** Writes under a temporary name and renames, so a crash never leaves a partial file. */
export function writeNpy(path: string, array: NpyArray): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, encodeNpy(array));
  renameSync(tmp, path);
}

function bytesPerElement(dtype: NpyDtype): number {
  return { float32: 4, float64: 8, int64: 8, int32: 4, uint8: 1 }[dtype];
}

function typedArray(dtype: NpyDtype, buffer: ArrayBufferLike): NpyData {
  switch (dtype) {
    case 'float32': return new Float32Array(buffer);
    case 'float64': return new Float64Array(buffer);
    case 'int64': return new BigInt64Array(buffer);
    case 'int32': return new Int32Array(buffer);
    case 'uint8': return new Uint8Array(buffer);
  }
}
