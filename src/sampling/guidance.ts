/**
 * Classifier-free guidance, `uncond + g·(cond − uncond)`, with float32 rounding after each
 * operation in torch's order so the result is bit-identical to the official loop's.
 */
import { SolverStateError } from './solver.js';

export function combineGuidance(cond: Float32Array, uncond: Float32Array, guidance: number, out?: Float32Array): Float32Array {
  if (cond.length !== uncond.length) {
    throw new SolverStateError(`guidance: cond has ${cond.length} values but uncond has ${uncond.length}; both passes must return the latent's shape`);
  }
  const result = out ?? new Float32Array(cond.length);
  // torch casts the Python float scale to the tensor's dtype before multiplying.
  const g = Math.fround(guidance);
  for (let i = 0; i < result.length; i++) result[i] = uncond[i] + Math.fround(g * Math.fround(cond[i] - uncond[i]));
  return result;
}
