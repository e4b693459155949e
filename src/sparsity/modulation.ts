/**
 * Block modulation tables for re-applying gates in JavaScript. Reused rows need the current
 * step's gates m2 (self-attention) and m5 (FFN), with m = block.modulation + e0; the
 * block.modulation [1, 6, D] initializer is read straight out of the converted `post`
 * stage, so nothing beyond the converted folder is needed.
 */
import { readFileSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { f16BitsToF32 } from '../core/half.js';
import { onnx, type ITensorProto } from '../onnx/proto.js';
import { STAGE, stageFile } from '../models/wan/dit/graphs/stages.js';
import type { WanDiT } from '../models/wan/dit/runtime.js';
import { SparseShapeError } from './errors.js';

function tensorFloats(t: ITensorProto, modelDir: string, what: string): Float32Array {
  const count = (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1);
  let bytes: Uint8Array;
  if (t.externalData && t.externalData.length > 0) {
    const meta = new Map(t.externalData.map((e) => [e.key ?? '', e.value ?? '']));
    const file = join(modelDir, meta.get('location') ?? '');
    const offset = Number(meta.get('offset') ?? 0);
    const length = Number(meta.get('length') ?? 0);
    bytes = new Uint8Array(length);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, bytes, 0, length, offset);
    } finally {
      closeSync(fd);
    }
  } else if (t.rawData && t.rawData.length > 0) {
    bytes = t.rawData;
  } else if (t.floatData && t.floatData.length > 0) {
    return Float32Array.from(t.floatData);
  } else throw new SparseShapeError(`${what}: the initializer holds no data; convert the model again`);
  const copy = bytes.slice();
  if (t.dataType === onnx.TensorProto.DataType.FLOAT) {
    if (copy.byteLength !== count * 4) throw new SparseShapeError(`${what}: expected ${count} float32 values`);
    return new Float32Array(copy.buffer, 0, count);
  }
  if (t.dataType === onnx.TensorProto.DataType.FLOAT16) return f16BitsToF32(new Uint16Array(copy.buffer, 0, count));
  throw new SparseShapeError(`${what}: unsupported data type ${t.dataType}`);
}

/** block.modulation [6·D] of every layer, read from the converted `post` stages. */
export function readBlockModulations(dit: WanDiT): Float32Array[] {
  const out: Float32Array[] = [];
  const D = dit.config.dim;
  for (let l = 0; l < dit.config.numLayers; l++) {
    const stage = STAGE.post(l);
    const file = dit.manifest.stages[stage]?.file ?? stageFile(stage);
    const model = onnx.ModelProto.decode(readFileSync(join(dit.modelDir, file)));
    const key = `blocks.${l}.modulation`;
    const init = model.graph?.initializer?.find((t) => t.name === key);
    if (!init) throw new SparseShapeError(`${join(dit.modelDir, file)} has no ${key} initializer; convert the model again with this version`);
    const values = tensorFloats(init, dit.modelDir, `${file} ${key}`);
    if (values.length !== 6 * D) throw new SparseShapeError(`${file} ${key} has ${values.length} values, expected 6×${D}`);
    out.push(values);
  }
  return out;
}

/** The six modulation rows m = modulation + e0 as float32 (as the graph computes them). */
export function modulationRows(modulation: Float32Array, e0: Float32Array): Float32Array {
  const m = new Float32Array(modulation.length);
  for (let i = 0; i < m.length; i++) m[i] = modulation[i] + e0[i];
  return m;
}
