/**
 * Test-only writers for the formats the readers parse: safetensors, zip (stored, deflate,
 * forced ZIP64) and torch.save-style pickles. Independent of src/weights on purpose.
 */
import { writeFileSync } from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';

export interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

export function safetensorsBytes(tensors: RawTensor[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let p = 8 + headerBytes.length;
  for (const t of tensors) {
    out.set(t.data, p);
    p += t.data.byteLength;
  }
  return out;
}

export function writeSafetensors(path: string, tensors: RawTensor[], metadata?: Record<string, string>): void {
  writeFileSync(path, safetensorsBytes(tensors, metadata));
}

export function bytesOf(a: Float32Array | Uint16Array | BigInt64Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export interface ZipInput {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
}

/** A zip like PyTorch's writer makes; `zip64` forces ZIP64 records even when not needed. */
export function zipBytes(entries: ZipInput[], options: { zip64?: boolean } = {}): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const payload = e.deflate ? deflateRawSync(e.data) : Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    const crc = crc32(e.data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(options.zip64 ? 45 : 20, 4);
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(payload.length, 18);
    local.writeUInt32LE(e.data.byteLength, 22);
    local.writeUInt16LE(name.length, 26);
    parts.push(local, name, payload);
    const extra = options.zip64 ? Buffer.alloc(28) : Buffer.alloc(0);
    if (options.zip64) {
      extra.writeUInt16LE(1, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(e.data.byteLength), 4);
      extra.writeBigUInt64LE(BigInt(payload.length), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(45, 4);
    c.writeUInt16LE(options.zip64 ? 45 : 20, 6);
    c.writeUInt16LE(e.deflate ? 8 : 0, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(options.zip64 ? 0xffffffff : payload.length, 20);
    c.writeUInt32LE(options.zip64 ? 0xffffffff : e.data.byteLength, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt16LE(extra.length, 30);
    c.writeUInt32LE(options.zip64 ? 0xffffffff : offset, 42);
    central.push(c, name, extra);
    offset += 30 + name.length + payload.length;
  }
  const cd = Buffer.concat(central);
  const cdOffset = offset;
  const tail: Buffer[] = [];
  if (options.zip64) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeBigUInt64LE(BigInt(entries.length), 24);
    rec.writeBigUInt64LE(BigInt(entries.length), 32);
    rec.writeBigUInt64LE(BigInt(cd.length), 40);
    rec.writeBigUInt64LE(BigInt(cdOffset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(cdOffset + cd.length), 8);
    loc.writeUInt32LE(1, 16);
    tail.push(rec, loc);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(options.zip64 ? 0xffff : entries.length, 8);
  eocd.writeUInt16LE(options.zip64 ? 0xffff : entries.length, 10);
  eocd.writeUInt32LE(options.zip64 ? 0xffffffff : cd.length, 12);
  eocd.writeUInt32LE(options.zip64 ? 0xffffffff : cdOffset, 16);
  return Buffer.concat([...parts, cd, ...tail, eocd]);
}

/** Emits pickle opcodes; enough to write what torch.save writes, and to write what it must not. */
export class PickleWriter {
  private readonly out: number[] = [];
  private memo = 0;
  op(code: number, ...bytes: number[]): this {
    this.out.push(code, ...bytes);
    return this;
  }
  proto(v = 2): this {
    return this.op(0x80, v);
  }
  global(module: string, name: string): this {
    this.out.push(0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1'));
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    this.out.push(0x58, ...len, ...b);
    return this;
  }
  shortStr(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.out.push(0x8c, b.length, ...b);
    return this;
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    if (n >= 0 && n < 65536) return this.op(0x4d, n & 0xff, n >> 8);
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return this.op(0x4a, ...b);
  }
  long1(n: bigint): this {
    const bytes: number[] = [];
    let v = n;
    do {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
    } while (v !== 0n && v !== -1n);
    if ((bytes[bytes.length - 1]! & 0x80) !== (n < 0n ? 0x80 : 0)) bytes.push(n < 0n ? 0xff : 0);
    return this.op(0x8a, bytes.length, ...bytes);
  }
  put(): this {
    return this.op(0x71, this.memo++ & 0xff);
  }
  mark(): this {
    return this.op(0x28);
  }
  tuple(): this {
    return this.op(0x74);
  }
  ints(values: number[]): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }
  reduce(): this {
    return this.op(0x52);
  }
  stop(): this {
    return this.op(0x2e);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

export interface PickleTensorSpec {
  name: string;
  storageType: string; // e.g. 'FloatStorage'
  key: string;
  numel: number;
  offset: number;
  shape: number[];
  stride: number[];
  parameter?: boolean;
}

/** The pickle torch.save writes for an OrderedDict state dict (protocol 2), including `_metadata` BUILD state. */
export function stateDictPickle(tensors: PickleTensorSpec[]): Uint8Array {
  const w = new PickleWriter().proto(2).global('collections', 'OrderedDict').put().op(0x29).reduce().put().mark();
  for (const t of tensors) {
    w.str(t.name).put();
    if (t.parameter) w.global('torch._utils', '_rebuild_parameter').put().mark();
    w.global('torch._utils', '_rebuild_tensor_v2').put().mark();
    w.mark().str('storage').global('torch', t.storageType).str(t.key).str('cpu').int(t.numel).tuple().put().op(0x51);
    w.int(t.offset).ints(t.shape).ints(t.stride).op(0x89);
    w.global('collections', 'OrderedDict').op(0x29).reduce();
    w.tuple().reduce().put();
    if (t.parameter) w.op(0x89).global('collections', 'OrderedDict').op(0x29).reduce().tuple().reduce();
  }
  w.op(0x75); // SETITEMS
  // BUILD state like torch's: {'_metadata': OrderedDict({'': {'version': 1}})}
  w.op(0x7d).str('_metadata').global('collections', 'OrderedDict').op(0x29).reduce();
  w.str('').op(0x7d).str('version').int(1).op(0x73).op(0x73).op(0x73).op(0x62);
  return w.stop().bytes();
}

export interface PthStorage {
  key: string;
  data: Uint8Array;
}

export function pthBytes(
  prefix: string,
  pickle: Uint8Array,
  storages: PthStorage[],
  options: { zip64?: boolean; deflate?: boolean; byteorder?: string } = {},
): Uint8Array {
  const entries: ZipInput[] = [{ name: `${prefix}/data.pkl`, data: pickle, deflate: options.deflate }];
  if (options.byteorder) entries.push({ name: `${prefix}/byteorder`, data: Buffer.from(options.byteorder) });
  for (const s of storages) entries.push({ name: `${prefix}/data/${s.key}`, data: s.data, deflate: options.deflate });
  entries.push({ name: `${prefix}/version`, data: Buffer.from('3\n') });
  return zipBytes(entries, { zip64: options.zip64 });
}
