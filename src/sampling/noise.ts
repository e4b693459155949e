/**
 * Seeded Gaussian noise that reproduces `torch.randn(shape, generator=torch.Generator('cpu')
 * .manual_seed(seed))` for float32, so a seed gives the same initial latent here as in the
 * official Wan2.1 code run on CPU. (The release draws its noise on CUDA, a Philox stream that
 * cannot be reproduced outside PyTorch: pass that tensor in as a .npy for exact parity.)
 *
 * The algorithm, from ATen's CPU kernels (DistributionTemplates.h, DistributionsHelper.h,
 * CPUGeneratorImpl.cpp, torch 1.13):
 * - engine: MT19937 seeded with the low 32 bits of the seed; one 32-bit draw per float uniform;
 * - uniform: (draw & 0xFFFFFF) · 2^-24, i.e. the low 24 bits, in [0, 1);
 * - 16 or more elements: fill the whole tensor with uniforms, then Box–Muller in blocks of 16
 *   (u1 = 1 − d[j], u2 = d[j+8], r = sqrt(−2 ln u1), θ = 2π·u2, d[j] = r cos θ, d[j+8] = r sin θ,
 *   j < 8); if the size is not a multiple of 16 the last 16 slots get fresh uniforms and are
 *   transformed again;
 * - fewer than 16 elements: per element, double-precision Box–Muller from two 53-bit uniforms
 *   (each from two draws), returning r cos θ and caching r sin θ for the next element.
 *
 * Which block kernel runs depends on the CPU torch dispatches to. The AVX2 kernel computes ln and
 * sincos with the float32 Cephes polynomials of avx_mathfun.h; `'avx2'` replays it bit for bit,
 * including the FMAs GCC fuses into it (the Wan fixtures match exactly). The default and AVX-512
 * kernels use libm instead (`'scalar'`), which differs by a few float32 ulps (≤ 1.5e-6 measured).
 */
import { MT19937 } from './mt19937.js';

export type BoxMullerFlavor = 'avx2' | 'scalar';

export interface TorchRandnOptions {
  /** Which of torch's block kernels to replay; `'avx2'` (default) matched the Wan fixtures. */
  flavor?: BoxMullerFlavor;
}

export class NoiseSeedError extends Error {
  override name = 'NoiseSeedError';
}

const f = Math.fround;
const TWO_POW_M24 = 2 ** -24;
const TWO_POW_M53 = 2 ** -53;

/** Float32 normal samples for `shape`, bit-compatible with torch's CPU generator. */
export function torchRandn(shape: readonly number[], seed: number | bigint, options: TorchRandnOptions = {}): Float32Array {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new NoiseSeedError(`noise shape must hold non-negative integers, got [${shape.join(', ')}]`);
  }
  const engine = new MT19937(checkSeed(seed));
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  if (size >= 16) blockFill(out, engine, options.flavor ?? 'avx2');
  else scalarFill(out, engine);
  return out;
}

function checkSeed(seed: number | bigint): number | bigint {
  if (typeof seed === 'bigint') {
    if (seed < 0n) throw new NoiseSeedError(`seed must be non-negative, got ${seed}`);
    return seed;
  }
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new NoiseSeedError(`seed must be a non-negative integer below 2^53 (use a bigint for larger ones), got ${seed}`);
  }
  return seed;
}

function uniformF32(engine: MT19937): number {
  return (engine.nextUint32() & 0xffffff) * TWO_POW_M24;
}

function blockFill(data: Float32Array, engine: MT19937, flavor: BoxMullerFlavor): void {
  const size = data.length;
  const transform = flavor === 'avx2' ? boxMuller16Avx2 : boxMuller16Scalar;
  for (let i = 0; i < size; i++) data[i] = uniformF32(engine);
  for (let i = 0; i + 16 <= size; i += 16) transform(data, i);
  if (size % 16 !== 0) {
    const start = size - 16;
    for (let i = 0; i < 16; i++) data[start + i] = uniformF32(engine);
    transform(data, start);
  }
}

function boxMuller16Scalar(data: Float32Array, at: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f(1 - data[at + j]);
    const u2 = data[at + j + 8];
    const radius = f(Math.sqrt(f(-2 * f(Math.log(u1)))));
    const theta = f(2 * Math.PI * u2);
    data[at + j] = f(radius * f(Math.cos(theta)));
    data[at + j + 8] = f(radius * f(Math.sin(theta)));
  }
}

const TWO_PI_F32 = f(2 * Math.PI);

function boxMuller16Avx2(data: Float32Array, at: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f(1 - data[at + j]);
    const u2 = data[at + j + 8];
    const radius = f(Math.sqrt(f(-2 * cephesLogF32(u1))));
    const theta = f(TWO_PI_F32 * u2);
    cephesSinCosF32(theta);
    data[at + j] = f(radius * sinCos[1]);
    data[at + j + 8] = f(radius * sinCos[0]);
  }
}

function scalarFill(data: Float32Array, engine: MT19937): void {
  let cached: number | null = null;
  for (let i = 0; i < data.length; i++) {
    if (cached !== null) {
      data[i] = cached;
      cached = null;
      continue;
    }
    const u1 = uniformF64(engine);
    const u2 = uniformF64(engine);
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = 2 * Math.PI * u1;
    cached = r * Math.sin(theta);
    data[i] = r * Math.cos(theta);
  }
}

/** 53 low bits of (first draw << 32 | second draw), times 2^-53. */
function uniformF64(engine: MT19937): number {
  const hi = engine.nextUint32() & 0x1fffff;
  const lo = engine.nextUint32();
  return (hi * 2 ** 32 + lo) * TWO_POW_M53;
}

// ---- float32 Cephes ln / sincos of avx_mathfun.h, with the FMA contractions GCC applies ----

const bits = new DataView(new ArrayBuffer(4));
function floatBits(x: number): number {
  bits.setFloat32(0, x, true);
  return bits.getInt32(0, true);
}
function bitsFloat(i: number): number {
  bits.setInt32(0, i, true);
  return bits.getFloat32(0, true);
}

/** Float32 fused multiply-add, correctly rounded (a·b is exact in float64; ties resolved exactly). */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = f(s);
  if (r === s || !Number.isFinite(s)) return r;
  const bb = s - p;
  const err = p - (s - bb) + (c - bb);
  if (err === 0) return r;
  const lo = r < s ? r : nextFloat32(r, -1);
  const hi = r < s ? nextFloat32(r, 1) : r;
  if (s !== (lo + hi) / 2) return r;
  return err > 0 ? hi : lo;
}

function nextFloat32(x: number, dir: 1 | -1): number {
  if (x === 0) return dir * 2 ** -149;
  const i = floatBits(x);
  return bitsFloat(x > 0 === dir > 0 ? i + 1 : i - 1);
}

const SQRTHF = f(0.707106781186547524);
const LOG_P = [7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1].map(f);
const LOG_Q1 = f(-2.12194440e-4);
const LOG_Q2 = f(0.693359375);

function cephesLogF32(input: number): number {
  if (input <= 0 || Number.isNaN(input)) return NaN;
  const xin = Math.max(input, 2 ** -126);
  const ix = floatBits(xin);
  let e = f(((ix >>> 23) - 0x7f) + 1);
  let x = bitsFloat((ix & ~0x7f800000) | floatBits(0.5));
  const below = x < SQRTHF;
  const tmp = below ? x : 0;
  x = f(x - 1);
  if (below) e = f(e - 1);
  x = f(x + tmp);
  const z = f(x * x);
  let y = LOG_P[0];
  for (let k = 1; k < LOG_P.length; k++) y = fmaF32(y, x, LOG_P[k]);
  y = f(y * x);
  y = f(y * z);
  y = fmaF32(e, LOG_Q1, y);
  y = fmaF32(-z, 0.5, y);
  x = f(x + y);
  return fmaF32(e, LOG_Q2, x);
}

const FOPI = f(1.27323954473516);
const DP1 = f(-0.78515625);
const DP2 = f(-2.4187564849853515625e-4);
const DP3 = f(-3.77489497744594108e-8);
const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f);
const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f);
/** [sin, cos] of the last cephesSinCosF32 call (avoids an allocation per element). */
const sinCos = new Float64Array(2);

function cephesSinCosF32(input: number): void {
  const negative = input < 0 || Object.is(input, -0);
  let x = Math.abs(input);
  let j = Math.trunc(f(x * FOPI));
  j = (j + 1) & ~1;
  const y = j;
  const signSin = (j & 4) !== 0 !== negative;
  const usePolySinForSin = (j & 2) === 0;
  const signCos = ((~(j - 2)) & 4) !== 0;
  x = fmaF32(y, DP1, x);
  x = fmaF32(y, DP2, x);
  x = fmaF32(y, DP3, x);
  const z = f(x * x);
  let c = COS_P[0];
  c = fmaF32(c, z, COS_P[1]);
  c = fmaF32(c, z, COS_P[2]);
  c = f(c * z);
  // GCC fuses the second c·z into the subtraction of z/2 (checked bit for bit on the fixtures).
  c = fmaF32(c, z, -f(z * 0.5));
  c = f(c + 1);
  let s = SIN_P[0];
  s = fmaF32(s, z, SIN_P[1]);
  s = fmaF32(s, z, SIN_P[2]);
  s = f(s * z);
  s = fmaF32(s, x, x);
  const sinVal = usePolySinForSin ? s : c;
  const cosVal = usePolySinForSin ? c : s;
  sinCos[0] = signSin ? -sinVal : sinVal;
  sinCos[1] = signCos ? -cosVal : cosVal;
}
