/**
 * Supplying the encoder's weights to the graph builder from a checkpoint: the original Wan
 * state dict (`models_t5_umt5-xxl-enc-bf16.pth`) or HF `UMT5EncoderModel` safetensors, whose
 * names are mapped to the original ones first.
 */
import type { GraphBuilder, InitializerOptions, Value } from '../../../onnx/builder.js';
import type { WeightSource } from '../../../weights/index.js';
import { diffusersToOriginal } from '../../../weights/keymaps.js';
import { T5ConfigError } from './config.js';
import type { T5WeightKind, T5WeightLoader } from './graph.js';

/** original key → the key under which `source` stores it (HF names mapped by src/weights/keymaps). */
export function t5KeyIndex(source: WeightSource): Map<string, string> {
  const index = new Map<string, string>();
  for (const key of source.keys()) {
    const original = diffusersToOriginal('t5', key); // identity for original names
    if (!index.has(original)) index.set(original, key); // `shared` and `encoder.embed_tokens` are one tied tensor
  }
  return index;
}

/** Transposes a row-major [rows, cols] matrix (PyTorch Linear [out, in] → [in, out]). */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

/** Reads one tensor as float32 in graph layout (Linear weights transposed) with its dims. */
export async function readT5Tensor(source: WeightSource, index: Map<string, string>, key: string, kind: T5WeightKind): Promise<{ dims: number[]; data: Float32Array }> {
  const stored = index.get(key);
  if (!stored) throw new T5ConfigError(`${source.path}: the checkpoint has no tensor ${key} (nor its HF UMT5 name); is it a complete umT5 encoder?`);
  const { shape } = source.info(stored);
  const data = await source.readF32(stored);
  if (kind === 'linear') {
    const [out, inp] = shape;
    return { dims: [inp, out], data: transpose2d(data, out, inp) };
  }
  return { dims: shape, data };
}

/** A loader that keeps every weight inside the graph (small models, tests). */
export function inlineT5Loader(source: WeightSource, options: InitializerOptions = {}): T5WeightLoader {
  const index = t5KeyIndex(source);
  return async (g: GraphBuilder, key: string, kind: T5WeightKind): Promise<Value> => {
    const { dims, data } = await readT5Tensor(source, index, key, kind);
    return g.weight(key, dims, data, options);
  };
}
