import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, saveModelWithExternalData, f32ToF16Bits, f16BitsToF32, f32ToBf16Bits, bf16BitsToF32 } from '../../src/onnx/index.js';
import { onnx } from '../../src/onnx/proto.js';
import { createSession, f32Tensor, sessionOptionsFor } from '../../src/runtime/session.js';

const dir = mkdtempSync(join(tmpdir(), 'diffsparse-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function linearModel(storeAs: 'float32' | 'float16' | 'bfloat16'): { g: GraphBuilder; w: Float32Array; b: Float32Array } {
  const g = new GraphBuilder('linear');
  const x = g.input('x', 'float32', [1, 'n', 32]);
  const w = Float32Array.from({ length: 32 * 16 }, (_, i) => Math.sin(i) * 0.5);
  const b = Float32Array.from({ length: 16 }, (_, i) => i / 16);
  const y = g.linear(x, g.weight('w', [32, 16], w, { storeAs }), g.weight('b', [16], b));
  g.output(g.gelu(y, 'tanh'), 'y', 'float32', [1, 'n', 16]);
  return { g, w, b };
}

function reference(x: Float32Array, n: number, w: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(n * 16);
  for (let i = 0; i < n; i++) for (let o = 0; o < 16; o++) {
    let s = b[o];
    for (let k = 0; k < 32; k++) s += x[i * 32 + k] * w[k * 16 + o];
    out[i * 16 + o] = 0.5 * s * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (s + 0.044715 * s ** 3)));
  }
  return out;
}

describe('GraphBuilder', () => {
  it('runs a dynamic-length linear+gelu model with weights in an external file', async () => {
    const { g, w, b } = linearModel('float32');
    const path = join(dir, 'linear.onnx');
    const { bytes } = saveModelWithExternalData(g.build(), path);
    expect(bytes).toBeGreaterThanOrEqual(32 * 16 * 4);
    expect(statSync(path).size).toBeLessThan(1024);
    const session = await createSession(path);
    for (const n of [1, 5]) {
      const x = Float32Array.from({ length: n * 32 }, (_, i) => Math.cos(i));
      const { y } = await session.run({ x: f32Tensor(x, [1, n, 32]) });
      expect(y.dims).toEqual([1, n, 16]);
      const want = reference(x, n, w, b);
      const got = y.data as Float32Array;
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5);
    }
  });

  it('stores float16 weights and computes in float32', async () => {
    const { g, w, b } = linearModel('float16');
    const session = await createSession(g.toBytes());
    const x = Float32Array.from({ length: 3 * 32 }, (_, i) => Math.cos(i));
    const { y } = await session.run({ x: f32Tensor(x, [1, 3, 32]) });
    const want = reference(x, 3, f16BitsToF32(f32ToF16Bits(w)), b);
    const got = y.data as Float32Array;
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5);
  });

  it('rounds float16 to nearest even', () => {
    const v = Float32Array.from([0, -0, 1, 65504, 70000, 1e-8, 5.960464477539063e-8, 1 + 2 ** -11, 1 + 3 * 2 ** -11, NaN]);
    const back = f16BitsToF32(f32ToF16Bits(v));
    expect(Array.from(back.slice(0, 9))).toEqual([0, -0, 1, 65504, Infinity, 0, 5.960464477539063e-8, 1, 1 + 2 ** -9]);
    expect(Number.isNaN(back[9])).toBe(true);
  });

  it('stores bfloat16 weights and computes in float32, with or without keeping them half in memory', async () => {
    const { g, w, b } = linearModel('bfloat16');
    const x = Float32Array.from({ length: 3 * 32 }, (_, i) => Math.cos(i));
    const want = reference(x, 3, bf16BitsToF32(f32ToBf16Bits(w)), b);
    for (const keepHalfWeights of [false, true]) {
      const session = await createSession(g.toBytes(), { keepHalfWeights });
      const got = (await session.run({ x: f32Tensor(x, [1, 3, 32]) })).y.data as Float32Array;
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5);
      await session.release();
    }
  });

  it('keepHalfWeights keeps the bfloat16 initializer and its Cast; by default onnxruntime folds them into float32', async () => {
    const { g } = linearModel('bfloat16');
    const source = join(dir, 'bf16.onnx');
    saveModelWithExternalData(g.build(), source);
    const kinds = async (keepHalfWeights: boolean): Promise<{ initializers: number[]; casts: number }> => {
      const optimized = join(dir, `bf16-opt-${keepHalfWeights}.onnx`);
      await ort.InferenceSession.create(source, { ...sessionOptionsFor({ keepHalfWeights }), optimizedModelFilePath: optimized, logSeverityLevel: 3 });
      const m = onnx.ModelProto.decode(readFileSync(optimized));
      const weight = m.graph!.initializer!.filter((t) => (t.dims ?? []).map(Number).join() === '32,16');
      return { initializers: weight.map((t) => t.dataType!), casts: m.graph!.node!.filter((n) => n.opType === 'Cast').length };
    };
    expect(await kinds(true)).toEqual({ initializers: [onnx.TensorProto.DataType.BFLOAT16], casts: 1 });
    expect(await kinds(false)).toEqual({ initializers: [onnx.TensorProto.DataType.FLOAT], casts: 0 });
  });

  it('refuses a float16 weight beyond float16\'s range instead of storing Inf, and points to bfloat16', () => {
    const g = new GraphBuilder('range');
    expect(() => g.weight('w', [3], Float32Array.from([1, -70000, 3e38]), { storeAs: 'float16' })).toThrow(/weight w: 2 values beyond float16's range .* --dtype bfloat16/);
    expect(() => g.weight('ok', [2], Float32Array.from([65504, -1]), { storeAs: 'float16' })).not.toThrow();
    expect(() => g.weight('big', [1], Float32Array.from([3e38]), { storeAs: 'bfloat16' })).not.toThrow();
  });

  it('rounds bfloat16 to nearest even and keeps bfloat16 values bit for bit', () => {
    const v = Float32Array.from([0, -0, 1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.3895313892515355e38, Infinity, -Infinity, NaN]);
    const back = bf16BitsToF32(f32ToBf16Bits(v));
    expect(Array.from(back.slice(0, 8))).toEqual([0, -0, 1, 1, 1 + 2 ** -6, 3.3895313892515355e38, Infinity, -Infinity]);
    expect(Number.isNaN(back[8])).toBe(true);
    const bf16 = Uint16Array.from({ length: 4096 }, (_, i) => (i * 40503) & 0xffff).filter((h) => (h & 0x7f80) !== 0x7f80);
    expect(Array.from(f32ToBf16Bits(bf16BitsToF32(bf16)))).toEqual(Array.from(bf16));
  });
});
