/**
 * This machine's fixed cost of one onnxruntime call and of creating a session (issue 17): what a
 * small model pays beyond its FLOPs. The demo DiT makes about 600 calls per generation on
 * [48, 96] matrices: their FLOPs take milliseconds, the calls take seconds on a busy CPU. Each
 * session has its own intra-op threads, which sleep between that session's turns; a call wakes
 * them, and when other processes hold the cores every wake-up waits for a time slice.
 *
 * The probe creates 16 sessions of a 14-node graph (a DiT stage's kind: a matmul and elementwise
 * nodes, parallelised over the intra-op threads) on [rows, width] tensors, by default the model's
 * tokens and width up to 512 × 256, and runs them in turn, as a generation goes round its stage
 * sessions, with a little JavaScript between calls. The per-call cost is the loop's wall time
 * over its calls (a mean, not a median: a run pays every stall), less the probe's matmul FLOPs at
 * the measured matmul speed. On a busy machine it grows with the tensors (every parallel section
 * can stall): 3.5 ms at [48, 128] and 12 ms at [320, 96] at load 22 on the 2-core VM, hence the
 * shape. About 0.1 s on an idle 2-core VM; about 2 s on a busy one. Cached like the matmul probe
 * (matmul-speed.ts) in `call-cost.json`, per shape; `DIFFSPARSE_CALL_COST=call,session`
 * (milliseconds, e.g. `0.2,10`) fixes it.
 */
import { cpus } from 'node:os';
import { GraphBuilder } from '../onnx/builder.js';
import { createSession, f32Tensor, type Session } from '../runtime/session.js';
import { cachedProbe } from './matmul-speed.js';

export interface CallCost {
  /** Milliseconds of one `session.run` beyond its FLOPs (the await, the thread wake-ups, the copies, the JavaScript around it). */
  callMs: number;
  /** Milliseconds to create one session, beyond reading its weights. */
  sessionMs: number;
  /** The probe tensors' shape. */
  rows: number;
  width: number;
  threads: number;
  cpu: string;
  /** 'measured' just now, 'cached' from an earlier measurement, 'env' from DIFFSPARSE_CALL_COST. */
  source: 'measured' | 'cached' | 'env';
  measuredAt: string;
}

const NODES = 14;
const SESSIONS = 16;
/** The largest probe tensors: beyond them a call's FLOPs dominate its fixed cost. */
export const MAX_PROBE_ROWS = 512;
export const MAX_PROBE_WIDTH = 256;

/** The probe shape for a model: its tokens and width, clamped to [16, 512] × [32, 256]. */
export function probeShape(tokens: number, width: number): { rows: number; width: number } {
  return { rows: Math.round(Math.min(MAX_PROBE_ROWS, Math.max(16, tokens))), width: Math.round(Math.min(MAX_PROBE_WIDTH, Math.max(32, width))) };
}

function probeGraph(rows: number, width: number): Uint8Array {
  const g = new GraphBuilder('call_probe');
  const x = g.input('x', 'float32', [rows, width]);
  const w = new Float32Array(width * width);
  for (let i = 0; i < w.length; i++) w[i] = ((i * 2654435761) % 1000) / (1000 * width) - 0.5 / width;
  let y = g.matMul(x, g.weight('w', [width, width], w));
  for (let i = 1; i < NODES; i++) y = i % 2 ? g.tanh(y) : g.add(y, x);
  g.output(y, 'y', 'float32', [rows, width]);
  return g.toBytes();
}

/**
 * Runs the probe now without touching the cache on [rows, width] tensors; `gflops` (the matmul
 * speed) takes the probe's own matmul out; `budgetMs` bounds its timed rounds on a very busy machine.
 */
export async function measureCallCost(threads = 2, shape = { rows: 48, width: 128 }, gflops = Infinity, rounds = 10, budgetMs = 1500): Promise<CallCost> {
  const ROWS = shape.rows;
  const WIDTH = shape.width;
  const model = probeGraph(ROWS, WIDTH);
  const sessions: Session[] = [];
  try {
    sessions.push(await createSession(model, { intraOpThreads: threads })); // the first creation also starts onnxruntime: not counted
    const t0 = performance.now();
    for (let i = 1; i < SESSIONS; i++) sessions.push(await createSession(model, { intraOpThreads: threads }));
    const sessionMs = (performance.now() - t0) / (SESSIONS - 1);
    const input = new Float32Array(ROWS * WIDTH).fill(0.25);
    let sink = 0;
    const call = async (s: Session): Promise<void> => {
      const out = await s.run({ x: f32Tensor(input, [ROWS, WIDTH]) });
      for (const v of Object.values(out)) {
        sink += (v.data as Float32Array)[0]!;
        v.dispose();
      }
      for (let j = 0; j < 4 * WIDTH; j++) sink += input[j]!; // the JavaScript between two calls
    };
    for (const s of sessions) await call(s); // warm-up round
    let calls = 0;
    const start = performance.now();
    for (let r = 0; r < rounds && (r < 2 || performance.now() - start < budgetMs); r++) for (const s of sessions) {
      await call(s);
      calls++;
    }
    const perCall = Math.max(0.001, (performance.now() - start) / calls - (2 * ROWS * WIDTH * WIDTH) / (gflops * 1e6));
    if (!Number.isFinite(sink)) throw new Error('call probe produced a non-finite value');
    return { callMs: perCall, sessionMs, rows: ROWS, width: WIDTH, threads, cpu: cpus()[0]?.model ?? 'unknown cpu', source: 'measured', measuredAt: new Date().toISOString() };
  } finally {
    for (const s of sessions) await s.release();
  }
}

/** Parses `DIFFSPARSE_CALL_COST` ("call,session" in milliseconds); undefined when unset or malformed. */
export function callCostFromEnv(value = process.env.DIFFSPARSE_CALL_COST, threads = 2, shape = { rows: 0, width: 0 }): CallCost | undefined {
  if (!value) return undefined;
  const parts = value.split(',').map((v) => Number(v.trim()));
  if (parts.length !== 2 || parts.some((v) => !Number.isFinite(v) || v < 0)) return undefined;
  const [callMs, sessionMs] = parts as [number, number];
  return { callMs, sessionMs, ...shape, threads, cpu: cpus()[0]?.model ?? 'unknown cpu', source: 'env', measuredAt: new Date().toISOString() };
}

/**
 * The cached call cost for this machine, thread count and a model's probe shape (`probeShape`),
 * measuring (and caching) it the first time; `gflops` is the matmul speed the probe's own matmul is taken out at.
 */
export async function callCost(threads = 2, shape = { rows: 48, width: 128 }, gflops = Infinity, options: { refresh?: boolean } = {}): Promise<CallCost> {
  const fixed = callCostFromEnv(process.env.DIFFSPARSE_CALL_COST, threads, shape);
  if (fixed) return fixed;
  return cachedProbe(
    'call-cost.json', threads, () => measureCallCost(threads, shape, gflops),
    (hit) => [hit.callMs, hit.sessionMs].every((v) => typeof v === 'number' && v >= 0), options.refresh, `${shape.rows}x${shape.width}`,
  );
}
