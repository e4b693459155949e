/**
 * Weight-only block quantization for onnxruntime's `com.microsoft` MatMulNBits (issue 17):
 * each output column's K inputs are cut into blocks of `blockSize`, each block gets one float32
 * scale (max |w| / (2^(bits-1) − 1)) and stores round(w / scale) + 2^(bits-1) in `bits` bits
 * (the op's default zero point, so no zero-point tensor is needed). 4-bit values are packed two
 * a byte, low nibble first.
 */
import { Value, type GraphBuilder } from './builder.js';
import { onnx } from './proto.js';

export type QuantBits = 4 | 8;

export interface QuantizedMatrix {
  /** [N, K/blockSize, blockSize·bits/8] bytes. */
  packed: Uint8Array;
  /** [N · K/blockSize] float32 scales. */
  scales: Float32Array;
  n: number;
  k: number;
  bits: QuantBits;
  blockSize: number;
}

/** Quantizes a PyTorch Linear weight [N (out), K (in)], row-major. K must be a multiple of blockSize. */
export function quantizeNBits(weight: Float32Array, n: number, k: number, bits: QuantBits, blockSize = 32): QuantizedMatrix {
  if (weight.length !== n * k) throw new Error(`quantizeNBits: ${weight.length} values do not fill [${n}, ${k}]`);
  if (k % blockSize !== 0) throw new Error(`quantizeNBits: K=${k} is not a multiple of the block size ${blockSize}`);
  const blocks = k / blockSize;
  const blob = (blockSize * bits) / 8;
  const packed = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const qmax = 2 ** (bits - 1) - 1;
  const zero = 2 ** (bits - 1);
  const top = 2 ** bits - 1;
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const base = row * k + b * blockSize;
      let amax = 0;
      for (let i = 0; i < blockSize; i++) amax = Math.max(amax, Math.abs(weight[base + i]));
      const scale = amax / qmax || 1;
      scales[row * blocks + b] = scale;
      const out = (row * blocks + b) * blob;
      for (let i = 0; i < blockSize; i++) {
        const q = Math.min(top, Math.max(0, Math.round(weight[base + i] / Math.fround(scale)) + zero));
        if (bits === 8) packed[out + i] = q;
        else packed[out + (i >> 1)] |= i & 1 ? q << 4 : q;
      }
    }
  }
  return { packed, scales, n, k, bits, blockSize };
}

/** Back to float32 [N, K] (what MatMulNBits computes with), for fidelity checks. */
export function dequantizeNBits(q: QuantizedMatrix): Float32Array {
  const { n, k, bits, blockSize } = q;
  const blocks = k / blockSize;
  const blob = (blockSize * bits) / 8;
  const out = new Float32Array(n * k);
  const zero = 2 ** (bits - 1);
  for (let row = 0; row < n; row++)
    for (let b = 0; b < blocks; b++) {
      const scale = q.scales[row * blocks + b];
      const src = (row * blocks + b) * blob;
      for (let i = 0; i < blockSize; i++) {
        const v = bits === 8 ? q.packed[src + i] : i & 1 ? q.packed[src + (i >> 1)] >> 4 : q.packed[src + (i >> 1)] & 15;
        out[row * k + b * blockSize + i] = (v - zero) * scale;
      }
    }
  return out;
}

/**
 * x · Wᵀ (+ bias) with W quantized: `x` [..., K] → [..., N]. `accuracyLevel` 4 lets the CPU
 * kernel quantize activations to int8 and use integer dot products (VNNI where present).
 */
export function matMulNBits(g: GraphBuilder, x: Value, name: string, q: QuantizedMatrix, options: { accuracyLevel?: number; bias?: Value } = {}): Value {
  const blocks = q.k / q.blockSize;
  const packed = `${name}__q${q.bits}`;
  const scales = `${name}__scales`;
  g.initializers.push({ name: packed, dims: [q.n, blocks, (q.blockSize * q.bits) / 8], dataType: onnx.TensorProto.DataType.UINT8, rawData: q.packed });
  g.initializers.push({ name: scales, dims: [q.n * blocks], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(q.scales.buffer, q.scales.byteOffset, q.scales.byteLength) });
  const y = g.op1('MatMulNBits', [x, new Value(packed), new Value(scales)], { K: q.k, N: q.n, bits: q.bits, block_size: q.blockSize, accuracy_level: options.accuracyLevel ?? 4 }, 'com.microsoft');
  return options.bias ? g.add(y, options.bias) : y;
}
