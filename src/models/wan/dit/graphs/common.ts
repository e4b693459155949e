/**
 * Pieces shared by the DiT stage graph builders: weight access by original Wan key name,
 * linear layers from PyTorch's [out, in] layout, non-affine LayerNorm, modulation slices.
 */
import type { GraphBuilder, Value } from '../../../../onnx/builder.js';
import { matMulNBits, quantizeNBits } from '../../../../onnx/quantize.js';

/** Where a stage builder gets its float32 tensors, by original Wan checkpoint key. */
export interface StageWeights {
  get(key: string): Float32Array;
}

export interface StageBuildOptions {
  /** Storage dtype of the large matrices on disk (bfloat16 also in memory); compute is float32 either way. */
  storeAs?: 'float32' | 'float16' | 'bfloat16';
  /**
   * Weight-only quantization of the Linear layers whose input width is a multiple of 32
   * (issue 17): com.microsoft MatMulNBits with int8 (or int4) blocks of 32, int8 compute.
   */
  quantize?: 'int8' | 'int4';
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[base + c];
  }
  return out;
}

/** y = x·Wᵀ + b for a PyTorch Linear stored as `<prefix>.weight` [out, in] and `<prefix>.bias` [out]. */
export function torchLinear(g: GraphBuilder, x: Value, w: StageWeights, prefix: string, inDim: number, outDim: number, options: StageBuildOptions): Value {
  const weight = w.get(`${prefix}.weight`);
  if (weight.length !== inDim * outDim) throw new Error(`${prefix}.weight has ${weight.length} values, expected [${outDim}, ${inDim}]`);
  if (options.quantize && inDim % 32 === 0) {
    const bias = g.weight(`${prefix}.bias`, [outDim], w.get(`${prefix}.bias`));
    return matMulNBits(g, x, prefix, quantizeNBits(weight, outDim, inDim, options.quantize === 'int8' ? 8 : 4), { bias });
  }
  const wT = g.weight(`${prefix}.weight_t`, [inDim, outDim], transpose2d(weight, outDim, inDim), { storeAs: options.storeAs });
  const bias = g.weight(`${prefix}.bias`, [outDim], w.get(`${prefix}.bias`));
  return g.linear(x, wT, bias);
}

/**
 * LayerNorm over the last axis with no learned affine (Wan's norm1/norm2/head.norm).
 * An explicit zero bias is passed: onnxruntime 1.30 segfaults while optimising a
 * bias-less LayerNormalization that feeds a MatMul (graph optimisation level 'extended').
 */
export function plainLayerNorm(g: GraphBuilder, x: Value, dim: number, eps: number): Value {
  return g.layerNorm(x, g.constFloat(new Float32Array(dim).fill(1)), g.constFloat(new Float32Array(dim)), eps);
}

/** Slice i of a [1, count, D] modulation tensor, as [1, 1, D] (broadcasts over tokens). */
export function modulationSlice(g: GraphBuilder, m: Value, i: number): Value {
  return g.slice(m, [i], [i + 1], [1]);
}

/** LN(x)·(1 + scale) + shift. */
export function modulate(g: GraphBuilder, normed: Value, shift: Value, scale: Value): Value {
  return g.add(g.mul(normed, g.add(scale, g.constFloat([1], [1]))), shift);
}
