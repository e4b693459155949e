/**
 * Batch throughput with and without pipelining, measured in one run on the same jobs:
 * videos per minute of a 6-job batch when job N+1's denoising overlaps job N's decode/encode
 * (two lanes) versus one job at a time (one lane).
 *
 *   npx tsx bench/batch-throughput.ts                        # real pipeline (built-in demo model)
 *   npx tsx bench/batch-throughput.ts --pipeline models/x --steps 10 --frames 17 --size 64x64
 *   npx tsx bench/batch-throughput.ts --simulated 2000:1000  # test runner: denoise:finish ms per job
 *
 * Outputs go to bench/out/batch-throughput/ (git-ignored). Lane start-up (model loading) is
 * excluded from the rate: it is reported separately, as it is paid once per batch.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runBatch, type BatchSummary } from '../src/batch/local.js';
import { defaultRunnerSpec } from '../src/batch/runner-module.js';
import type { RunnerSpec } from '../src/batch/types.js';

const JOBS = 6;
const PROMPTS = [
  'a red fox running through snow',
  'a lighthouse at dusk, waves crashing',
  'rain running down a window, city lights behind',
  'a paper boat drifting on a pond',
  'a hot air balloon over green hills',
  'a cat stretching on a sunny windowsill',
];

const { values } = parseArgs({
  options: {
    pipeline: { type: 'string' },
    threads: { type: 'string' },
    steps: { type: 'string', default: '8' },
    frames: { type: 'string', default: '9' },
    size: { type: 'string' },
    simulated: { type: 'string' },
  },
});

function runnerSpec(): RunnerSpec {
  if (values.simulated) {
    const [denoiseMs, finishMs] = values.simulated.split(':').map(Number);
    return { module: new URL('../test/batch/helpers/fast-runner.ts', import.meta.url).href, options: { denoiseMs, finishMs } };
  }
  return defaultRunnerSpec({
    ...(values.pipeline ? { pipeline: values.pipeline } : {}),
    ...(values.threads ? { threads: Number(values.threads) } : {}),
  });
}

function laneBusy(summary: BatchSummary, lane: 'denoise' | 'finish' | 'render'): number {
  return summary.jobs.reduce((sum, j) => {
    const span = j.spans?.[lane];
    return sum + (span ? span[1] - span[0] : 0);
  }, 0);
}

/** Wall time from the first job's start to the last job's end (excludes lane start-up). */
function renderWall(summary: BatchSummary): number {
  const spans = summary.jobs.flatMap((j) => [j.spans?.denoise, j.spans?.finish, j.spans?.render].filter((s): s is [number, number] => s !== undefined));
  return Math.max(...spans.map((s) => s[1])) - Math.min(...spans.map((s) => s[0]));
}

const outRoot = fileURLToPath(new URL('./out/batch-throughput/', import.meta.url));
await rm(outRoot, { recursive: true, force: true });
await mkdir(outRoot, { recursive: true });
const jobsFile = path.join(outRoot, 'jobs.jsonl');
const defaults: Record<string, unknown> = { steps: Number(values.steps), frames: Number(values.frames), format: values.simulated ? 'png' : 'mp4' };
if (values.size) {
  const [width, height] = values.size.split('x').map(Number);
  Object.assign(defaults, { width, height });
}
await writeFile(jobsFile, [JSON.stringify({ defaults }), ...PROMPTS.slice(0, JOBS).map((prompt, i) => JSON.stringify({ prompt, seed: 1000 + i }))].join('\n') + '\n');

const runner = runnerSpec();
const rows: { mode: string; summary: BatchSummary; total: number }[] = [];
for (const pipelined of [false, true]) {
  const mode = pipelined ? 'pipelined (2 lanes)' : 'sequential (1 lane)';
  const t0 = Date.now();
  const summary = await runBatch({ jobsFile, outDir: path.join(outRoot, pipelined ? 'pipelined' : 'sequential'), runner, pipelined });
  if (summary.done !== JOBS) throw new Error(`${mode}: only ${summary.done}/${JOBS} jobs finished: ${summary.jobs.find((j) => j.error)?.error}`);
  rows.push({ mode, summary, total: Date.now() - t0 });
}

console.log(`batch throughput, ${JOBS} jobs, ${values.simulated ? `simulated runner ${values.simulated} ms` : `pipeline ${values.pipeline ?? '(built-in demo)'}`}, ${JSON.stringify(defaults)}`);
console.log('mode                  render s  videos/min  denoise busy s  finish busy s  one-lane busy s  start-up s');
for (const { mode, summary, total } of rows) {
  const wall = renderWall(summary);
  console.log(
    `${mode.padEnd(22)}${(wall / 1000).toFixed(2).padStart(8)}  ${((JOBS * 60_000) / wall).toFixed(2).padStart(10)}  ` +
      `${(laneBusy(summary, 'denoise') / 1000).toFixed(2).padStart(14)}  ${(laneBusy(summary, 'finish') / 1000).toFixed(2).padStart(13)}  ` +
      `${(laneBusy(summary, 'render') / 1000).toFixed(2).padStart(15)}  ${((total - wall) / 1000).toFixed(2).padStart(10)}`,
  );
}
const [sequential, pipelined] = rows.map((r) => renderWall(r.summary));
console.log(`speed-up from pipelining: ${(sequential! / pipelined!).toFixed(2)}x`);
