import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { encodeNpy, parseNpy, readNpy, readNpyF32, writeNpy } from '../../src/io/npy.js';

const FIXTURES = new URL('../../../shared/fixtures/wan21-tiny/', import.meta.url).pathname;

describe('npy', () => {
  it('reads fixture arrays with exactly their element count', () => {
    const t = readNpy(join(FIXTURES, 'sampler_unipc/timesteps.npy'));
    expect(t.dtype).toBe('int64');
    expect(Array.from(t.data as BigInt64Array, Number)).toEqual([999, 972, 937, 892, 833, 749, 624, 416]);
    const l = readNpy(join(FIXTURES, 'sampler_unipc/latents.npy'));
    expect(l.shape).toEqual([8, 16, 3, 8, 12]);
    expect(l.data.length).toBe(8 * 16 * 3 * 8 * 12);
  });

  it('round-trips through encode and a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    try {
      const data = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
      writeNpy(join(dir, 'a.npy'), { dtype: 'float32', shape: [2, 3, 4], data });
      const back = readNpy(join(dir, 'a.npy'));
      expect(back.shape).toEqual([2, 3, 4]);
      expect(Array.from(back.data as Float32Array)).toEqual(Array.from(data));
      const one = parseNpy(encodeNpy({ dtype: 'int64', shape: [3], data: BigInt64Array.from([1n, 2n, 3n]) }));
      expect(one.shape).toEqual([3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('readNpyF32 widens float16 exactly to float32; parseNpy and readNpy still refuse it', () => {
    // numpy: np.array([0, 1, -2.5, 65504, 2**-24, -inf], '<f2') -> these bits
    const bits = Uint16Array.from([0x0000, 0x3c00, 0xc100, 0x7bff, 0x0001, 0xfc00]);
    const f32 = encodeNpy({ dtype: 'float32', shape: [6], data: new Float32Array(6) });
    const text = new TextDecoder().decode(f32.subarray(10, 10 + new DataView(f32.buffer).getUint16(8, true)));
    const header = new TextEncoder().encode(text.replace("'<f4'", "'<f2'"));
    const bytes = new Uint8Array(10 + header.length + bits.byteLength);
    bytes.set(f32.subarray(0, 10));
    bytes.set(header, 10);
    bytes.set(new Uint8Array(bits.buffer), 10 + header.length);
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    try {
      writeFileSync(join(dir, 'h.npy'), bytes);
      const a = readNpyF32(join(dir, 'h.npy'));
      expect(a.shape).toEqual([6]);
      expect(Array.from(a.data)).toEqual([0, 1, -2.5, 65504, 2 ** -24, -Infinity]);
      expect(() => parseNpy(bytes)).toThrow(/unsupported dtype "<f2"/);
      expect(() => readNpy(join(dir, 'h.npy'))).toThrow(/unsupported dtype "<f2"/);
      writeFileSync(join(dir, 'cut.npy'), bytes.subarray(0, bytes.length - 1));
      expect(() => readNpyF32(join(dir, 'cut.npy'))).toThrow(/truncated data/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a file that is not npy', () => {
    expect(() => parseNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).toThrow(/not a \.npy file/);
  });
});
