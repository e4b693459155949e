/**
 * This machine's float32 matmul speed, measured once with onnxruntime (the same kernels the
 * DiT runs) and cached, so time estimates (estimate.ts) cost nothing after the first call.
 *
 * The probe is a (1024 × 1536)·(1536 × 1536) MatMul, the shape of a Wan-1.3B projection on a
 * 1024-token chunk: about 40 ms a run on a 2-core AVX2 CPU. The best of a few runs is kept.
 * The cache lives in `$DIFFSPARSE_CACHE_DIR` (default `~/.cache/diffsparse`), keyed by CPU
 * model, core count and thread count; a cache that cannot be written is ignored. A probe run
 * while the machine was busy is kept: delete the file to measure again, or set
 * `DIFFSPARSE_GFLOPS` to use a fixed speed.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../onnx/builder.js';
import { createSession, f32Tensor } from '../runtime/session.js';

export interface MatmulSpeed {
  /** Sustained float32 GFLOP/s of one onnxruntime session with `threads` intra-op threads. */
  gflops: number;
  threads: number;
  cpu: string;
  /** 'measured' just now, 'cached' from an earlier measurement, 'env' from DIFFSPARSE_GFLOPS. */
  source: 'measured' | 'cached' | 'env';
  measuredAt: string;
}

const N = 1024;
const D = 1536;

function cacheDir(): string {
  return process.env.DIFFSPARSE_CACHE_DIR ?? join(homedir(), '.cache', 'diffsparse');
}

/** The key a probe's result is cached under: CPU model, core count and thread count. */
export function machineKey(threads: number): string {
  const c = cpus();
  return `${c[0]?.model ?? 'unknown cpu'}|${c.length} cores|${threads} threads`;
}

function readCache<T>(file: string): Record<string, T> {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return raw && typeof raw === 'object' ? (raw as Record<string, T>) : {};
  } catch {
    return {};
  }
}

/**
 * A probe's result for this machine and thread count (and `subKey`, e.g. a probe shape) from
 * `$DIFFSPARSE_CACHE_DIR/<fileName>`, measuring (and caching) it the first time or on `refresh`.
 * `valid` rejects a damaged entry.
 */
export async function cachedProbe<T extends { source: string }>(fileName: string, threads: number, measure: () => Promise<T>, valid: (hit: Omit<T, 'source'>) => boolean, refresh = false, subKey?: string): Promise<T> {
  const file = join(cacheDir(), fileName);
  const key = subKey ? `${machineKey(threads)}|${subKey}` : machineKey(threads);
  const cache = readCache<Omit<T, 'source'>>(file);
  const hit = cache[key];
  if (!refresh && hit && typeof hit === 'object' && valid(hit)) return { ...hit, source: 'cached' } as T;
  const result = await measure();
  try {
    mkdirSync(join(file, '..'), { recursive: true });
    const { source: _source, ...stored } = result;
    writeFileSync(`${file}.tmp`, `${JSON.stringify({ ...cache, [key]: stored }, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  } catch {
    // a read-only home is no reason to fail an estimate
  }
  return result;
}

/** Runs the probe now (about 0.5 s) without touching the cache. */
export async function measureMatmulSpeed(threads = 2, repeats = 4): Promise<MatmulSpeed> {
  const g = new GraphBuilder('matmul_probe');
  const x = g.input('x', 'float32', [N, D]);
  const w = new Float32Array(D * D);
  for (let i = 0; i < w.length; i++) w[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  g.output(g.matMul(x, g.weight('w', [D, D], w)), 'y', 'float32', [N, D]);
  const session = await createSession(g.toBytes(), { intraOpThreads: threads });
  try {
    const input = new Float32Array(N * D).fill(0.25);
    let best = Infinity;
    for (let r = 0; r <= repeats; r++) {
      const t0 = performance.now();
      const out = await session.run({ x: f32Tensor(input, [N, D]) });
      const ms = performance.now() - t0;
      for (const t of Object.values(out)) t.dispose();
      if (r > 0) best = Math.min(best, ms); // the first run warms up
    }
    const gflops = (2 * N * D * D) / (best / 1000) / 1e9;
    return { gflops, threads, cpu: cpus()[0]?.model ?? 'unknown cpu', source: 'measured', measuredAt: new Date().toISOString() };
  } finally {
    await session.release();
  }
}

/** The cached speed for this machine and thread count, measuring (and caching) it the first time. */
export async function matmulSpeed(threads = 2, options: { refresh?: boolean } = {}): Promise<MatmulSpeed> {
  // A fixed speed (reproducible estimates, or a machine whose probe ran while it was busy).
  const fixed = Number(process.env.DIFFSPARSE_GFLOPS);
  if (fixed > 0) return { gflops: fixed, threads, cpu: cpus()[0]?.model ?? 'unknown cpu', source: 'env', measuredAt: new Date().toISOString() };
  return cachedProbe('matmul-speed.json', threads, () => measureMatmulSpeed(threads), (hit) => typeof hit.gflops === 'number' && hit.gflops > 0, options.refresh);
}
