/**
 * Flow-matching sigma grids and DiT timesteps, replaying the official Wan2.1 arithmetic
 * (`FlowUniPCMultistepScheduler.set_timesteps`, `get_sampling_sigmas`) so that timesteps
 * match exactly and sigmas to the bit: float64 maths, int64 truncation, float32 storage.
 */

export type { SolverName } from '../core/types.js';

export interface SigmaSchedule {
  /** steps + 1 float32 noise levels, strictly decreasing, the last one exactly 0. */
  readonly sigmas: Float32Array;
  /** One integer timestep per step (int64 in the reference; always < 2^53 here). */
  readonly timesteps: readonly number[];
}

export class SamplerConfigError extends Error {
  override name = 'SamplerConfigError';
}

export const NUM_TRAIN_TIMESTEPS = 1000;

/** numpy.linspace for float64 scalars: `i * step + start`, last point pinned to `stop`. */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(i * step + start);
  out[num - 1] = stop;
  return out;
}

/** Resolution-dependent timestep shift, sigma' = s·σ / (1 + (s−1)·σ), in float64 like numpy. */
export function shiftSigma(sigma: number, shift: number): number {
  return (shift * sigma) / (1 + (shift - 1) * sigma);
}

function validate(steps: number, shift: number): void {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new SamplerConfigError(`steps must be a positive integer, got ${steps}; pass e.g. --steps 50`);
  }
  if (!Number.isFinite(shift) || shift <= 0) {
    throw new SamplerConfigError(`shift must be a positive number, got ${shift}; the Wan2.1 default is 5`);
  }
}

function finish(shifted: number[]): SigmaSchedule {
  // numpy's astype(int64) truncates toward zero; the solver keeps the untruncated float32 sigmas.
  const timesteps = shifted.map((s) => Math.trunc(s * NUM_TRAIN_TIMESTEPS));
  const sigmas = new Float32Array(shifted.length + 1);
  sigmas.set(shifted);
  sigmas[shifted.length] = 0;
  return { sigmas, timesteps };
}

/**
 * The UniPC grid as text2video.py builds it: the training grid's sigma_max is f32(0.999),
 * not 1, so the first timestep is 999 rather than 1000.
 */
export function unipcSchedule(steps: number, shift: number): SigmaSchedule {
  validate(steps, shift);
  const sigmaMax = Math.fround(1 - 1 / NUM_TRAIN_TIMESTEPS);
  const grid = linspace(sigmaMax, 0, steps + 1).slice(0, steps);
  return finish(grid.map((s) => shiftSigma(s, shift)));
}

/** `get_sampling_sigmas(steps, shift)`: starts at exactly 1 (timestep 1000). Used by DPM++ and Euler. */
export function samplingSigmasSchedule(steps: number, shift: number): SigmaSchedule {
  validate(steps, shift);
  const grid = linspace(1, 0, steps + 1).slice(0, steps);
  // The scheduler's own shift is 1 on this route, which leaves these values unchanged.
  return finish(grid.map((s) => shiftSigma(s, shift)));
}
