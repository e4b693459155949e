import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openWeights } from '../../src/weights/index.js';
import { FIXTURES, MANIFEST_DTYPE, manifestWeights, type ModelName } from './fixtureHelpers.js';

const MODELS: ModelName[] = ['dit', 'vae', 't5'];

const bytesOfF32 = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('fixture weight files', () => {
  for (const model of MODELS) {
    it(`${model}: keys, shapes, dtypes and counts match the manifest`, async () => {
      const m = manifestWeights(model);
      const w = await openWeights(FIXTURES + m.file);
      try {
        expect(w.keys().sort()).toEqual(Object.keys(m.keys).sort());
        expect(w.keys()).toHaveLength(m.num_tensors);
        let params = 0;
        for (const [key, shape] of Object.entries(m.keys)) {
          const info = w.info(key);
          expect(info.shape).toEqual(shape);
          expect(info.dtype).toBe(MANIFEST_DTYPE[m.dtype]);
          const values = await w.readF32(key);
          expect(values.length).toBe(shape.reduce((a, b) => a * b, 1));
          expect(values.every(Number.isFinite)).toBe(true);
          params += values.length;
        }
        expect(params).toBe(m.num_params);
      } finally {
        await w.close();
      }
    });
  }

  it('matches the README counts', () => {
    expect([manifestWeights('dit').num_tensors, manifestWeights('dit').num_params]).toEqual([96, 198_848]);
    expect([manifestWeights('vae').num_tensors, manifestWeights('vae').num_params]).toEqual([194, 924_491]);
    expect([manifestWeights('t5').num_tensors, manifestWeights('t5').num_params]).toEqual([22, 30_496]);
  });

  it('dit: F32 values equal the bytes at the offsets of an independently parsed header', async () => {
    const file = FIXTURES + manifestWeights('dit').file;
    const bytes = readFileSync(file);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
    const w = await openWeights(file);
    try {
      for (const key of w.keys()) {
        const [b, e] = header[key]!.data_offsets;
        const expected = bytes.subarray(8 + headerLen + b, 8 + headerLen + e);
        const got = await w.readF32(key);
        expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(expected)).toBe(true);
      }
    } finally {
      await w.close();
    }
  });

  it('t5: bf16 weights widen bit-exactly (f32 bits == raw u16 << 16, raw located by a byte scan of the archive)', async () => {
    const file = FIXTURES + manifestWeights('t5').file;
    const archive = readFileSync(file);
    const w = await openWeights(file);
    try {
      const key = 'token_embedding.weight';
      const raw = await w.readRaw(key);
      const f32 = await w.readF32(key);
      expect(raw.byteLength).toBe(f32.length * 2);
      const u16 = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
      const bits = new Uint32Array(f32.buffer, f32.byteOffset, f32.length);
      expect(bits.every((b, i) => b === (u16[i]! << 16) >>> 0)).toBe(true);
      // Independent of the zip reader: storage "0" follows its local header named umt5_tiny_enc_bf16/data/0.
      const name = Buffer.from('umt5_tiny_enc_bf16/data/0');
      const nameAt = archive.indexOf(name);
      const headerAt = nameAt - 30;
      expect(archive.readUInt32LE(headerAt)).toBe(0x04034b50);
      const dataAt = nameAt + name.length + archive.readUInt16LE(headerAt + 28);
      expect(Buffer.from(raw).equals(archive.subarray(dataAt, dataAt + raw.byteLength))).toBe(true);
      for (const k of w.keys()) {
        const r = await w.readRaw(k);
        const f = await w.readF32(k);
        const rr = new Uint16Array(r.buffer, r.byteOffset, r.byteLength / 2);
        const fb = new Uint32Array(f.buffer, f.byteOffset, f.length);
        expect(fb.every((b, i) => b === (rr[i]! << 16) >>> 0)).toBe(true);
        // Values that came from bf16 have zero low halves.
        expect(fb.every((b) => (b & 0xffff) === 0)).toBe(true);
      }
    } finally {
      await w.close();
    }
  });

  it('concurrent reads of every tensor equal sequential reads', async () => {
    for (const model of MODELS) {
      const w = await openWeights(FIXTURES + manifestWeights(model).file);
      try {
        const parallel = await Promise.all(w.keys().map((k) => w.readF32(k)));
        for (const [i, k] of w.keys().entries()) {
          const again = await w.readF32(k);
          expect(Buffer.from(again.buffer, again.byteOffset, again.byteLength).equals(bytesOfF32(parallel[i]!))).toBe(true);
        }
      } finally {
        await w.close();
      }
    }
  });

  it('readI64 on a float tensor and readF32 of a missing key throw typed errors', async () => {
    const w = await openWeights(FIXTURES + manifestWeights('vae').file);
    try {
      await expect(w.readI64('encoder.conv1.weight')).rejects.toMatchObject({ name: 'WeightDtypeError' });
      await expect(w.readF32('nope')).rejects.toMatchObject({ name: 'WeightKeyError' });
      expect(() => w.info('nope')).toThrow(/no tensor named "nope"/);
    } finally {
      await w.close();
    }
  });
});
