/**
 * The timestep sinusoid Wan feeds its time MLP: [cos(t·ω_k), sin(t·ω_k)] with
 * ω_k = 10000^(−k/half), computed in float64 (as the official code does) and then
 * rounded to float32. Cos comes first.
 */
export function timestepSinusoid(timestep: number, freqDim: number): Float32Array {
  const half = freqDim / 2;
  const out = new Float32Array(freqDim);
  for (let k = 0; k < half; k++) {
    const angle = timestep * Math.pow(10000, -k / half);
    out[k] = Math.cos(angle);
    out[half + k] = Math.sin(angle);
  }
  return out;
}
