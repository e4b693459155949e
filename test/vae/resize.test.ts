import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { createSession, f32Tensor } from '../../src/runtime/session.js';

describe("upsample: torch 'nearest-exact' ×2 equals ONNX nearest/floor/asymmetric", () => {
  it('has the same source index for every output pixel (formula)', () => {
    let mismatches = 0;
    for (let i = 0; i < 4096; i++) {
      const nearestExact = Math.min(Math.floor((i + 0.5) * 0.5), 2047); // torch: floor((dst + 0.5) · in/out)
      const onnxFloorAsymmetric = Math.floor(i / 2); // ONNX: floor(dst / scale)
      if (nearestExact !== onnxFloorAsymmetric) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('onnxruntime resizes a 5-D (N, C, T, H, W) tensor that way', async () => {
    const g = new GraphBuilder('resize');
    const x = g.input('x', 'float32', [1, 2, 2, 3, 5]);
    g.output(g.resizeNearest(x, [1, 1, 1, 2, 2]), 'y', 'float32', [1, 2, 2, 6, 10]);
    const session = await createSession(g.toBytes());
    const input = Float32Array.from({ length: 60 }, (_, i) => i);
    const y = (await session.run({ x: f32Tensor(input, [1, 2, 2, 3, 5]) })).y.data as Float32Array;
    for (let ct = 0; ct < 4; ct++) for (let h = 0; h < 6; h++) for (let w = 0; w < 10; w++) {
      expect(y[(ct * 6 + h) * 10 + w]).toBe(input[(ct * 3 + Math.floor(h / 2)) * 5 + Math.floor(w / 2)]);
    }
  });
});
