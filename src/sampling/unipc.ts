/**
 * Flow-matching UniPC (bh2, solver order 2, x0-prediction, lower order at the final step),
 * replaying Wan2.1's `FlowUniPCMultistepScheduler.step` operation by operation in float32:
 * convert -> UniC corrector on the incoming sample (from step 1) -> history shift -> UniP predictor.
 *
 * Always starts at index 0. The official scheduler looks its start up by timestep and, when the
 * first two truncated timesteps are equal (e.g. 100 steps at shift 12), starts at index 1 and then
 * fails its order assertion on the last step; we run the whole grid instead.
 */
import { expm1F32, lambdaF32, solve2x2F32 } from './float32.js';
import { checkStepInputs, flowX0, FlowSolverBase } from './solver.js';

const f = Math.fround;
const SOLVER_ORDER = 2;

/** phi-function terms shared by predictor and corrector (bh2: B(h) = expm1(−h)). */
function phiTerms(h: number): { hPhi1: number; bH: number; b: [number, number] } {
  const hh = f(-h);
  const hPhi1 = expm1F32(hh);
  const bH = expm1F32(hh);
  // b_k = h_phi_k * k! / B(h), with h_phi_k <- h_phi_k / hh - 1/(k+1)!
  let hPhiK = f(f(hPhi1 / hh) - 1);
  const b1 = f(f(hPhiK * 1) / bH);
  hPhiK = f(f(hPhiK / hh) - f(1 / 2));
  const b2 = f(f(hPhiK * 2) / bH);
  return { hPhi1, bH, b: [b1, b2] };
}

export class FlowUniPCSolver extends FlowSolverBase {
  readonly name = 'unipc' as const;
  /** x0 predictions of the last two steps, oldest first (model_outputs). */
  private history: [Float32Array | null, Float32Array | null] = [null, null];
  /** Sample the previous predictor started from (last_sample). */
  private lastSample: Float32Array | null = null;
  private lowerOrderNums = 0;
  private prevOrder = 0;
  override reset(): void {
    super.reset();
    this.history = [null, null];
    this.lastSample = null;
    this.lowerOrderNums = 0;
    this.prevOrder = 0;
  }

  step(modelOutput: Float32Array, sample: Float32Array): Float32Array {
    checkStepInputs(this, modelOutput, sample);
    const k = this.index;
    const sigmas = this.schedule.sigmas;
    // The official code converts with the uncorrected sample, then corrects that sample.
    const x0 = flowX0(modelOutput, sample, sigmas[k]);
    let x = sample;
    let correctorOrder = 0;
    if (k > 0 && this.lastSample !== null) {
      x = this.correct(x0, this.lastSample, this.prevOrder);
      correctorOrder = this.prevOrder;
    }
    this.history = [this.history[1], x0];
    // lower_order_final applies at any step count; warm-up limits the order on the first step.
    const order = Math.min(SOLVER_ORDER, this.steps - k, this.lowerOrderNums + 1);
    this.prevOrder = order;
    this.lastSample = x;
    const prev = this.predict(x, order);
    this.lowerOrderNums = Math.min(this.lowerOrderNums + 1, SOLVER_ORDER);
    this.trace = { step: k, x0Pred: x0, correctedSample: x, order, correctorOrder };
    this.index++;
    return prev;
  }

  /** UniP: sigma[k] -> sigma[k+1] from the corrected sample x and the history (newest = this step). */
  private predict(x: Float32Array, order: number): Float32Array {
    const k = this.index;
    const sigmas = this.schedule.sigmas;
    const sigmaT = sigmas[k + 1];
    const sigmaS0 = sigmas[k];
    const alphaT = f(1 - sigmaT);
    const lambdaS0 = lambdaF32(sigmaS0);
    const h = f(lambdaF32(sigmaT) - lambdaS0);
    const m0 = this.history[1] as Float32Array;
    const { hPhi1, bH } = phiTerms(h);

    const ratio = f(sigmaT / sigmaS0);
    const c0 = f(alphaT * hPhi1);
    const out = new Float32Array(x.length);
    for (let i = 0; i < out.length; i++) out[i] = f(ratio * x[i]) - f(c0 * m0[i]);
    if (order === 2) {
      const m1 = this.history[0] as Float32Array;
      const rk = f(f(lambdaF32(sigmas[k - 1]) - lambdaS0) / h);
      // For order 2 the official code fixes rho_p = 0.5 instead of solving for it.
      const cRes = f(alphaT * bH);
      for (let i = 0; i < out.length; i++) {
        const d1 = f(f(m1[i] - m0[i]) / rk);
        out[i] = out[i] - f(cRes * f(0.5 * d1));
      }
    }
    return out;
  }

  /** UniC: re-solves the step sigma[k-1] -> sigma[k] using this step's x0 prediction. */
  private correct(x0: Float32Array, lastSample: Float32Array, order: number): Float32Array {
    const k = this.index;
    const sigmas = this.schedule.sigmas;
    const sigmaT = sigmas[k];
    const sigmaS0 = sigmas[k - 1];
    const alphaT = f(1 - sigmaT);
    const lambdaS0 = lambdaF32(sigmaS0);
    const h = f(lambdaF32(sigmaT) - lambdaS0);
    const m0 = this.history[1] as Float32Array;
    const { hPhi1, bH, b } = phiTerms(h);

    let rhoD = 0;
    let rhoT = 0.5;
    let rk = 1;
    if (order === 2) {
      rk = f(f(lambdaF32(sigmas[k - 2]) - lambdaS0) / h);
      [rhoD, rhoT] = solve2x2F32([[1, 1], [rk, 1]], b);
    }
    const m1 = this.history[0];
    const ratio = f(sigmaT / sigmaS0);
    const c0 = f(alphaT * hPhi1);
    const cRes = f(alphaT * bH);
    const out = new Float32Array(x0.length);
    for (let i = 0; i < out.length; i++) {
      const base = f(f(ratio * lastSample[i]) - f(c0 * m0[i]));
      const d1t = f(x0[i] - m0[i]);
      let res = f(rhoT * d1t);
      if (order === 2) res = f(f(rhoD * f(f((m1 as Float32Array)[i] - m0[i]) / rk)) + res);
      out[i] = base - f(cRes * res);
    }
    return out;
  }
}
