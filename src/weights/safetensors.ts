import type { FileHandle } from 'node:fs/promises';
import { rowGeometry, toBigInt64, toFloat32 } from './convert.js';
import { WeightFormatError, WeightKeyError } from './errors.js';
import { openForRead, readExact } from './fileRead.js';
import { DTYPE_ITEMSIZE, type RawWeightSource, type TensorInfo, type WeightDtype } from './types.js';
import { jsonErrorMessage } from '../core/json-error.js';

/** The safetensors reference implementation refuses headers above 100 MB; so do we (and it bounds memory). */
const MAX_HEADER_BYTES = 100_000_000;

const SUPPORTED: ReadonlySet<string> = new Set<WeightDtype>(['F32', 'F16', 'BF16', 'I64']);
const KNOWN_UNSUPPORTED: ReadonlySet<string> = new Set([
  'BOOL', 'U8', 'I8', 'I16', 'U16', 'I32', 'U32', 'U64', 'F64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2',
]);

export interface SafetensorsEntry {
  dtype: WeightDtype;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Product of a shape, refusing anything that is not a non-negative safe integer or that overflows. */
export function checkedNumel(shape: unknown, filePath: string, key: string): number {
  if (!Array.isArray(shape)) throw new WeightFormatError(filePath, `tensor "${key}" has a shape that is not a list`);
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new WeightFormatError(filePath, `tensor "${key}" has an invalid dimension ${JSON.stringify(d)} in its shape`);
    }
    n *= d;
    if (!Number.isSafeInteger(n)) throw new WeightFormatError(filePath, `tensor "${key}" has a shape whose size overflows`);
  }
  return n;
}

/**
 * Validate a safetensors JSON header against the size of the data section that follows it.
 * `dataStart` is 8 + header length; offsets in the header are relative to it.
 */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataStart: number,
  fileSize: number,
  filePath: string,
): Map<string, SafetensorsEntry> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new WeightFormatError(filePath, 'safetensors header is not valid UTF-8; the file is corrupt');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WeightFormatError(filePath, `safetensors header is not valid JSON (${jsonErrorMessage(e)}); the file is corrupt`);
  }
  if (!isPlainObject(json)) throw new WeightFormatError(filePath, 'safetensors header is not a JSON object');
  const dataLength = fileSize - dataStart;
  const entries = new Map<string, SafetensorsEntry>();
  for (const [key, value] of Object.entries(json)) {
    if (key === '__metadata__') {
      if (!isPlainObject(value)) throw new WeightFormatError(filePath, '__metadata__ in the safetensors header is not an object');
      continue;
    }
    if (!isPlainObject(value)) throw new WeightFormatError(filePath, `tensor "${key}" has a header entry that is not an object`);
    const { dtype, shape, data_offsets: offsets } = value;
    if (typeof dtype !== 'string') throw new WeightFormatError(filePath, `tensor "${key}" has no dtype`);
    if (!SUPPORTED.has(dtype)) {
      const why = KNOWN_UNSUPPORTED.has(dtype) ? 'is not supported' : 'is unknown';
      throw new WeightFormatError(filePath, `tensor "${key}" has dtype ${JSON.stringify(dtype)}, which ${why} (readable: F32, F16, BF16, I64)`);
    }
    const numel = checkedNumel(shape, filePath, key);
    if (!Array.isArray(offsets) || offsets.length !== 2) {
      throw new WeightFormatError(filePath, `tensor "${key}" needs data_offsets [begin, end]`);
    }
    const [b, e] = offsets as unknown[];
    if (typeof b !== 'number' || typeof e !== 'number' || !Number.isSafeInteger(b) || !Number.isSafeInteger(e) || b < 0 || e < b) {
      throw new WeightFormatError(filePath, `tensor "${key}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    if (e > dataLength) {
      throw new WeightFormatError(filePath, `tensor "${key}" ends at byte ${e} but the data section holds ${dataLength}; the file is truncated or corrupt`);
    }
    const itemsize = DTYPE_ITEMSIZE[dtype as WeightDtype];
    if (numel * itemsize !== e - b) {
      throw new WeightFormatError(filePath, `tensor "${key}" has shape ${JSON.stringify(shape)} (${numel * itemsize} bytes) but data_offsets span ${e - b} bytes`);
    }
    entries.set(key, { dtype: dtype as WeightDtype, shape: (shape as number[]).slice(), begin: dataStart + b, end: dataStart + e });
  }
  // Overlapping byte ranges would alias tensors; the format forbids them.
  const sorted = [...entries].filter(([, v]) => v.end > v.begin).sort((x, y) => x[1].begin - y[1].begin);
  for (let i = 1; i < sorted.length; i++) {
    const [prevKey, prev] = sorted[i - 1]!;
    const [key, cur] = sorted[i]!;
    if (cur.begin < prev.end) {
      throw new WeightFormatError(filePath, `tensors "${prevKey}" and "${key}" overlap in the data section; the file is corrupt`);
    }
  }
  return entries;
}

class SafetensorsFile implements RawWeightSource {
  private closed = false;
  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly entries: Map<string, SafetensorsEntry>,
  ) {}

  keys(): string[] {
    return [...this.entries.keys()];
  }
  has(key: string): boolean {
    return this.entries.has(key);
  }
  private entry(key: string): SafetensorsEntry {
    const e = this.entries.get(key);
    if (!e) throw new WeightKeyError(this.path, `no tensor named "${key}"`);
    return e;
  }
  info(key: string): TensorInfo {
    const e = this.entry(key);
    return { name: key, dtype: e.dtype, shape: e.shape.slice() };
  }
  async readRaw(key: string): Promise<Uint8Array> {
    const e = this.entry(key);
    if (this.closed) throw new WeightFormatError(this.path, `cannot read "${key}": the weight source is closed`);
    return readExact(this.handle, e.end - e.begin, e.begin, this.path);
  }
  async readF32(key: string): Promise<Float32Array> {
    const e = this.entry(key);
    if (e.dtype === 'I64') return toFloat32(new Uint8Array(0), e.dtype, this.path, key);
    return toFloat32(await this.readRaw(key), e.dtype, this.path, key);
  }
  async readRowsF32(key: string, rows: readonly number[]): Promise<Float32Array> {
    const e = this.entry(key);
    if (this.closed) throw new WeightFormatError(this.path, `cannot read "${key}": the weight source is closed`);
    if (e.dtype === 'I64') return toFloat32(new Uint8Array(0), e.dtype, this.path, key);
    const [, width] = rowGeometry(e.shape, rows, this.path, key);
    const itemsize = DTYPE_ITEMSIZE[e.dtype];
    const out = new Float32Array(rows.length * width);
    for (const [i, r] of rows.entries()) out.set(toFloat32(await readExact(this.handle, width * itemsize, e.begin + r * width * itemsize, this.path), e.dtype, this.path, key), i * width);
    return out;
  }
  async readI64(key: string): Promise<BigInt64Array> {
    const e = this.entry(key);
    if (e.dtype !== 'I64') return toBigInt64(new Uint8Array(0), e.dtype, this.path, key);
    return toBigInt64(await this.readRaw(key), e.dtype, this.path, key);
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

/** Open one `.safetensors` file: the header is read and validated now, tensors only when asked for. */
export async function openSafetensors(filePath: string): Promise<RawWeightSource> {
  const handle = await openForRead(filePath);
  try {
    const size = (await handle.stat()).size;
    if (size < 8) throw new WeightFormatError(filePath, `file has ${size} bytes, too short for a safetensors header; re-download it`);
    const lenBytes = await readExact(handle, 8, 0, filePath);
    const headerLen = new DataView(lenBytes.buffer).getBigUint64(0, true);
    if (headerLen > BigInt(size - 8)) {
      throw new WeightFormatError(filePath, `safetensors header length ${headerLen} runs past the end of the ${size}-byte file; the file is truncated or not safetensors`);
    }
    if (headerLen > BigInt(MAX_HEADER_BYTES)) {
      throw new WeightFormatError(filePath, `safetensors header length ${headerLen} exceeds the 100 MB limit; the file is not safetensors`);
    }
    const n = Number(headerLen);
    const header = await readExact(handle, n, 8, filePath);
    const entries = parseSafetensorsHeader(header, 8 + n, size, filePath);
    return new SafetensorsFile(filePath, handle, entries);
  } catch (e) {
    await handle.close();
    throw e;
  }
}
