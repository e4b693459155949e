/**
 * Seeded random decoder weights in the original Wan2.1 VAE layout, for benchmarks and tests
 * at sizes no fixture covers. Follows the fixtures' init rules: conv weights
 * randn/sqrt(fan_in), biases 0.1·randn, norm gammas 1 + 0.1·randn.
 */
import type { VaeTensorSource } from './decoder-graph.js';
import { mulberry32 } from '../../../core/random.js';

export interface RandomVaeOptions {
  dim?: number;
  zDim?: number;
  dimMult?: number[];
  numResBlocks?: number;
  /** Encoder's temporal downsample flags; the decoder uses them reversed. */
  temporalDownsample?: boolean[];
  seed?: number;
}

/** A seeded standard-normal sampler (mulberry32 + Box–Muller). */
export function gaussian(seed: number): () => number {
  const next = mulberry32(seed);
  const uniform = (): number => (next() + 0.5) / 4294967296; // in (0, 1): log stays finite
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Shapes of the decoder's (and conv2's) tensors, built as Decoder3d builds its modules. */
export function vaeDecoderShapes(options: RandomVaeOptions = {}): Map<string, number[]> {
  const dim = options.dim ?? 96;
  const zDim = options.zDim ?? 16;
  const mult = options.dimMult ?? [1, 2, 4, 4];
  const numRes = options.numResBlocks ?? 2;
  const upFlags = [...(options.temporalDownsample ?? [false, true, true])].reverse();
  const dims = [mult[mult.length - 1], ...[...mult].reverse()].map((m) => m * dim);
  const shapes = new Map<string, number[]>();
  const conv3 = (p: string, o: number, i: number, k: number[]): void => { shapes.set(`${p}.weight`, [o, i, ...k]); shapes.set(`${p}.bias`, [o]); };
  const residual = (p: string, i: number, o: number): void => {
    shapes.set(`${p}.residual.0.gamma`, [i, 1, 1, 1]);
    conv3(`${p}.residual.2`, o, i, [3, 3, 3]);
    shapes.set(`${p}.residual.3.gamma`, [o, 1, 1, 1]);
    conv3(`${p}.residual.6`, o, o, [3, 3, 3]);
    if (i !== o) conv3(`${p}.shortcut`, o, i, [1, 1, 1]);
  };
  conv3('conv2', zDim, zDim, [1, 1, 1]);
  conv3('decoder.conv1', dims[0], zDim, [3, 3, 3]);
  residual('decoder.middle.0', dims[0], dims[0]);
  shapes.set('decoder.middle.1.norm.gamma', [dims[0], 1, 1]);
  shapes.set('decoder.middle.1.to_qkv.weight', [3 * dims[0], dims[0], 1, 1]);
  shapes.set('decoder.middle.1.to_qkv.bias', [3 * dims[0]]);
  shapes.set('decoder.middle.1.proj.weight', [dims[0], dims[0], 1, 1]);
  shapes.set('decoder.middle.1.proj.bias', [dims[0]]);
  residual('decoder.middle.2', dims[0], dims[0]);
  let index = 0;
  let outDim = dims[0];
  for (let i = 0; i < dims.length - 1; i++) {
    let inDim = i === 1 || i === 2 || i === 3 ? dims[i] / 2 : dims[i];
    outDim = dims[i + 1];
    for (let r = 0; r < numRes + 1; r++) {
      residual(`decoder.upsamples.${index++}`, inDim, outDim);
      inDim = outDim;
    }
    if (i !== mult.length - 1) {
      const p = `decoder.upsamples.${index++}`;
      if (upFlags[i]) conv3(`${p}.time_conv`, 2 * outDim, outDim, [3, 1, 1]);
      shapes.set(`${p}.resample.1.weight`, [outDim / 2, outDim, 3, 3]);
      shapes.set(`${p}.resample.1.bias`, [outDim / 2]);
    }
  }
  shapes.set('decoder.head.0.gamma', [outDim, 1, 1, 1]);
  conv3('decoder.head.2', 3, outDim, [3, 3, 3]);
  return shapes;
}

/** A tensor source with random values for every decoder tensor (deterministic per seed and key order). */
export function randomVaeWeights(options: RandomVaeOptions = {}): VaeTensorSource {
  const shapes = vaeDecoderShapes(options);
  const values = new Map<string, Float32Array>();
  const randn = gaussian(options.seed ?? 1234);
  for (const [key, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (key.endsWith('gamma')) for (let i = 0; i < n; i++) data[i] = 1 + 0.1 * randn();
    else if (key.endsWith('bias')) for (let i = 0; i < n; i++) data[i] = 0.1 * randn();
    else {
      const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
      for (let i = 0; i < n; i++) data[i] = randn() / Math.sqrt(fanIn);
    }
    values.set(key, data);
  }
  return {
    keys: () => [...shapes.keys()],
    has: (key) => shapes.has(key),
    shape: (key) => {
      const s = shapes.get(key);
      if (!s) throw new Error(`random VAE: no tensor ${key}`);
      return s;
    },
    readF32: async (key) => {
      const v = values.get(key);
      if (!v) throw new Error(`random VAE: no tensor ${key}`);
      return v;
    },
  };
}
