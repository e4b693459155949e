/**
 * Dense DiT throughput and block memory on a mid-size random Wan config.
 *   npx tsx bench/dit-forward.ts [--forwards 2] [--skip-memory] [--skip-forward]
 * Writes a random checkpoint (dim 1024, 16 heads, 8 layers, FFN 4096, text_len 512),
 * converts it, times dense forward passes on a 16×9×32×32 latent (2304 tokens) and prints
 * the achieved GFLOP/s next to a plain large MatMul's GFLOP/s measured in the same run.
 * Then measures one block's peak RSS at 4k/16k/32k tokens, each in a fresh process.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertCheckpoint } from '../src/convert/index.js';
import { parseWanDiTConfig } from '../src/models/wan/dit/config.js';
import type { DiTManifest } from '../src/models/wan/dit/manifest.js';
import { WanDiT } from '../src/models/wan/dit/runtime.js';
import { GraphBuilder } from '../src/onnx/builder.js';
import { createSession, f32Tensor } from '../src/runtime/session.js';
import { blockFlops, MID_CONFIG_JSON, normalRng, writeRandomCheckpoint } from './dit-common.js';

const args = process.argv.slice(2);
const forwards = Number(args[args.indexOf('--forwards') + 1] || 2) || 2;
const skipMemory = args.includes('--skip-memory');
const skipForward = args.includes('--skip-forward');
const config = parseWanDiTConfig(MID_CONFIG_JSON);
const D = config.dim;
const tmp = mkdtempSync(join(tmpdir(), 'diffsparse-dit-bench-'));
const gf = (flops: number, seconds: number): string => (flops / seconds / 1e9).toFixed(1);

async function matmulGflops(m: number, k: number, n: number): Promise<{ seconds: number; gflops: string }> {
  const g = new GraphBuilder('matmul');
  const rng = normalRng(3);
  const a = g.input('a', 'float32', [1, 'm', k]);
  g.output(g.matMul(a, g.weight('b', [k, n], Float32Array.from({ length: k * n }, rng))), 'c', 'float32', [1, 'm', n]);
  const s = await createSession(g.toBytes());
  const input = f32Tensor(Float32Array.from({ length: m * k }, rng), [1, m, k]);
  await s.run({ a: input });
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await s.run({ a: input });
    times.push((performance.now() - t) / 1000);
  }
  await s.release();
  const median = times.sort((x, y) => x - y)[2];
  return { seconds: median, gflops: gf(2 * m * k * n, median) };
}

try {
  console.log(`config: dim ${D}, heads ${config.numHeads}, layers ${config.numLayers}, ffn ${config.ffnDim}, text_len ${config.textLen}, text_dim ${config.textDim}`);
  let t = performance.now();
  const ckpt = join(tmp, 'checkpoint');
  writeRandomCheckpoint(ckpt, config, MID_CONFIG_JSON);
  console.log(`random checkpoint written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  const modelDir = join(tmp, 'model');
  const manifest = await convertCheckpoint(ckpt, modelDir);
  console.log(`converted ${manifest.source.parameters.toLocaleString('en')} parameters into ${Object.keys(manifest.stages).length} stages in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  rmSync(ckpt, { recursive: true });

  if (!skipForward) await forwardBenchmark(modelDir, manifest);
  if (!skipMemory) memoryBenchmark(modelDir);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

async function forwardBenchmark(modelDir: string, manifest: DiTManifest): Promise<void> {
  let t = performance.now();
  const dit = await WanDiT.load(modelDir);
  console.log(`sessions created in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const rng = normalRng(11);
  const latent = { data: Float32Array.from({ length: 16 * 9 * 32 * 32 }, rng), shape: [16, 9, 32, 32] as [number, number, number, number] };
  const context = { data: Float32Array.from({ length: 20 * config.textDim }, rng), shape: [20, config.textDim] as [number, number] };
  const grid = dit.grid(latent);
  const N = grid.frames * grid.rows * grid.cols;

  t = performance.now();
  const text = await dit.prepareText(context);
  const promptSeconds = (performance.now() - t) / 1000;
  const promptFlops = 2 * config.textLen * (config.textDim * D + D * D) + config.numLayers * 4 * config.textLen * D * D;
  console.log(`per-prompt text embedding + ${config.numLayers} layers of context K/V: ${promptSeconds.toFixed(2)} s (${gf(promptFlops, promptSeconds)} GFLOP/s)`);

  const block = blockFlops(N, D, config.ffnDim, config.textLen);
  const outerFlops = 2 * N * D * (manifest.tokens.patchFeatures + manifest.tokens.headFeatures);
  const forwardFlops = config.numLayers * block.total + outerFlops;
  console.log(`tokens ${N} (grid ${grid.frames}×${grid.rows}×${grid.cols}); FLOPs per forward ${(forwardFlops / 1e9).toFixed(1)} G ` +
    `(per block ${(block.total / 1e9).toFixed(1)} G: self-attn ${(block.selfAttn / 1e9).toFixed(1)} of which QKᵀ/AV ${(block.attnMatmuls / 1e9).toFixed(1)}, cross ${(block.crossAttn / 1e9).toFixed(1)}, FFN ${(block.ffn / 1e9).toFixed(1)})`);

  const mm = await matmulGflops(N, D, config.ffnDim);
  console.log(`plain MatMul [${N}×${D}]·[${D}×${config.ffnDim}] in ORT: ${(mm.seconds * 1000).toFixed(0)} ms, ${mm.gflops} GFLOP/s (median of 5)`);

  // the MatMul is measured again after each forward: on a shared machine the available
  // CPU drifts, and each forward is compared with the MatMul measured next to it
  const seconds: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i <= forwards; i++) {
    t = performance.now();
    await dit.forwardWithText(latent, 900 - i, text);
    seconds.push((performance.now() - t) / 1000);
    const after = await matmulGflops(N, D, config.ffnDim);
    const achieved = forwardFlops / seconds[i] / 1e9;
    if (i > 0) ratios.push(achieved / Number(after.gflops));
    console.log(`forward ${i === 0 ? '(warm-up)' : i}: ${seconds[i].toFixed(2)} s, ${achieved.toFixed(1)} GFLOP/s; MatMul right after: ${after.gflops} GFLOP/s`);
  }

  // one more pass by stages, to split attention from the projections
  const { e0 } = await dit.embedTime(500);
  const rope = dit.ropeTables(grid);
  let x = await dit.embedPatches(dit.patchify(latent).patches);
  let attnSeconds = 0;
  let restSeconds = 0;
  for (let l = 0; l < config.numLayers; l++) {
    let s = performance.now();
    const { q, k, v } = await dit.selfAttnQKV(l, x, e0, rope);
    restSeconds += performance.now() - s;
    s = performance.now();
    const attn = await dit.attention(q, k, v);
    attnSeconds += performance.now() - s;
    s = performance.now();
    x = (await dit.post(l, x, await dit.selfAttnOut(l, attn), e0, text.kv[l])).x;
    restSeconds += performance.now() - s;
  }
  attnSeconds /= 1000;
  restSeconds /= 1000;
  const linearFlops = config.numLayers * (block.total - block.attnMatmuls);
  console.log(`by stage: attention ${attnSeconds.toFixed(2)} s (${gf(config.numLayers * block.attnMatmuls, attnSeconds)} GFLOP/s), ` +
    `projections/cross-attn/FFN ${restSeconds.toFixed(2)} s (${gf(linearFlops, restSeconds)} GFLOP/s)`);
  await dit.release();

  const timed = seconds.slice(1);
  const best = Math.min(...timed);
  console.log(`\nSUMMARY dense forward (${N} tokens): best ${best.toFixed(2)} s = ${gf(forwardFlops, best)} GFLOP/s; plain MatMul ${mm.gflops} GFLOP/s before the runs; ` +
    `forward/MatMul measured side by side: ${ratios.map((r) => `${(r * 100).toFixed(0)}%`).join(', ')}`);

}

function memoryBenchmark(modelDir: string): void {
  const script = fileURLToPath(new URL('./dit-block-memory.ts', import.meta.url));
  console.log('\nblock memory (fresh process each, weights mmapped; peak RSS includes the model pages touched):');
  for (const tokens of [4096, 16384, 32768]) {
    const line = execFileSync(process.execPath, ['--import', 'tsx', script, modelDir, String(tokens)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
    console.log(line);
  }
}
