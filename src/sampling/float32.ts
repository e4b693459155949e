/**
 * Scalar float32 arithmetic as PyTorch does it on 0-d float32 tensors. The official solvers
 * compute every coefficient (log-SNR, step size, phi functions) on float32 sigmas, so
 * rounding after each operation is what keeps our steps within float32 noise of theirs.
 */
const f = Math.fround;

/** log(x) rounded to float32; log(0) = -Infinity, like torch. */
export function logF32(x: number): number {
  return f(Math.log(x));
}

export function expF32(x: number): number {
  return f(Math.exp(x));
}

export function expm1F32(x: number): number {
  return f(Math.expm1(x));
}

/** Flow-matching log-SNR, lambda(sigma) = log(1 - sigma) - log(sigma), with alpha = 1 - sigma. */
export function lambdaF32(sigma: number): number {
  return f(logF32(f(1 - sigma)) - logF32(sigma));
}

/**
 * Solves a 2x2 float32 system the way LAPACK's sgesv does (LU with partial pivoting, the pivot
 * column scaled by a reciprocal, back substitution by division), for the UniC coefficients.
 */
export function solve2x2F32(a: [[number, number], [number, number]], b: [number, number]): [number, number] {
  let [[a11, a12], [a21, a22]] = a;
  let [b1, b2] = b;
  if (Math.abs(a21) > Math.abs(a11)) {
    [a11, a21] = [a21, a11];
    [a12, a22] = [a22, a12];
    [b1, b2] = [b2, b1];
  }
  const l = f(a21 * f(1 / a11));
  const u22 = f(a22 - f(l * a12));
  const y2 = f(b2 - f(l * b1));
  const x2 = f(y2 / u22);
  const x1 = f(f(b1 - f(x2 * a12)) / a11);
  return [x1, x2];
}
