/**
 * A typed ONNX graph builder. Values are named edges; every op helper appends one node
 * and returns its output value(s). Models target ai.onnx opset 23 (RMSNormalization and
 * RotaryEmbedding live there) plus com.microsoft opset 1 (MultiHeadAttention), which is
 * what onnxruntime-node 1.30 accepts.
 */
import { onnx, type IAttributeProto, type INodeProto, type ITensorProto, type IValueInfoProto } from './proto.js';
import { f32ToF16Bits, f32ToBf16Bits } from '../core/half.js';

export const OPSET = 23;
export const IR_VERSION = 11;

export type ElemType = 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'bool';
/** A dimension: a fixed size, or a name for a symbolic (dynamic) dimension. */
export type Dim = number | string;

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  bfloat16: onnx.TensorProto.DataType.BFLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};
const AT = onnx.AttributeProto.AttributeType;

/** An edge of the graph, referred to by name. */
export class Value {
  constructor(readonly name: string) {}
}

/** Attribute values; use `floatAttr` for a float that happens to be an integer. */
export class FloatAttr {
  constructor(readonly value: number) {}
}
export const floatAttr = (v: number): FloatAttr => new FloatAttr(v);
export type AttrValue = number | FloatAttr | string | number[] | FloatAttr[] | ITensorProto;

export interface OpOptions {
  domain?: string;
  /** Number of outputs (default 1). */
  outputs?: number;
  /** Names for the outputs instead of generated ones. */
  outputNames?: string[];
}

export interface InitializerOptions {
  /**
   * Store as float16 or bfloat16 and Cast to float32 in the graph (compute stays fp32). onnxruntime
   * folds a float16 Cast into a float32 initializer at load (the file is half, memory is not); a
   * bfloat16 one stays half in memory when its session disables constant folding (session.ts `keepHalfWeights`).
   */
  storeAs?: 'float32' | 'float16' | 'bfloat16';
}

function attribute(name: string, v: AttrValue): IAttributeProto {
  if (v instanceof FloatAttr) return { name, type: AT.FLOAT, f: v.value };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: AT.INT, i: v } : { name, type: AT.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    const floats = v.some((x) => x instanceof FloatAttr || !Number.isInteger(x));
    return floats
      ? { name, type: AT.FLOATS, floats: v.map((x) => (x instanceof FloatAttr ? x.value : (x as number))) }
      : { name, type: AT.INTS, ints: v as number[] };
  }
  return { name, type: AT.TENSOR, t: v };
}

function valueInfo(name: string, elem: ElemType, dims: Dim[]): IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: ELEM[elem], shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export class GraphBuilder {
  readonly nodes: INodeProto[] = [];
  readonly inputs: IValueInfoProto[] = [];
  readonly outputs: IValueInfoProto[] = [];
  readonly initializers: ITensorProto[] = [];
  private counter = 0;
  private readonly usedNames = new Set<string>();

  constructor(readonly name: string) {}

  private fresh(hint: string): string {
    let name = `${hint}_${this.counter++}`;
    while (this.usedNames.has(name)) name = `${hint}_${this.counter++}`;
    this.usedNames.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.usedNames.has(name)) throw new Error(`ONNX graph ${this.name}: duplicate value name ${name}`);
    this.usedNames.add(name);
    return name;
  }

  input(name: string, elem: ElemType, dims: Dim[]): Value {
    this.inputs.push(valueInfo(this.claim(name), elem, dims));
    return new Value(name);
  }

  /** Marks `value` as a graph output under `name` (an Identity is inserted when renaming). */
  output(value: Value, name: string, elem: ElemType, dims: Dim[]): void {
    if (value.name !== name) this.nodes.push({ opType: 'Identity', input: [value.name], output: [this.claim(name)], name: `Identity_${name}`, domain: '' });
    this.outputs.push(valueInfo(name, elem, dims));
  }

  /** A float32 weight. With `storeAs: 'float16'` or `'bfloat16'` it is stored as half and cast back in-graph. */
  weight(name: string, dims: number[], data: Float32Array, options: InitializerOptions = {}): Value {
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`weight ${name}: ${data.length} values do not fill shape [${dims}]`);
    if (options.storeAs === 'float16') {
      // float16 tops out at 65504; bfloat16 weights (the release's dtype) can be far larger and would become Inf.
      let beyond = 0;
      let largest = 0;
      for (const v of data) if (Math.abs(v) > 65504 && Number.isFinite(v)) {
        beyond++;
        largest = Math.max(largest, Math.abs(v));
      }
      if (beyond > 0) throw new RangeError(`weight ${name}: ${beyond} value${beyond > 1 ? 's' : ''} beyond float16's range (±65504; largest ${largest.toExponential(3)}) would become Inf; store it as float32 or bfloat16 (convert --dtype bfloat16)`);
      const stored = this.claim(`${name}__f16`);
      this.initializers.push({ name: stored, dims, dataType: ELEM.float16, rawData: bytesOf(f32ToF16Bits(data)) });
      return this.op('Cast', [new Value(stored)], { to: ELEM.float32 }, { outputNames: [name] })[0];
    }
    if (options.storeAs === 'bfloat16') {
      const stored = this.claim(`${name}__bf16`);
      this.initializers.push({ name: stored, dims, dataType: ELEM.bfloat16, rawData: bytesOf(f32ToBf16Bits(data)) });
      return this.op('Cast', [new Value(stored)], { to: ELEM.float32 }, { outputNames: [name] })[0];
    }
    this.initializers.push({ name: this.claim(name), dims, dataType: ELEM.float32, rawData: bytesOf(data) });
    return new Value(name);
  }

  /** A small constant tensor (int64 shapes/axes/indices or float scalars), stored inline. */
  constInt64(values: number[] | bigint[], dims: number[] = [values.length]): Value {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    const name = this.fresh('const_i64');
    this.initializers.push({ name, dims, dataType: ELEM.int64, rawData: bytesOf(data) });
    return new Value(name);
  }

  constFloat(values: number[] | Float32Array, dims: number[] = [values.length]): Value {
    const name = this.fresh('const_f32');
    this.initializers.push({ name, dims, dataType: ELEM.float32, rawData: bytesOf(Float32Array.from(values)) });
    return new Value(name);
  }

  /** Appends a node and returns all its outputs. Pass `null` for an optional input that is left out. */
  op(opType: string, inputs: (Value | null)[], attrs: Record<string, AttrValue> = {}, options: OpOptions = {}): Value[] {
    const count = options.outputNames?.length ?? options.outputs ?? 1;
    const names = options.outputNames ? options.outputNames.map((n) => this.claim(n)) : Array.from({ length: count }, () => this.fresh(opType));
    this.nodes.push({
      opType,
      domain: options.domain ?? '',
      name: `${opType}_${names[0]}`,
      input: inputs.map((v) => (v ? v.name : '')),
      output: names,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return names.map((n) => new Value(n));
  }

  /** Appends a single-output node and returns its output. */
  op1(opType: string, inputs: (Value | null)[], attrs: Record<string, AttrValue> = {}, domain = ''): Value {
    return this.op(opType, inputs, attrs, { domain })[0];
  }

  // ---- typed helpers for the ops the Wan models use ----
  matMul(a: Value, b: Value): Value { return this.op1('MatMul', [a, b]); }
  add(a: Value, b: Value): Value { return this.op1('Add', [a, b]); }
  sub(a: Value, b: Value): Value { return this.op1('Sub', [a, b]); }
  mul(a: Value, b: Value): Value { return this.op1('Mul', [a, b]); }
  div(a: Value, b: Value): Value { return this.op1('Div', [a, b]); }
  sigmoid(x: Value): Value { return this.op1('Sigmoid', [x]); }
  silu(x: Value): Value { return this.mul(x, this.sigmoid(x)); }
  tanh(x: Value): Value { return this.op1('Tanh', [x]); }
  cos(x: Value): Value { return this.op1('Cos', [x]); }
  sin(x: Value): Value { return this.op1('Sin', [x]); }
  sqrt(x: Value): Value { return this.op1('Sqrt', [x]); }
  /** Gelu-20; `tanh` selects the tanh approximation used by Wan's FFN and umT5. */
  gelu(x: Value, approximate: 'none' | 'tanh' = 'none'): Value { return this.op1('Gelu', [x], { approximate }); }
  softmax(x: Value, axis = -1): Value { return this.op1('Softmax', [x], { axis }); }
  /** Linear layer: x·Wᵀ + b with W already stored transposed as [in, out]. */
  linear(x: Value, weightT: Value, bias?: Value): Value {
    const y = this.matMul(x, weightT);
    return bias ? this.add(y, bias) : y;
  }
  /**
   * LayerNormalization-17 over the last axis. Pass an explicit zero bias for non-affine norms:
   * onnxruntime 1.30 crashes (segfault at session creation, optimisation level 'extended' or
   * higher) when a bias-less LayerNormalization feeds a MatMul.
   */
  layerNorm(x: Value, scale: Value, bias: Value | null, epsilon: number, axis = -1): Value {
    return this.op1('LayerNormalization', [x, scale, bias], { axis, epsilon: floatAttr(epsilon) });
  }
  /** RMSNormalization-23: x / sqrt(mean(x²) + eps) · scale over the axes from `axis`. */
  rmsNorm(x: Value, scale: Value, epsilon: number, axis = -1): Value {
    return this.op1('RMSNormalization', [x, scale], { axis, epsilon: floatAttr(epsilon) });
  }
  reshape(x: Value, shape: number[]): Value { return this.op1('Reshape', [x, this.constInt64(shape)]); }
  transpose(x: Value, perm: number[]): Value { return this.op1('Transpose', [x], { perm }); }
  concat(xs: Value[], axis: number): Value { return this.op1('Concat', xs, { axis }); }
  unsqueeze(x: Value, axes: number[]): Value { return this.op1('Unsqueeze', [x, this.constInt64(axes)]); }
  squeeze(x: Value, axes: number[]): Value { return this.op1('Squeeze', [x, this.constInt64(axes)]); }
  slice(x: Value, starts: number[], ends: number[], axes: number[], steps?: number[]): Value {
    return this.op1('Slice', [x, this.constInt64(starts), this.constInt64(ends), this.constInt64(axes), steps ? this.constInt64(steps) : null]);
  }
  split(x: Value, parts: number, axis: number): Value[] {
    return this.op('Split', [x], { axis, num_outputs: parts }, { outputs: parts });
  }
  gather(x: Value, indices: Value, axis = 0): Value { return this.op1('Gather', [x, indices], { axis }); }
  scatterND(data: Value, indices: Value, updates: Value): Value { return this.op1('ScatterND', [data, indices, updates]); }
  topK(x: Value, k: Value, axis = -1, largest = 1): [Value, Value] {
    const [values, indices] = this.op('TopK', [x, k], { axis, largest, sorted: 1 }, { outputs: 2 });
    return [values, indices];
  }
  pad(x: Value, pads: number[], mode: 'constant' | 'reflect' | 'edge' = 'constant'): Value {
    return this.op1('Pad', [x, this.constInt64(pads)], { mode });
  }
  conv(x: Value, w: Value, b: Value | null, attrs: { kernel: number[]; strides?: number[]; pads?: number[]; group?: number }): Value {
    const n = attrs.kernel.length;
    return this.op1('Conv', [x, w, b], {
      kernel_shape: attrs.kernel,
      strides: attrs.strides ?? new Array(n).fill(1),
      pads: attrs.pads ?? new Array(2 * n).fill(0),
      group: attrs.group ?? 1,
    });
  }
  /** Nearest-neighbour resize by integer scales (`nearest-exact` for integer factors equals floor rounding). */
  resizeNearest(x: Value, scales: number[]): Value {
    return this.op1('Resize', [x, null, this.constFloat(scales)], { mode: 'nearest', nearest_mode: 'floor', coordinate_transformation_mode: 'asymmetric' });
  }
  reduceMean(x: Value, axes: number[], keepdims = 1): Value { return this.op1('ReduceMean', [x, this.constInt64(axes)], { keepdims }); }
  cast(x: Value, to: ElemType): Value { return this.op1('Cast', [x], { to: ELEM[to] }); }
  shape(x: Value): Value { return this.op1('Shape', [x]); }
  /** com.microsoft MultiHeadAttention on [B, N, heads·dim] inputs; the K/V length may differ from Q's. */
  multiHeadAttention(q: Value, k: Value, v: Value, numHeads: number, scale?: number, keyPaddingMask?: Value): Value {
    const attrs: Record<string, AttrValue> = { num_heads: numHeads };
    if (scale !== undefined) attrs.scale = floatAttr(scale);
    const inputs: (Value | null)[] = keyPaddingMask ? [q, k, v, null, keyPaddingMask] : [q, k, v];
    return this.op1('MultiHeadAttention', inputs, attrs, 'com.microsoft');
  }
  /** RotaryEmbedding-23 on [B, N, heads·dim] with per-token cos/sin tables [B, N, dim/2]. */
  rotaryEmbedding(x: Value, cos: Value, sin: Value, numHeads: number, interleaved = true): Value {
    return this.op1('RotaryEmbedding', [x, cos, sin], { interleaved: interleaved ? 1 : 0, num_heads: numHeads });
  }

  build(): InstanceType<typeof onnx.ModelProto> {
    return onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'diffsparse',
      opsetImport: [{ domain: '', version: OPSET }, { domain: 'com.microsoft', version: 1 }],
      graph: { name: this.name, node: this.nodes, input: this.inputs, output: this.outputs, initializer: this.initializers },
    });
  }

  /** Serialized model with all weights inline (fine below 2 GB; tests and small stages). */
  toBytes(): Uint8Array {
    return onnx.ModelProto.encode(this.build()).finish();
  }
}
