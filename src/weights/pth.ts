import { rowGeometry, toBigInt64, toFloat32 } from './convert.js';
import { WeightFormatError, WeightKeyError } from './errors.js';
import { unpickleStateDict, type PickledTensor } from './pickle.js';
import { openForRead } from './fileRead.js';
import { DTYPE_ITEMSIZE, type RawWeightSource, type TensorInfo } from './types.js';
import { ZipArchive, type ZipEntry } from './zip.js';

/** Pickles above this are refused before being read: a state dict pickle is a few MB at most. */
const MAX_PICKLE_BYTES = 256 * 1024 * 1024;

interface PthTensor {
  info: TensorInfo;
  tensor: PickledTensor;
  entry: ZipEntry;
  /** Whether the tensor occupies its storage densely from `offset` in C order. */
  contiguous: boolean;
}

function contiguousStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

function isContiguous(shape: number[], stride: number[]): boolean {
  const expect = contiguousStrides(shape);
  // A dimension of size 1 can carry any stride without changing the layout.
  return shape.every((d, i) => d === 1 || stride[i] === expect[i]);
}

/** Copy a strided view out of the storage bytes it spans into C order. */
function gatherStrided(src: Uint8Array, shape: number[], stride: number[], itemsize: number, numel: number): Uint8Array {
  const out = new Uint8Array(numel * itemsize);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let srcElem = 0;
  for (let o = 0; o < numel; o++) {
    out.set(src.subarray(srcElem * itemsize, (srcElem + 1) * itemsize), o * itemsize);
    for (let d = rank - 1; d >= 0; d--) {
      index[d]!++;
      srcElem += stride[d]!;
      if (index[d]! < shape[d]!) break;
      srcElem -= stride[d]! * shape[d]!;
      index[d] = 0;
    }
  }
  return out;
}

class PthFile implements RawWeightSource {
  private closed = false;
  constructor(
    readonly path: string,
    private readonly zip: ZipArchive,
    private readonly tensors: Map<string, PthTensor>,
  ) {}

  keys(): string[] {
    return [...this.tensors.keys()];
  }
  has(key: string): boolean {
    return this.tensors.has(key);
  }
  private get(key: string): PthTensor {
    const t = this.tensors.get(key);
    if (!t) throw new WeightKeyError(this.path, `no tensor named "${key}"`);
    return t;
  }
  info(key: string): TensorInfo {
    const { info } = this.get(key);
    return { name: info.name, dtype: info.dtype, shape: info.shape.slice() };
  }

  async readRaw(key: string): Promise<Uint8Array> {
    const t = this.get(key);
    if (this.closed) throw new WeightFormatError(this.path, `cannot read "${key}": the weight source is closed`);
    const itemsize = DTYPE_ITEMSIZE[t.info.dtype];
    const numel = t.info.shape.reduce((a, b) => a * b, 1);
    const { offset, shape, stride } = t.tensor;
    const wholeStorage = t.contiguous && offset === 0 && numel * itemsize === t.entry.size;
    if (t.entry.method !== 0 || wholeStorage) {
      // Whole-member reads verify the CRC; deflated members can only be read whole anyway.
      const storage = await this.zip.read(t.entry);
      if (wholeStorage) return storage;
      return this.slice(storage, t, itemsize, numel);
    }
    const start = await this.zip.dataOffset(t.entry);
    if (numel === 0) return new Uint8Array(0);
    const spanElems = t.contiguous ? numel : 1 + shape.reduce((acc, d, i) => acc + (d - 1) * stride[i]!, 0);
    const span = await this.zip.readRange(start + offset * itemsize, spanElems * itemsize);
    return t.contiguous ? span : gatherStrided(span, shape, stride, itemsize, numel);
  }

  private slice(storage: Uint8Array, t: PthTensor, itemsize: number, numel: number): Uint8Array {
    const { offset, shape, stride } = t.tensor;
    if (numel === 0) return new Uint8Array(0);
    if (t.contiguous) return storage.slice(offset * itemsize, (offset + numel) * itemsize);
    return gatherStrided(storage.subarray(offset * itemsize), shape, stride, itemsize, numel);
  }

  async readF32(key: string): Promise<Float32Array> {
    const t = this.get(key);
    if (t.info.dtype === 'I64') return toFloat32(new Uint8Array(0), 'I64', this.path, key);
    return toFloat32(await this.readRaw(key), t.info.dtype, this.path, key);
  }
  async readRowsF32(key: string, rows: readonly number[]): Promise<Float32Array> {
    const t = this.get(key);
    if (this.closed) throw new WeightFormatError(this.path, `cannot read "${key}": the weight source is closed`);
    const [, width] = rowGeometry(t.info.shape, rows, this.path, key);
    const out = new Float32Array(rows.length * width);
    if (t.entry.method !== 0 || !t.contiguous || t.info.dtype === 'I64') {
      const all = await this.readF32(key);
      rows.forEach((r, i) => out.set(all.subarray(r * width, (r + 1) * width), i * width));
      return out;
    }
    const itemsize = DTYPE_ITEMSIZE[t.info.dtype];
    const start = (await this.zip.dataOffset(t.entry)) + t.tensor.offset * itemsize;
    for (const [i, r] of rows.entries()) {
      const bytes = await this.zip.readRange(start + r * width * itemsize, width * itemsize);
      out.set(toFloat32(bytes, t.info.dtype, this.path, key), i * width);
    }
    return out;
  }
  async readI64(key: string): Promise<BigInt64Array> {
    const t = this.get(key);
    if (t.info.dtype !== 'I64') return toBigInt64(new Uint8Array(0), t.info.dtype, this.path, key);
    return toBigInt64(await this.readRaw(key), 'I64', this.path, key);
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.zip.close();
  }
}

/** The archive folder prefix, found from its single `<prefix>/data.pkl` (torch versions differ in what they use). */
function findPickle(zip: ZipArchive, filePath: string): { prefix: string; entry: ZipEntry } {
  const candidates = [...zip.entries.values()].filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (candidates.length === 0) {
    throw new WeightFormatError(filePath, 'zip archive has no <folder>/data.pkl; it is not a torch.save checkpoint');
  }
  if (candidates.length > 1) {
    throw new WeightFormatError(filePath, `zip archive has ${candidates.length} data.pkl records; expected one torch.save checkpoint`);
  }
  const entry = candidates[0]!;
  return { prefix: entry.name.slice(0, -'data.pkl'.length), entry };
}

async function describeTensors(zip: ZipArchive, filePath: string): Promise<Map<string, PthTensor>> {
  const { prefix, entry } = findPickle(zip, filePath);
  const byteorder = zip.entries.get(`${prefix}byteorder`);
  if (byteorder) {
    if (byteorder.size > 16) throw new WeightFormatError(filePath, 'byteorder record is malformed');
    const order = new TextDecoder().decode(await zip.read(byteorder)).trim();
    if (order !== 'little') throw new WeightFormatError(filePath, `checkpoint was saved with byteorder "${order}"; only little-endian is supported`);
  }
  if (entry.size > MAX_PICKLE_BYTES) throw new WeightFormatError(filePath, `data.pkl is ${entry.size} bytes, too large for a state dict`);
  const pickled = unpickleStateDict(await zip.read(entry), filePath);
  const out = new Map<string, PthTensor>();
  for (const [name, tensor] of pickled) {
    const { storage, offset, shape, stride } = tensor;
    const itemsize = DTYPE_ITEMSIZE[storage.dtype];
    const member = zip.entries.get(`${prefix}data/${storage.key}`);
    if (!member) {
      throw new WeightFormatError(filePath, `tensor "${name}" needs storage "${prefix}data/${storage.key}", which is missing from the archive; the file is incomplete`);
    }
    if (member.size !== storage.numel * itemsize) {
      throw new WeightFormatError(filePath, `storage "${storage.key}" holds ${member.size} bytes but the pickle declares ${storage.numel} ${storage.dtype} elements`);
    }
    let numel = 1;
    for (const d of shape) {
      if (d < 0) throw new WeightFormatError(filePath, `tensor "${name}" has a negative dimension ${d}`);
      numel *= d;
      if (!Number.isSafeInteger(numel)) throw new WeightFormatError(filePath, `tensor "${name}" has a shape whose size overflows`);
    }
    if (offset < 0 || stride.some((s) => s < 0)) throw new WeightFormatError(filePath, `tensor "${name}" has a negative offset or stride`);
    if (numel > storage.numel) {
      // Only overlapping views (stride 0, broadcasts) can be larger than their storage; state dicts never hold them,
      // and refusing them bounds every read by the file size.
      throw new WeightFormatError(filePath, `tensor "${name}" has ${numel} elements but its storage holds ${storage.numel}; overlapping views are not supported`);
    }
    if (numel > 0) {
      const last = offset + shape.reduce((acc, d, i) => acc + (d - 1) * stride[i]!, 0);
      if (!Number.isSafeInteger(last) || last >= storage.numel) {
        throw new WeightFormatError(filePath, `tensor "${name}" reaches element ${last} of a ${storage.numel}-element storage`);
      }
    }
    out.set(name, {
      info: { name, dtype: storage.dtype, shape: shape.slice() },
      tensor,
      entry: member,
      contiguous: isContiguous(shape, stride),
    });
  }
  return out;
}

/** Open a torch.save zip checkpoint (`.pth`/`.pt`) through the restricted unpickler; tensors are read lazily. */
export async function openPth(filePath: string): Promise<RawWeightSource> {
  const handle = await openForRead(filePath);
  let zip: ZipArchive;
  try {
    zip = await ZipArchive.open(handle, filePath);
  } catch (e) {
    await handle.close();
    throw e;
  }
  try {
    return new PthFile(filePath, zip, await describeTensors(zip, filePath));
  } catch (e) {
    await zip.close();
    throw e;
  }
}
