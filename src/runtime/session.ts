/**
 * onnxruntime-node sessions with the settings measured best on CPU: 2 intra-op threads,
 * sequential execution. Models are loaded by path so external weights resolve next to them.
 */
import * as ort from 'onnxruntime-node';

export { ort };

export interface SessionOptions {
  intraOpThreads?: number;
  /** Keep weights mmapped instead of prepacked copies: faster load, less RSS, slightly slower runs. */
  mmapWeights?: boolean;
}

export async function createSession(model: string | Uint8Array, options: SessionOptions = {}): Promise<ort.InferenceSession> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.intraOpThreads ?? 2,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  if (options.mmapWeights) (sessionOptions as { extra?: unknown }).extra = { session: { disable_prepacking: '1' } };
  return typeof model === 'string' ? ort.InferenceSession.create(model, sessionOptions) : ort.InferenceSession.create(model, sessionOptions);
}

export function f32Tensor(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export function i64Tensor(data: BigInt64Array | number[], dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', data instanceof BigInt64Array ? data : BigInt64Array.from(data.map(BigInt)), dims);
}
