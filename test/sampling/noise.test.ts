import { describe, expect, it } from 'vitest';
import { MT19937 } from '../../src/sampling/mt19937.js';
import { fmaF32, NoiseSeedError, torchRandn } from '../../src/sampling/noise.js';
import { loadF32, maxAbsDiff } from './fixtures.js';

describe('MT19937', () => {
  it('matches the reference output of std::mt19937 (10000th draw for the default seed)', () => {
    const mt = new MT19937(5489);
    let v = 0;
    for (let i = 0; i < 10000; i++) v = mt.nextUint32();
    expect(v).toBe(4123659995);
  });

  it('keeps only the low 32 bits of a seed, as torch does', () => {
    const a = new MT19937(42);
    const b = new MT19937(2n ** 32n + 42n);
    for (let i = 0; i < 5; i++) expect(a.nextUint32()).toBe(b.nextUint32());
  });
});

describe('torchRandn', () => {
  it('reproduces torch.randn(16,3,8,12) with a CPU generator seeded 42, bit for bit', () => {
    const expected = loadF32('sampler_unipc/noise.npy');
    const noise = torchRandn(expected.shape, 42);
    expect(maxAbsDiff(noise, expected.data)).toBe(0);
    // Both sampler fixtures drew the same noise.
    expect(maxAbsDiff(noise, loadF32('sampler_dpmpp/noise.npy').data)).toBe(0);
  });

  it('the libm flavour stays within a few float32 ulps of the AVX2 kernel', () => {
    const expected = loadF32('sampler_unipc/noise.npy');
    expect(maxAbsDiff(torchRandn(expected.shape, 42, { flavor: 'scalar' }), expected.data)).toBeLessThan(3e-6);
  });

  it('recomputes the last 16 values when the size is not a multiple of 16', () => {
    const a = torchRandn([37], 7);
    const b = torchRandn([32], 7);
    // The first two full blocks come from the same uniforms...
    expect(Array.from(a.subarray(0, 16))).toEqual(Array.from(b.subarray(0, 16)));
    // ...but positions 21..31 were overwritten by the refilled tail block.
    expect(a[31]).not.toBe(b[31]);
  });

  it('same seed gives the same noise, a different seed different noise', () => {
    const a = torchRandn([2, 3, 4, 5], 1234);
    expect(Array.from(torchRandn([2, 3, 4, 5], 1234))).toEqual(Array.from(a));
    const c = torchRandn([2, 3, 4, 5], 1235);
    let same = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === c[i]) same++;
    expect(same).toBe(0);
  });

  it('is roughly standard normal', () => {
    const x = torchRandn([64, 1024], 0);
    let mean = 0;
    let sq = 0;
    for (const v of x) {
      mean += v;
      sq += v * v;
    }
    mean /= x.length;
    const variance = sq / x.length - mean * mean;
    // 5 standard errors for 65536 samples.
    expect(Math.abs(mean)).toBeLessThan(5 / 256);
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / x.length));
  });

  it('small tensors use the cached double Box–Muller path', () => {
    // Elements come in (r cos θ, r sin θ) pairs from one pair of 53-bit uniforms.
    const mt = new MT19937(9);
    const u = () => ((mt.nextUint32() & 0x1fffff) * 2 ** 32 + mt.nextUint32()) * 2 ** -53;
    const u1 = u();
    const u2 = u();
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    const x = torchRandn([3], 9);
    expect(x[0]).toBe(Math.fround(r * Math.cos(2 * Math.PI * u1)));
    expect(x[1]).toBe(Math.fround(r * Math.sin(2 * Math.PI * u1)));
    expect(Number.isFinite(x[2])).toBe(true);
  });

  it('rejects negative or fractional seeds with a typed error', () => {
    expect(() => torchRandn([4], -1)).toThrow(NoiseSeedError);
    expect(() => torchRandn([4], 1.5)).toThrow(NoiseSeedError);
  });
});

describe('fmaF32', () => {
  it('rounds a·b + c once', () => {
    // 1 + 2^-24 is a tie in float32; the tiny product decides it, which two roundings would lose.
    expect(fmaF32(2 ** -30, 2 ** -30, 1 + 2 ** -24)).toBe(1 + 2 ** -23);
    expect(fmaF32(3, 5, 1)).toBe(16);
  });
});
