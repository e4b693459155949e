/**
 * Issue 17, int8/int4 weights: does this onnxruntime run com.microsoft MatMulNBits on CPU, at
 * which bits, how fast against float32 MatMul on the Wan-1.3B projection shapes, and how close.
 *
 *   npm run bench -- matmul-nbits [--rows 1024] [--repeats 5]
 */
import { GraphBuilder } from '../src/onnx/builder.js';
import { matMulNBits, quantizeNBits, type QuantBits } from '../src/onnx/quantize.js';
import { createSession, f32Tensor } from '../src/runtime/session.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const M = arg('rows', 1024);
const REPEATS = arg('repeats', 5);
const threads = arg('threads', 2);

function rand(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * scale;
  }
  return out;
}

async function timeIt(bytes: Uint8Array, x: Float32Array, k: number): Promise<{ ms: number; y: Float32Array }> {
  const session = await createSession(bytes, { intraOpThreads: threads });
  let best = Infinity;
  let y: Float32Array = new Float32Array(0);
  for (let r = 0; r <= REPEATS; r++) {
    const t0 = performance.now();
    const out = await session.run({ x: f32Tensor(x, [M, k]) });
    const ms = performance.now() - t0;
    if (r > 0) best = Math.min(best, ms);
    y = out.y.data as Float32Array;
  }
  await session.release();
  return { ms: best, y };
}

const relL2 = (a: Float32Array, b: Float32Array): number => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
};

const shapes: [string, number, number][] = [['qkvo 1536→1536', 1536, 1536], ['ffn up 1536→8960', 1536, 8960], ['ffn down 8960→1536', 8960, 1536]];
console.log(`MatMulNBits probe: M=${M} rows, ${threads} threads, best of ${REPEATS}`);
const totals: Record<string, number> = {};
for (const [label, k, n] of shapes) {
  const w = rand(n * k, 7, 2 / Math.sqrt(k)); // PyTorch [out, in]
  const x = rand(M * k, 11, 2);
  const wt = new Float32Array(k * n);
  for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) wt[c * n + r] = w[r * k + c];
  const g = new GraphBuilder('f32');
  g.output(g.matMul(g.input('x', 'float32', [M, k]), g.weight('w', [k, n], wt)), 'y', 'float32', [M, n]);
  const ref = await timeIt(g.toBytes(), x, k);
  totals.float32 = (totals.float32 ?? 0) + ref.ms;
  const row = [`${label}: float32 ${ref.ms.toFixed(1)} ms`];
  for (const bits of [8, 4] as QuantBits[]) {
    for (const level of [0, 4]) {
      const key = `int${bits} acc${level}`;
      try {
        const q = quantizeNBits(w, n, k, bits);
        const gq = new GraphBuilder(`q${bits}`);
        gq.output(matMulNBits(gq, gq.input('x', 'float32', [M, k]), 'w', q, { accuracyLevel: level }), 'y', 'float32', [M, n]);
        const r = await timeIt(gq.toBytes(), x, k);
        totals[key] = (totals[key] ?? 0) + r.ms;
        row.push(`${key} ${r.ms.toFixed(1)} ms (×${(ref.ms / r.ms).toFixed(2)}, rel-L2 ${relL2(r.y, ref.y).toExponential(1)})`);
      } catch (e) {
        row.push(`${key} FAILED: ${(e as Error).message.split('\n')[0]}`);
        totals[key] = NaN;
      }
    }
  }
  console.log(row.join('; '));
}
console.log(JSON.stringify({ rows: M, threads, totalsMs: totals }));
