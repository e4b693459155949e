import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readExactInto } from '../../src/weights/fileRead.js';
import { openSafetensors, openWeights, WeightFormatError } from '../../src/weights/index.js';
import { bytesOf, safetensorsBytes, writeSafetensors, type RawTensor } from './writers.js';

const dir = mkdtempSync(join(tmpdir(), 'weights-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function f32(name: string, shape: number[], seed: number): RawTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n).map((_, i) => Math.sin(seed * 1000 + i) * 3);
  return { name, dtype: 'F32', shape, data: bytesOf(v) };
}

/** Every finite binary16 value, both infinities, NaN and the ±0 pair, with its exact float32 value. */
function halfCases(): { bits: Uint16Array; expected: Float32Array } {
  const bits = new Uint16Array(65536).map((_, i) => i);
  const expected = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 31;
    const m = h & 1023;
    expected[h] = e === 0 ? sign * m * 2 ** -24 : e === 31 ? (m ? NaN : sign * Infinity) : sign * 2 ** (e - 15) * (1 + m / 1024);
  }
  return { bits, expected };
}

describe('safetensors reader', () => {
  it('widens every F16 bit pattern exactly and BF16 by u16 << 16; reads I64', async () => {
    const { bits, expected } = halfCases();
    const bf = new Uint16Array([0x3f80, 0xc000, 0x7f80, 0xff80, 0x0001, 0x8000, 0x7fc1, 0x4049]);
    const longs = new BigInt64Array([0n, -1n, 9007199254740993n, -(2n ** 63n)]);
    const path = join(dir, 'mixed.safetensors');
    writeSafetensors(
      path,
      [
        { name: 'half', dtype: 'F16', shape: [256, 256], data: bytesOf(bits) },
        { name: 'brain', dtype: 'BF16', shape: [2, 4], data: bytesOf(bf) },
        { name: 'ids', dtype: 'I64', shape: [4], data: bytesOf(longs) },
        { name: 'empty', dtype: 'F32', shape: [0, 3], data: new Uint8Array(0) },
        { name: 'scalar', dtype: 'F32', shape: [], data: bytesOf(new Float32Array([2.5])) },
      ],
      { format: 'pt' },
    );
    const w = await openWeights(path);
    try {
      expect(w.info('half')).toEqual({ name: 'half', dtype: 'F16', shape: [256, 256] });
      const half = await w.readF32('half');
      for (let h = 0; h < 65536; h++) {
        if (Number.isNaN(expected[h])) expect(Number.isNaN(half[h]), `0x${h.toString(16)}`).toBe(true);
        else if (half[h] !== expected[h] || Object.is(half[h], -0) !== Object.is(expected[h], -0)) {
          expect.fail(`f16 0x${h.toString(16)} widened to ${half[h]}, expected ${expected[h]}`);
        }
      }
      const brain = new Uint32Array((await w.readF32('brain')).buffer);
      expect([...brain]).toEqual([...bf].map((b) => (b << 16) >>> 0));
      expect([...(await w.readI64('ids'))]).toEqual([...longs]);
      await expect(w.readF32('ids')).rejects.toMatchObject({ name: 'WeightDtypeError' });
      await expect(w.readF32('ids')).rejects.toThrow(/readI64/);
      expect((await w.readF32('empty')).length).toBe(0);
      expect([...(await w.readF32('scalar'))]).toEqual([2.5]);
    } finally {
      await w.close();
    }
  });

  it('opens a sharded folder through its index, the index file itself, and a folder of shards without index', async () => {
    const shardDir = join(dir, 'sharded');
    const bare = join(dir, 'bare');
    for (const d of [shardDir, bare]) rmSync(d, { recursive: true, force: true });
    const a = [f32('a.weight', [3, 4], 1), f32('a.bias', [3], 2)];
    const b = [f32('b.weight', [2, 2, 2], 3)];
    const { mkdirSync } = await import('node:fs');
    mkdirSync(shardDir);
    mkdirSync(bare);
    const files = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    writeSafetensors(join(shardDir, files[0]!), a);
    writeSafetensors(join(shardDir, files[1]!), b);
    writeSafetensors(join(bare, files[0]!), a);
    writeSafetensors(join(bare, files[1]!), b);
    const weightMap = { 'a.weight': files[0], 'a.bias': files[0], 'b.weight': files[1] };
    const indexPath = join(shardDir, 'model.safetensors.index.json');
    writeFileSync(indexPath, JSON.stringify({ metadata: { total_size: 92 }, weight_map: weightMap }));
    for (const path of [shardDir, indexPath, bare]) {
      const w = await openWeights(path);
      try {
        expect(w.keys().sort()).toEqual(['a.bias', 'a.weight', 'b.weight']);
        for (const t of [...a, ...b]) {
          expect(w.info(t.name).shape).toEqual(t.shape);
          expect(bytesOf(await w.readF32(t.name))).toEqual(t.data);
        }
      } finally {
        await w.close();
      }
    }
    // An index that names a tensor its shard lacks, or a path outside the folder, is refused.
    writeFileSync(indexPath, JSON.stringify({ weight_map: { ...weightMap, 'c.weight': files[1] } }));
    await expect(openWeights(shardDir)).rejects.toThrow(/"c.weight".*no such tensor/);
    writeFileSync(indexPath, JSON.stringify({ weight_map: { 'a.weight': '../a.safetensors' } }));
    await expect(openWeights(shardDir)).rejects.toBeInstanceOf(WeightFormatError);
    writeFileSync(indexPath, '{"weight_map": ');
    await expect(openWeights(indexPath)).rejects.toBeInstanceOf(WeightFormatError);
    // Two shards holding the same key without an index.
    writeSafetensors(join(bare, files[1]!), [a[0]!]);
    await expect(openWeights(bare)).rejects.toThrow(/appears in both/);
  });

  describe('header validation', () => {
    const good = safetensorsBytes([f32('x', [2, 3], 1), f32('y', [4], 2)]);
    const headerLen = Number(Buffer.from(good).readBigUInt64LE(0));
    const data = good.subarray(8 + headerLen);

    function withHeader(header: unknown, payload: Uint8Array = data): Uint8Array {
      const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
      const out = Buffer.alloc(8 + json.length + payload.length);
      out.writeBigUInt64LE(BigInt(json.length));
      json.copy(out, 8);
      out.set(payload, 8 + json.length);
      return out;
    }
    const entry = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });

    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['an empty file', new Uint8Array(0), /too short/],
      ['a truncated length prefix', good.subarray(0, 5), /too short/],
      ['a header length past EOF', (() => { const b = Buffer.from(good); b.writeBigUInt64LE(BigInt(b.length)); return b; })(), /past the end/],
      ['a huge header length', (() => { const b = Buffer.from(good); b.writeBigUInt64LE(2n ** 63n); return b; })(), /past the end/],
      ['a truncated data section', good.subarray(0, good.length - 4), /ends at byte 40.*truncated/],
      ['non-JSON', withHeader('{"x": '), /not valid JSON/],
      ['invalid UTF-8', withHeader(Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1')), /JSON|UTF-8/],
      ['a JSON array', withHeader([1, 2]), /not a JSON object/],
      ['an unknown dtype', withHeader({ x: entry('Q7', [6], [0, 24]) }), /"Q7", which is unknown/],
      ['an unsupported dtype', withHeader({ x: entry('F64', [3], [0, 24]) }), /"F64", which is not supported/],
      ['a negative dimension', withHeader({ x: entry('F32', [-2, -3], [0, 24]) }), /invalid dimension -2/],
      ['a fractional dimension', withHeader({ x: entry('F32', [1.5, 4], [0, 24]) }), /invalid dimension 1.5/],
      ['a string dimension', withHeader({ x: entry('F32', ['6'], [0, 24]) }), /invalid dimension "6"/],
      ['an overflowing shape', withHeader({ x: entry('F32', [2 ** 30, 2 ** 30, 2 ** 30], [0, 24]) }), /overflows/],
      ['a shape/bytes mismatch', withHeader({ x: entry('F32', [5], [0, 24]) }), /20 bytes.*span 24/],
      ['offsets past the data', withHeader({ x: entry('F32', [6], [24, 48]) }), /ends at byte 48/],
      ['reversed offsets', withHeader({ x: entry('F32', [0], [24, 0]) }), /invalid data_offsets/],
      ['negative offsets', withHeader({ x: entry('F32', [6], [-24, 0]) }), /invalid data_offsets/],
      ['missing offsets', withHeader({ x: { dtype: 'F32', shape: [6] } }), /data_offsets/],
      ['overlapping tensors', withHeader({ x: entry('F32', [6], [0, 24]), y: entry('F32', [4], [8, 24]) }), /overlap/],
      ['a non-object __metadata__', withHeader({ __metadata__: 3, x: entry('F32', [6], [0, 24]) }), /__metadata__/],
    ];
    for (const [label, bytes, message] of cases) {
      it(`refuses ${label} with WeightFormatError naming the file`, async () => {
        const path = join(dir, 'bad.safetensors');
        writeFileSync(path, bytes);
        const err = await openSafetensors(path).then(
          (w) => w.close().then(() => new Error('opened')),
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(WeightFormatError);
        expect((err as Error).message).toMatch(message);
        expect((err as Error).message).toContain(path);
      });
    }

    it('accepts __metadata__ and zero-size tensors at any offset', async () => {
      const path = join(dir, 'ok.safetensors');
      writeFileSync(path, withHeader({ __metadata__: { format: 'pt' }, e: entry('BF16', [0], [24, 24]), x: entry('F32', [6], [0, 24]) }));
      const w = await openSafetensors(path);
      expect(w.keys().sort()).toEqual(['e', 'x']);
      await w.close();
    });
  });

  it('reads in chunks when a read must be split (the >2 GiB path), and reports short files', async () => {
    const path = join(dir, 'chunks.bin');
    const bytes = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
    writeFileSync(path, bytes);
    const handle = await open(path, 'r');
    try {
      const target = new Uint8Array(990);
      await readExactInto(handle, target, 10, path, 7);
      expect(target).toEqual(bytes.subarray(10));
      await expect(readExactInto(handle, new Uint8Array(20), 990, path, 7)).rejects.toThrow(/truncated/);
    } finally {
      await handle.close();
    }
  });
});

describe('paths and checksums', () => {
  it('missing paths, folders without weights and a folder given as a file are typed errors', async () => {
    const missing = join(dir, 'nope.safetensors');
    await expect(openWeights(missing)).rejects.toThrow(/nope.safetensors: no such file/);
    await expect(openWeights(missing)).rejects.toBeInstanceOf(WeightFormatError);
    await expect(openWeights(join(dir, 'nope.safetensors.index.json'))).rejects.toBeInstanceOf(WeightFormatError);
    const { mkdirSync } = await import('node:fs');
    const empty = join(dir, 'empty-folder');
    mkdirSync(empty, { recursive: true });
    await expect(openWeights(empty)).rejects.toThrow(/holds no .safetensors/);
    await expect(openSafetensors(empty)).rejects.toThrow(/is a folder/);
  });

  it('the portable CRC-32 matches zlib', async () => {
    const { crc32Portable } = await import('../../src/weights/crc32.js');
    const { crc32 } = await import('node:zlib');
    const data = new Uint8Array(4099).map((_, i) => (i * 2654435761) >>> 24);
    expect(crc32Portable(data)).toBe(crc32(data) >>> 0);
    expect(crc32Portable(new Uint8Array(0))).toBe(0);
  });
});
