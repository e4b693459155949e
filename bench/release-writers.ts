/**
 * Writers of random weights in the exact Wan2.1 release layouts, streamed so that a file of
 * any size is written with a few tens of MB of memory (issue 17 benchmark; CI uses small sizes):
 *   - a torch.save zip (`models_t5_umt5-xxl-enc-bf16.pth`): data.pkl + data/<n> storages,
 *     stored (not deflated), ZIP64 central directory, CRC-32 of every member;
 *   - safetensors shards with `diffusion_pytorch_model.safetensors.index.json`.
 * Values are pseudo-random bf16/f32 with a given standard deviation (uniform), drawn from a
 * rotating pool: fine for speed and memory, meaningless as a model.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { stateDictPickle } from '../test/weights/writers.js';

export interface TensorSpec {
  name: string;
  shape: number[];
  /** Uniform values of this standard deviation (default 0.02); `ones` for norm scales. */
  std?: number;
  ones?: boolean;
}

const POOL = 1 << 22; // values in the random pool
const numel = (s: number[]): number => s.reduce((a, b) => a * b, 1);

function f32ToBf16(x: number, view: DataView): number {
  view.setFloat32(0, x, true);
  const bits = view.getUint32(0, true);
  return (bits + 0x7fff + ((bits >> 16) & 1)) >>> 16;
}

/** Yields the tensor's bytes in chunks of at most 64 MB. */
function* tensorChunks(t: TensorSpec, dtype: 'BF16' | 'F32', seed: number): Generator<Uint8Array> {
  const n = numel(t.shape);
  const item = dtype === 'BF16' ? 2 : 4;
  const chunk = Math.min(n, 16 << 20);
  const buf = new ArrayBuffer(chunk * item);
  const view = new DataView(new ArrayBuffer(4));
  const std = t.std ?? 0.02;
  const half = std * Math.sqrt(3);
  // The pool is no larger than the tensor: 750 small tensors of a 1.3B DiT each drawing a full pool made writing it take half an hour.
  const size = Math.min(POOL, n);
  const pool = new Float32Array(size);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    pool[i] = t.ones ? 1 : (s / 2 ** 32 * 2 - 1) * half;
  }
  const bf = dtype === 'BF16' ? new Uint16Array(buf) : null;
  const f = dtype === 'F32' ? new Float32Array(buf) : null;
  const poolBits = bf ? Uint16Array.from(pool, (x) => f32ToBf16(x, view)) : null;
  let start = 0;
  for (let done = 0; done < n; done += chunk) {
    const m = Math.min(chunk, n - done);
    start = (start + 7919) % size;
    for (let i = 0; i < m; i += size) {
      const len = Math.min(size, m - i);
      const from = Math.min(start, size - len);
      if (bf) bf.set(poolBits!.subarray(from, from + len), i);
      else f!.set(pool.subarray(from, from + len), i);
    }
    yield new Uint8Array(buf, 0, m * item);
  }
}

/** Streams a torch.save zip of `tensors` (all one dtype) to `path`; returns its size. */
export function writePth(path: string, tensors: TensorSpec[], dtype: 'BF16' | 'F32' = 'BF16', prefix = 'archive'): number {
  const fd = openSync(path, 'w');
  const central: Buffer[] = [];
  let offset = 0;
  let count = 0;
  const member = (name: string, chunks: Iterable<Uint8Array>): void => {
    const nameBytes = Buffer.from(name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(45, 4);
    local.writeUInt16LE(nameBytes.length, 26);
    const headerAt = offset;
    writeSync(fd, local, 0, 30, offset);
    writeSync(fd, nameBytes, 0, nameBytes.length, offset + 30);
    offset += 30 + nameBytes.length;
    let crc = 0;
    let size = 0;
    for (const c of chunks) {
      crc = (zlib as unknown as { crc32(d: Uint8Array, v?: number): number }).crc32(c, crc);
      writeSync(fd, c, 0, c.byteLength, offset);
      offset += c.byteLength;
      size += c.byteLength;
    }
    const patch = Buffer.alloc(12);
    patch.writeUInt32LE(crc >>> 0, 0);
    patch.writeUInt32LE(size, 4);
    patch.writeUInt32LE(size, 8);
    writeSync(fd, patch, 0, 12, headerAt + 14);
    const extra = Buffer.alloc(28);
    extra.writeUInt16LE(1, 0);
    extra.writeUInt16LE(24, 2);
    extra.writeBigUInt64LE(BigInt(size), 4);
    extra.writeBigUInt64LE(BigInt(size), 12);
    extra.writeBigUInt64LE(BigInt(headerAt), 20);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(45, 4);
    c.writeUInt16LE(45, 6);
    c.writeUInt32LE(crc >>> 0, 16);
    c.writeUInt32LE(0xffffffff, 20);
    c.writeUInt32LE(0xffffffff, 24);
    c.writeUInt16LE(nameBytes.length, 28);
    c.writeUInt16LE(extra.length, 30);
    c.writeUInt32LE(0xffffffff, 42);
    central.push(c, nameBytes, extra);
    count++;
  };
  const storageType = dtype === 'BF16' ? 'BFloat16Storage' : 'FloatStorage';
  const pickle = stateDictPickle(tensors.map((t, i) => {
    const stride: number[] = [];
    let s = 1;
    for (let d = t.shape.length - 1; d >= 0; d--) {
      stride[d] = s;
      s *= t.shape[d]!;
    }
    return { name: t.name, storageType, key: String(i), numel: numel(t.shape), offset: 0, shape: t.shape, stride };
  }));
  member(`${prefix}/data.pkl`, [pickle]);
  member(`${prefix}/byteorder`, [Buffer.from('little')]);
  tensors.forEach((t, i) => member(`${prefix}/data/${i}`, tensorChunks(t, dtype, i + 1)));
  member(`${prefix}/version`, [Buffer.from('3\n')]);
  const cd = Buffer.concat(central);
  const rec = Buffer.alloc(56);
  rec.writeUInt32LE(0x06064b50, 0);
  rec.writeBigUInt64LE(44n, 4);
  rec.writeUInt16LE(45, 12);
  rec.writeUInt16LE(45, 14);
  rec.writeBigUInt64LE(BigInt(count), 24);
  rec.writeBigUInt64LE(BigInt(count), 32);
  rec.writeBigUInt64LE(BigInt(cd.length), 40);
  rec.writeBigUInt64LE(BigInt(offset), 48);
  const loc = Buffer.alloc(20);
  loc.writeUInt32LE(0x07064b50, 0);
  loc.writeBigUInt64LE(BigInt(offset + cd.length), 8);
  loc.writeUInt32LE(1, 16);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(0xffff, 8);
  eocd.writeUInt16LE(0xffff, 10);
  eocd.writeUInt32LE(0xffffffff, 12);
  eocd.writeUInt32LE(0xffffffff, 16);
  const tail = Buffer.concat([cd, rec, loc, eocd]);
  writeSync(fd, tail, 0, tail.length, offset);
  closeSync(fd);
  return offset + tail.length;
}

/** Writes safetensors shards of at most `shardBytes` and the index, as the HF release does; returns total bytes. */
export function writeShardedSafetensors(dir: string, tensors: TensorSpec[], dtype: 'BF16' | 'F32', shardBytes: number, stem = 'diffusion_pytorch_model'): number {
  const item = dtype === 'BF16' ? 2 : 4;
  const shards: TensorSpec[][] = [[]];
  let size = 0;
  for (const t of tensors) {
    const b = numel(t.shape) * item;
    if (size > 0 && size + b > shardBytes) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1]!.push(t);
    size += b;
  }
  const weightMap: Record<string, string> = {};
  let total = 0;
  shards.forEach((list, s) => {
    const file = `${stem}-${String(s + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let at = 0;
    for (const t of list) {
      const b = numel(t.shape) * item;
      header[t.name] = { dtype, shape: t.shape, data_offsets: [at, at + b] };
      at += b;
      weightMap[t.name] = file;
    }
    let json = Buffer.from(JSON.stringify(header));
    const pad = (8 - (json.length % 8)) % 8;
    json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
    const fd = openSync(join(dir, file), 'w');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeSync(fd, len);
    writeSync(fd, json);
    list.forEach((t, i) => {
      for (const c of tensorChunks(t, dtype, s * 1000 + i + 1)) writeSync(fd, c);
    });
    closeSync(fd);
    total += 8 + json.length + at;
  });
  writeFileSync(join(dir, `${stem}.safetensors.index.json`), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2));
  return total;
}

/** Tensor list of a umT5 encoder state dict (original Wan names). */
export function t5Tensors(c: { vocab: number; dim: number; dimAttn: number; dimFfn: number; numHeads: number; numLayers: number; numBuckets: number }): TensorSpec[] {
  const out: TensorSpec[] = [{ name: 'token_embedding.weight', shape: [c.vocab, c.dim], std: 1 }];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `blocks.${i}`;
    out.push(
      { name: `${p}.norm1.weight`, shape: [c.dim], ones: true },
      { name: `${p}.attn.q.weight`, shape: [c.dimAttn, c.dim], std: 0.02 },
      { name: `${p}.attn.k.weight`, shape: [c.dimAttn, c.dim], std: 0.02 },
      { name: `${p}.attn.v.weight`, shape: [c.dimAttn, c.dim], std: 0.02 },
      { name: `${p}.attn.o.weight`, shape: [c.dim, c.dimAttn], std: 0.02 },
      { name: `${p}.norm2.weight`, shape: [c.dim], ones: true },
      { name: `${p}.ffn.gate.0.weight`, shape: [c.dimFfn, c.dim], std: 0.02 },
      { name: `${p}.ffn.fc1.weight`, shape: [c.dimFfn, c.dim], std: 0.02 },
      { name: `${p}.ffn.fc2.weight`, shape: [c.dim, c.dimFfn], std: 0.02 },
      { name: `${p}.pos_embedding.embedding.weight`, shape: [c.numBuckets, c.numHeads], std: 0.5 },
    );
  }
  out.push({ name: 'norm.weight', shape: [c.dim], ones: true });
  return out;
}
