/**
 * Writing a model with its weights in an external data file. Above 2 GB this is the only
 * form onnxruntime accepts, and below it loading by path is still cheaper (weights can be
 * mmapped). Weights are written tensor by tensor in bounded chunks because Node's fs calls
 * refuse more than 2 GiB at once.
 */
import { closeSync, openSync, renameSync, writeSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { onnx, type ModelProto } from './proto.js';

const ALIGN = 4096;
const INLINE_LIMIT = 1024; // small constants (shapes, axes) stay inside the protobuf
const CHUNK = 64 * 1024 * 1024;

/**
 * Saves `model` to `modelPath` with large initializers moved to `<modelPath stem>.weights`
 * (or `dataFileName`). Both files are written under temporary names and renamed at the end.
 * Returns the data file's name (relative to the model file) and its size.
 */
export function saveModelWithExternalData(model: ModelProto, modelPath: string, dataFileName?: string): { dataFile: string; bytes: number } {
  const dataFile = dataFileName ?? `${basename(modelPath).replace(/\.onnx$/, '')}.weights`;
  const dataPath = join(dirname(modelPath), dataFile);
  const tmpData = `${dataPath}.tmp`;
  const fd = openSync(tmpData, 'w');
  let offset = 0;
  try {
    for (const t of model.graph?.initializer ?? []) {
      const raw = t.rawData as Uint8Array | null | undefined;
      if (!raw || raw.byteLength < INLINE_LIMIT) continue;
      if (offset % ALIGN) {
        const pad = ALIGN - (offset % ALIGN);
        writeSync(fd, new Uint8Array(pad));
        offset += pad;
      }
      for (let pos = 0; pos < raw.byteLength; pos += CHUNK) writeSync(fd, raw.subarray(pos, Math.min(pos + CHUNK, raw.byteLength)));
      t.externalData = [
        { key: 'location', value: dataFile },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.byteLength) },
      ];
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.rawData = new Uint8Array(0);
      offset += raw.byteLength;
    }
  } finally {
    closeSync(fd);
  }
  const tmpModel = `${modelPath}.tmp`;
  writeFileSync(tmpModel, onnx.ModelProto.encode(model).finish());
  renameSync(tmpData, dataPath);
  renameSync(tmpModel, modelPath);
  return { dataFile, bytes: offset };
}
