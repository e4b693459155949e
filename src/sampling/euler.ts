/**
 * Plain Euler on the flow ODE dx/dσ = v: x_{k+1} = x_k + (σ_{k+1} − σ_k)·v. First order and
 * history-free; a baseline and a check on the other solvers, not part of the Wan release.
 */
import { checkStepInputs, flowX0, FlowSolverBase } from './solver.js';

const f = Math.fround;

export class FlowEulerSolver extends FlowSolverBase {
  readonly name = 'euler' as const;

  step(modelOutput: Float32Array, sample: Float32Array): Float32Array {
    checkStepInputs(this, modelOutput, sample);
    const k = this.index;
    const { sigmas } = this.schedule;
    const dt = f(sigmas[k + 1] - sigmas[k]);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) out[i] = sample[i] + f(dt * modelOutput[i]);
    this.trace = { step: k, x0Pred: flowX0(modelOutput, sample, sigmas[k]), correctedSample: sample, order: 1, correctorOrder: 0 };
    this.index++;
    return out;
  }
}
