/** Issue 17: MatMulNBits weights (int8/int4 blocks) run on this onnxruntime's CPU EP and match their dequantized matmul. */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { dequantizeNBits, matMulNBits, quantizeNBits } from '../../src/onnx/quantize.js';
import { createSession, f32Tensor } from '../../src/runtime/session.js';

const rand = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin((i + 1) * 12.9898 * seed) * 0.3);

describe('MatMulNBits', () => {
  for (const bits of [8, 4] as const) {
    it(`int${bits}: the CPU kernel computes x · dequant(W)ᵀ + b`, async () => {
      const [m, k, n] = [5, 64, 48];
      const w = rand(n * k, 1.3);
      const x = rand(m * k, 2.1);
      const bias = rand(n, 3.7);
      const q = quantizeNBits(w, n, k, bits);
      const dq = dequantizeNBits(q);
      // quantization error is bounded by half a step per weight
      for (let i = 0; i < w.length; i++) expect(Math.abs(dq[i] - w[i])).toBeLessThanOrEqual(q.scales[Math.floor(i / 32)] / 2 + 1e-7);
      const g = new GraphBuilder('q');
      const y = matMulNBits(g, g.input('x', 'float32', [m, k]), 'w', q, { accuracyLevel: 0, bias: g.weight('b', [n], bias) });
      g.output(y, 'y', 'float32', [m, n]);
      const s = await createSession(g.toBytes());
      const out = (await s.run({ x: f32Tensor(x, [m, k]) })).y.data as Float32Array;
      for (let r = 0; r < m; r++)
        for (let c = 0; c < n; c++) {
          let ref = bias[c];
          for (let i = 0; i < k; i++) ref += x[r * k + i] * dq[c * k + i];
          expect(out[r * n + c]).toBeCloseTo(ref, 4);
        }
      await s.release();
    });
  }
});
