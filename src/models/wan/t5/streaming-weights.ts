/**
 * Writes initializers straight into an external-data file while a graph is being built, so
 * a converter holds one tensor at a time instead of the whole model (the umT5-XXL encoder
 * is 22 GB in float32). The ONNX file written at the end carries only references
 * (location/offset/length), in the same layout `saveModelWithExternalData` produces:
 * 4 KiB-aligned tensors in `<stem>.weights`, both files written under temporary names and
 * renamed when complete.
 */
import { closeSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Value, type GraphBuilder } from '../../../onnx/builder.js';
import { f32ToF16Bits } from '../../../core/half.js';
import { onnx } from '../../../onnx/proto.js';

const ALIGN = 4096;
const CHUNK = 64 * 1024 * 1024;

export type StoredDtype = 'float32' | 'float16';

export class StreamingWeightWriter {
  readonly dataFile: string;
  private readonly dataPath: string;
  private readonly fd: number;
  private offset = 0;
  private closed = false;

  constructor(readonly modelPath: string) {
    this.dataFile = `${basename(modelPath).replace(/\.onnx$/, '')}.weights`;
    this.dataPath = join(dirname(modelPath), this.dataFile);
    this.fd = openSync(`${this.dataPath}.tmp`, 'w');
  }

  get bytesWritten(): number {
    return this.offset;
  }

  /** Adds `data` as initializer `name` (stored as float16 and cast back when asked). */
  add(g: GraphBuilder, name: string, dims: number[], data: Float32Array, storeAs: StoredDtype = 'float32'): Value {
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`weight ${name}: ${data.length} values do not fill shape [${dims}]`);
    const half = storeAs === 'float16';
    const payload = half ? f32ToF16Bits(data) : data;
    const bytes = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
    if (this.offset % ALIGN) {
      const pad = ALIGN - (this.offset % ALIGN);
      writeSync(this.fd, new Uint8Array(pad));
      this.offset += pad;
    }
    for (let pos = 0; pos < bytes.byteLength; pos += CHUNK) writeSync(this.fd, bytes.subarray(pos, Math.min(pos + CHUNK, bytes.byteLength)));
    const stored = half ? `${name}__f16` : name;
    g.initializers.push({
      name: stored,
      dims,
      dataType: half ? onnx.TensorProto.DataType.FLOAT16 : onnx.TensorProto.DataType.FLOAT,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: this.dataFile },
        { key: 'offset', value: String(this.offset) },
        { key: 'length', value: String(bytes.byteLength) },
      ],
    });
    this.offset += bytes.byteLength;
    if (!half) return new Value(name);
    return g.op('Cast', [new Value(stored)], { to: onnx.TensorProto.DataType.FLOAT }, { outputNames: [name] })[0];
  }

  /** Writes the model file and renames both files into place. */
  finish(g: GraphBuilder): void {
    closeSync(this.fd);
    this.closed = true;
    const tmpModel = `${this.modelPath}.tmp`;
    writeFileSync(tmpModel, onnx.ModelProto.encode(g.build()).finish());
    renameSync(`${this.dataPath}.tmp`, this.dataPath);
    renameSync(tmpModel, this.modelPath);
  }

  /** Removes the partial data file after a failure. */
  abort(): void {
    if (!this.closed) closeSync(this.fd);
    this.closed = true;
    rmSync(`${this.dataPath}.tmp`, { force: true });
    rmSync(`${this.modelPath}.tmp`, { force: true });
  }
}
