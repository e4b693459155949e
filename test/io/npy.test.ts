import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy, readNpy, writeNpy } from '../../src/io/npy.js';

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

  it('rejects a file that is not npy', () => {
    expect(() => parseNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).toThrow(/not a \.npy file/);
  });
});
