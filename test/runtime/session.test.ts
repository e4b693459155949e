/** The runtime seam: sessions on the default CPU provider, and clear errors for providers this installation cannot run. */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { Pipeline } from '../../src/pipeline/generate.js';
import { availableProviders, checkProviders, createSession, ExecutionProviderError, f32Tensor, sessionOptionsFor } from '../../src/runtime/session.js';

function tinyGraph(): Uint8Array {
  const g = new GraphBuilder('t');
  const a = g.input('a', 'float32', [1, 4]);
  g.output(g.matMul(a, g.weight('b', [4, 2], new Float32Array(8).fill(1))), 'c', 'float32', [1, 2]);
  return g.toBytes();
}

const missing = (name: string): boolean => !availableProviders().some((p) => p.name === name && p.installed);

describe('runtime sessions', () => {
  it('runs on cpu by default and when cpu is named', async () => {
    for (const providers of [undefined, ['cpu'] as const]) {
      const s = await createSession(tinyGraph(), providers ? { providers } : {});
      const out = await s.run({ a: f32Tensor(new Float32Array([1, 2, 3, 4]), [1, 4]) });
      expect(Array.from(out.c.data as Float32Array)).toEqual([10, 10]);
      await s.release();
    }
  });

  it('lets intra-op threads sleep between runs, whatever else is set (the DiT alternates many sessions)', () => {
    for (const options of [{}, { mmapWeights: true }, { keepHalfWeights: true, freeActivations: true }]) {
      const extra = (sessionOptionsFor(options) as { extra?: { session?: Record<string, unknown> } }).extra;
      expect(extra?.session?.intra_op).toEqual({ allow_spinning: '0' });
    }
    expect((sessionOptionsFor({ mmapWeights: true }) as { extra?: { session?: Record<string, unknown> } }).extra?.session?.disable_prepacking).toBe('1');
  });

  it('lists cpu as installed', () => {
    expect(availableProviders()).toContainEqual({ name: 'cpu', installed: true });
  });

  it('rejects an unknown provider as a user error', () => {
    expect(() => checkProviders(['tpu'])).toThrow(/unknown device "tpu"; use one of cpu, cuda, webgpu/);
    expect(() => checkProviders(['tpu'])).toThrow(UserError);
    expect(() => checkProviders([])).toThrow(ExecutionProviderError);
  });

  it.skipIf(!missing('cuda'))('names the fix when the CUDA provider is not installed, before loading a model', async () => {
    expect(() => checkProviders(['cuda'])).toThrow(/cuda.*not installed.*--onnxruntime-node-install=cuda12/);
    await expect(createSession(tinyGraph(), { providers: ['cuda'] })).rejects.toBeInstanceOf(ExecutionProviderError);
    await expect(Pipeline.load(undefined, { providers: ['cuda'] })).rejects.toBeInstanceOf(ExecutionProviderError);
  });
});
