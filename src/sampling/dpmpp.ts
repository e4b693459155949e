/**
 * Flow-matching DPM-Solver++ (2M, midpoint), replaying Wan2.1's `FlowDPMSolverMultistepScheduler`
 * in float32. First order at step 0 (no history) and at the final step (final sigma 0).
 */
import { expF32, lambdaF32 } from './float32.js';
import { checkStepInputs, flowX0, FlowSolverBase } from './solver.js';

const f = Math.fround;

export class FlowDPMSolverPP extends FlowSolverBase {
  readonly name = 'dpm++' as const;
  private history: [Float32Array | null, Float32Array | null] = [null, null];
  private lowerOrderNums = 0;
  override reset(): void {
    super.reset();
    this.history = [null, null];
    this.lowerOrderNums = 0;
  }

  step(modelOutput: Float32Array, sample: Float32Array): Float32Array {
    checkStepInputs(this, modelOutput, sample);
    const k = this.index;
    const x0 = flowX0(modelOutput, sample, this.schedule.sigmas[k]);
    this.history = [this.history[1], x0];
    const isFinal = k === this.steps - 1;
    const order = this.lowerOrderNums < 1 || isFinal ? 1 : 2;
    const prev = order === 1 ? this.firstOrder(sample) : this.secondOrder(sample);
    this.lowerOrderNums = Math.min(this.lowerOrderNums + 1, 2);
    this.trace = { step: k, x0Pred: x0, correctedSample: sample, order, correctorOrder: 0 };
    this.index++;
    return prev;
  }

  /**
   * x_t = (σ_t/σ_s)·x − α_t·(e^{−h} − 1)·m. At σ_s = 1 the log-SNR is −∞ and this reduces
   * to σ_t·x + α_t·m with IEEE infinities, exactly as in torch.
   */
  private firstOrder(x: Float32Array): Float32Array {
    const k = this.index;
    const { sigmas } = this.schedule;
    const sigmaT = sigmas[k + 1];
    const sigmaS = sigmas[k];
    const alphaT = f(1 - sigmaT);
    const h = f(lambdaF32(sigmaT) - lambdaF32(sigmaS));
    const ratio = f(sigmaT / sigmaS);
    const c = f(alphaT * f(expF32(-h) - 1));
    const m = this.history[1] as Float32Array;
    const out = new Float32Array(x.length);
    for (let i = 0; i < out.length; i++) out[i] = f(ratio * x[i]) - f(c * m[i]);
    return out;
  }

  /** Midpoint 2M: D0 = m0, D1 = (m0 − m1)/r0, x_t = ratio·x − c·D0 − 0.5·c·D1. */
  private secondOrder(x: Float32Array): Float32Array {
    const k = this.index;
    const { sigmas } = this.schedule;
    const sigmaT = sigmas[k + 1];
    const sigmaS0 = sigmas[k];
    const alphaT = f(1 - sigmaT);
    const lambdaT = lambdaF32(sigmaT);
    const lambdaS0 = lambdaF32(sigmaS0);
    const lambdaS1 = lambdaF32(sigmas[k - 1]);
    const h = f(lambdaT - lambdaS0);
    const h0 = f(lambdaS0 - lambdaS1);
    // At step 1, sigma_{s1} = 1 makes r0 infinite and D1 vanish.
    const invR0 = f(1 / f(h0 / h));
    const ratio = f(sigmaT / sigmaS0);
    const c = f(alphaT * f(expF32(-h) - 1));
    const halfC = f(0.5 * c);
    const m0 = this.history[1] as Float32Array;
    const m1 = this.history[0] as Float32Array;
    const out = new Float32Array(x.length);
    for (let i = 0; i < out.length; i++) {
      const d1 = f(invR0 * f(m0[i] - m1[i]));
      out[i] = f(f(ratio * x[i]) - f(c * m0[i])) - f(halfC * d1);
    }
    return out;
  }
}
