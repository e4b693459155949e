/**
 * The contract every flow-matching solver follows, diffusers-style: the caller feeds the
 * model's velocity for the current step and the current sample, the solver returns the
 * sample for the next noise level and keeps its multistep history itself.
 */
import type { SigmaSchedule, SolverName } from './schedule.js';

/** Intermediates of the last step, exposed for parity tests and diagnostics. */
export interface SolverStepTrace {
  step: number;
  /** x0 prediction `sample − σ·v` of this step (from the uncorrected sample). */
  x0Pred: Float32Array;
  /** Sample the predictor started from: the UniC-corrected one for UniPC, else the input. */
  correctedSample: Float32Array;
  /** Order of the update that produced the returned sample. */
  order: number;
  /** Order of the UniC corrector applied first (0 = none). */
  correctorOrder: number;
}

export interface FlowSolver {
  readonly name: SolverName;
  readonly schedule: SigmaSchedule;
  /** Number of steps in the schedule. */
  readonly steps: number;
  /** Index of the step the next `step()` call performs (0-based). */
  readonly stepIndex: number;
  /** Intermediates of the most recent step, or null before the first one. */
  readonly lastTrace: SolverStepTrace | null;
  /** Advances one step: velocity at sigmas[stepIndex] and the sample there -> sample at sigmas[stepIndex + 1]. */
  step(modelOutput: Float32Array, sample: Float32Array): Float32Array;
  /** Forgets the history so the same instance can run a new generation. */
  reset(): void;
}

/**
 * The bookkeeping every solver shares: the schedule, the step counter and the last trace.
 * Subclasses implement `step()` and extend `reset()` with their own history.
 */
export abstract class FlowSolverBase implements FlowSolver {
  abstract readonly name: SolverName;
  readonly steps: number;
  protected index = 0;
  protected trace: SolverStepTrace | null = null;

  constructor(readonly schedule: SigmaSchedule) {
    this.steps = schedule.timesteps.length;
  }

  get stepIndex(): number {
    return this.index;
  }

  get lastTrace(): SolverStepTrace | null {
    return this.trace;
  }

  reset(): void {
    this.index = 0;
    this.trace = null;
  }

  abstract step(modelOutput: Float32Array, sample: Float32Array): Float32Array;
}

export class SolverStateError extends Error {
  override name = 'SolverStateError';
}

export function checkStepInputs(solver: FlowSolver, modelOutput: Float32Array, sample: Float32Array): void {
  if (solver.stepIndex >= solver.steps) {
    throw new SolverStateError(
      `${solver.name}: all ${solver.steps} steps are done; call reset() before starting another generation`,
    );
  }
  if (modelOutput.length !== sample.length) {
    throw new SolverStateError(
      `${solver.name}: model output has ${modelOutput.length} values but the sample has ${sample.length}; the model must return a velocity shaped like the latent`,
    );
  }
}

/** x0 = sample − σ·v in float32, as `convert_model_output` does for flow prediction. */
export function flowX0(modelOutput: Float32Array, sample: Float32Array, sigma: number): Float32Array {
  const out = new Float32Array(sample.length);
  for (let i = 0; i < out.length; i++) out[i] = sample[i] - Math.fround(sigma * modelOutput[i]);
  return out;
}
