/**
 * `diffsparse generate` with a sparsity budget against dense, as a user runs it: the whole
 * command (a fresh process: start-up, model loading, text encoding, denoising, VAE decoding and
 * encoding) and its denoising wall time (the command's --json timings), alternating dense and
 * sparse runs so machine load hits both alike; medians over --reps repetitions of each.
 *
 *   npm run build && npm run bench -- sparsity-generate-speed --pipeline <definition.json> \
 *       [--budget 0.5] [--method learned] [--schedule FILE] [--reps 5] [--threads 2] [--prompt "a red circle moving right"]
 *
 * --schedule runs that schedule file instead of the one --budget picks.
 *
 * Prints each run, then the medians and the speed-ups (dense / sparse) with the load average.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    pipeline: { type: 'string' },
    budget: { type: 'string', default: '0.5' },
    method: { type: 'string' },
    schedule: { type: 'string' },
    reps: { type: 'string', default: '5' },
    threads: { type: 'string' },
    prompt: { type: 'string', default: 'a red circle moving right' },
    seed: { type: 'string', default: '7' },
    format: { type: 'string', default: 'mp4' },
  },
});
const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const bin = join(root, 'bin', 'diffsparse.js');
const dir = mkdtempSync(join(tmpdir(), 'diffsparse-genspeed-'));
const reps = Number(values.reps);

interface Run { wallMs: number; denoiseMs: number; flopsRatio: number }
function generate(sparse: boolean, i: number): Run {
  const args = [bin, 'generate', values.prompt!, '--seed', values.seed!, '-o', join(dir, `${sparse ? 's' : 'd'}${i}.${values.format}`), '--overwrite', '--json'];
  if (values.pipeline) args.push('--pipeline', values.pipeline);
  if (values.threads) args.push('--threads', values.threads);
  if (sparse) args.push(...(values.schedule ? ['--schedule', values.schedule] : ['--budget', values.budget!, ...(values.method ? ['--method', values.method] : [])]));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`generate failed (${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { timings: { denoiseMs: number }; flopsRatio: number };
  return { wallMs, denoiseMs: out.timings.denoiseMs, flopsRatio: out.flopsRatio };
}
const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const sparseLabel = values.schedule ? `--schedule ${values.schedule}` : `--budget ${values.budget}${values.method ? ` --method ${values.method}` : ''}`;
const load0 = loadavg();
const dense: Run[] = [];
const sparse: Run[] = [];
generate(false, -1); // warm the file cache
for (let i = 0; i < reps; i++) {
  for (const sp of i % 2 ? [true, false] : [false, true]) {
    const r = generate(sp, i);
    (sp ? sparse : dense).push(r);
    console.log(`${sp ? sparseLabel : 'dense'}: command ${(r.wallMs / 1000).toFixed(2)} s, denoising ${(r.denoiseMs / 1000).toFixed(2)} s, FLOPs ${(r.flopsRatio * 100).toFixed(1)}%`);
  }
}
const md = { wall: median(dense.map((r) => r.wallMs)), den: median(dense.map((r) => r.denoiseMs)) };
const ms = { wall: median(sparse.map((r) => r.wallMs)), den: median(sparse.map((r) => r.denoiseMs)) };
console.log(`\n| run | command s (median) | denoising s (median) | FLOPs |`);
console.log('|---|---|---|---|');
console.log(`| dense | ${(md.wall / 1000).toFixed(2)} | ${(md.den / 1000).toFixed(2)} | 100% |`);
console.log(`| ${sparseLabel} | ${(ms.wall / 1000).toFixed(2)} | ${(ms.den / 1000).toFixed(2)} | ${(sparse[0].flopsRatio * 100).toFixed(1)}% |`);
console.log(`\nspeed-up: denoising ${(md.den / ms.den).toFixed(2)}×, whole command ${(md.wall / ms.wall).toFixed(2)}× (FLOPs ideal ${(1 / sparse[0].flopsRatio).toFixed(2)}×); ${reps} repetitions each, alternating; load ${load0.map((l) => l.toFixed(1)).join(' ')} → ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
rmSync(dir, { recursive: true, force: true });
