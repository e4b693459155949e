/**
 * The dense generation loop: for each step, one cond and (unless guidance is 1) one uncond
 * velocity prediction, classifier-free guidance, then one solver step. It mirrors
 * `WanT2V.generate`'s loop, with the model behind the `VelocityModel` interface so the dense
 * DiT, the sparse DiT and test replays all run through the same code.
 */
import { createSolver } from './solvers.js';
import { combineGuidance } from './guidance.js';
import { torchRandn } from './noise.js';
import { SamplerConfigError, type SigmaSchedule, type SolverName } from './schedule.js';
import type { GuidanceBranch, Latent, TextContext, VelocityModel } from '../core/types.js';

/** Noise to draw here instead of passing a latent: torch-compatible seeded normal samples. */
export interface SeededNoise {
  seed: number | bigint;
  shape: Latent['shape'];
}

export interface DenoiseProgress {
  /** Index of the step just completed, 0-based. */
  step: number;
  steps: number;
  /** Integer timestep the model was called with. */
  timestep: number;
  /** Noise level of the step's input sample. */
  sigma: number;
  /** Milliseconds since the loop started, and spent on this step. */
  elapsedMs: number;
  stepMs: number;
  /** The latent after this step; the loop reads it again next step, so do not modify it. */
  latent: Float32Array;
  /** The step's prediction of the clean latent, x_t − σ·v (only when `withDenoised` is set). */
  denoised?: Float32Array;
}

export interface DenoiseOptions {
  model: VelocityModel;
  /** The starting latent (e.g. from `readLatentNpy`), or a seed and shape to draw it from. */
  noise: Latent | SeededNoise;
  cond: TextContext;
  /** Negative-prompt context; required unless guidance is 1. */
  uncond?: TextContext;
  steps: number;
  shift: number;
  guidance: number;
  solver: SolverName;
  /** Use this schedule instead of the solver's official one (its step count must equal `steps`). */
  schedule?: SigmaSchedule;
  onStep?: (progress: DenoiseProgress) => void;
  /** Also compute each step's clean-latent prediction for `onStep` (for previews); off by default. */
  withDenoised?: boolean;
  /** Checked before every model call; aborting rejects with `DenoiseAbortedError`. */
  signal?: AbortSignal;
}

export class DenoiseAbortedError extends Error {
  override name = 'DenoiseAbortedError';
  constructor(readonly step: number, readonly steps: number) {
    super(`denoising was cancelled at step ${step + 1} of ${steps}; no latent was produced`);
  }
}

export class DenoiseModelOutputError extends Error {
  override name = 'DenoiseModelOutputError';
}

export async function denoise(options: DenoiseOptions): Promise<Latent> {
  const { model, cond, uncond, steps, shift, guidance, signal, onStep } = options;
  if (!Number.isFinite(guidance)) throw new SamplerConfigError(`guidance must be a finite number, got ${guidance}; the Wan2.1 default is 5`);
  const useUncond = guidance !== 1;
  if (useUncond && !uncond) {
    throw new SamplerConfigError(`guidance ${guidance} needs a negative-prompt context (uncond); pass one, or set guidance to 1 to run without it`);
  }
  const solver = createSolver(options.solver, steps, shift, options.schedule);
  if (solver.steps !== steps) {
    throw new SamplerConfigError(`the given schedule has ${solver.steps} steps but steps is ${steps}; make them agree`);
  }
  const start = resolveNoise(options.noise);
  const { sigmas, timesteps } = solver.schedule;
  const t0 = performance.now();
  let sample = start.data;

  const predict = async (step: number, branch: GuidanceBranch, context: TextContext): Promise<Float32Array> => {
    if (signal?.aborted) throw new DenoiseAbortedError(step, steps);
    const velocity = await model.predict({ data: sample, shape: start.shape }, timesteps[step], context, { step, steps, branch, ...(signal && { signal }) });
    if (velocity.length !== sample.length) {
      throw new DenoiseModelOutputError(
        `the model returned ${velocity.length} values for the ${branch} pass at step ${step + 1}, expected ${sample.length} (latent ${start.shape.join('x')})`,
      );
    }
    return velocity;
  };

  for (let step = 0; step < steps; step++) {
    const stepStart = performance.now();
    const condVelocity = await predict(step, 'cond', cond);
    const velocity = useUncond ? combineGuidance(condVelocity, await predict(step, 'uncond', uncond as TextContext), guidance) : condVelocity;
    // Flow matching: x_t = (1 − σ)·x0 + σ·ε and v = ε − x0, so x0 = x_t − σ·v (before the solver moves x_t).
    let denoised: Float32Array | undefined;
    if (options.withDenoised) {
      denoised = new Float32Array(sample.length);
      const sigma = sigmas[step];
      for (let i = 0; i < sample.length; i++) denoised[i] = sample[i] - sigma * velocity[i];
    }
    sample = solver.step(velocity, sample);
    const now = performance.now();
    onStep?.({ step, steps, timestep: timesteps[step], sigma: sigmas[step], elapsedMs: now - t0, stepMs: now - stepStart, latent: sample, ...(denoised && { denoised }) });
  }
  return { data: sample, shape: start.shape };
}

function resolveNoise(noise: Latent | SeededNoise): Latent {
  if ('data' in noise) {
    const expected = noise.shape.reduce((a, b) => a * b, 1);
    if (noise.data.length !== expected) {
      throw new SamplerConfigError(`noise has ${noise.data.length} values but its shape ${noise.shape.join('x')} needs ${expected}`);
    }
    // Copy so the caller's array is never aliased by the loop's state.
    return { data: noise.data.slice(), shape: [...noise.shape] as Latent['shape'] };
  }
  return { data: torchRandn(noise.shape, noise.seed), shape: [...noise.shape] as Latent['shape'] };
}
