/**
 * Issue 17: real-dimension memory and time with random weights in the release layouts.
 *
 *   npm run bench -- real-weights --part t5   [--tokens 512] [--layers 24]
 *   npm run bench -- real-weights --part dit13 [--frames 5] [--layers 2]
 *   npm run bench -- real-weights --part dit14 [--frames 1] [--layers 1]
 *   npm run bench -- real-weights --part step13 [--frames 5] [--layers 30] [--dtypes float32,bfloat16,int8] [--dir /work/scratch/x]
 *   npm run bench -- real-weights --part storage [--frames 1] [--layers 4]
 *   npm run bench -- real-weights --part all --small          (CI size: tiny widths)
 *
 * Parts:
 *   t5     writes `models_t5_umt5-xxl-enc-bf16.pth` (umT5-XXL: vocab 256,384, dim 4,096, 64 heads,
 *          FFN 10,240; 11.4 GB at 24 layers) and encodes one prompt of --tokens random ids with the
 *          layered encoder (weights read from the .pth per layer; embedding rows read from the file).
 *   dit13  writes the 1.3B DiT (dim 1,536, 12 heads, FFN 8,960) as bf16 safetensors shards with an
 *          index (--layers blocks, same shapes as the release's 30), converts it to float32 and to
 *          int8 (MatMulNBits), and times one block at 832×480 × --frames frames, float32 vs int8.
 *   dit14  writes the 14B DiT (dim 5,120, 40 heads, FFN 13,824) the same way and runs one block
 *          in low-memory mode (the block's sessions created for its turn and released).
 *   step13 writes the whole 1.3B DiT (all 30 blocks, 2.8 GB bf16), converts it to float32 and
 *          int8 and runs one whole denoising step with guidance (both branches: every block
 *          twice, the head, the time and patch embeddings) at 832×480 × --frames, as the
 *          pipeline's denoiser calls the DiT; the per-prompt work (text embedding, every
 *          layer's context K/V) is timed apart, as a generation does it once.
 *   storage writes the 1.3B DiT with --layers blocks, converts it with --dtype float32, float16
 *          and bfloat16 and runs one pass over every block at 832×480 × --frames in each: RSS
 *          after load, peak RSS, time. float16 files are widened to float32 at load (onnxruntime
 *          folds the casts); bfloat16 stays half in memory (its sessions do not fold them).
 * Every measurement runs in its own child process, so the peak RSS (maxRSS) printed is its own.
 * Files go under --dir (default a temporary folder), deleted at the end unless --keep.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UMT5_XXL, type T5EncoderConfig } from '../src/models/wan/t5/config.js';
import { ditKeyShapes } from '../src/models/wan/dit/keys.js';
import { WAN_DIT_DEFAULTS, type WanDiTConfig } from '../src/models/wan/dit/config.js';
import { t5Tensors, writePth, writeShardedSafetensors, type TensorSpec } from './release-writers.js';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const num = (name: string, fallback: number): number => (flag(name) === undefined ? fallback : Number(flag(name)));
const has = (name: string): boolean => argv.includes(`--${name}`);
const GB = 1024 ** 3;
const self = fileURLToPath(import.meta.url);

interface Measured {
  what: string;
  seconds: number;
  maxRssGB: number;
  [k: string]: unknown;
}

function child(args: string[]): Measured {
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--measure', ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`measurement ${args.join(' ')} failed${r.signal ? ` (killed by ${r.signal}: out of memory?)` : ''}: ${r.stderr.slice(-2000)}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as Measured;
}

const rssGB = (): number => process.resourceUsage().maxRSS / 1024 / 1024;

function ditCheckpoint(dir: string, c: WanDiTConfig): number {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    _class_name: 'WanModel', dim: c.dim, eps: c.eps, ffn_dim: c.ffnDim, freq_dim: c.freqDim, in_dim: c.inDim, model_type: 't2v',
    num_heads: c.numHeads, num_layers: c.numLayers, out_dim: c.outDim, text_len: c.textLen,
  }));
  const tensors: TensorSpec[] = [...ditKeyShapes(c)].map(([name, shape]) => ({ name, shape, std: 1 / Math.sqrt(shape[shape.length - 1] ?? 1), ...(/norm|modulation/.test(name) && shape.length === 1 && { ones: true }) }));
  return writeShardedSafetensors(dir, tensors, 'BF16', 2 * GB);
}

// ---------------------------------------------------------------- measurements (child processes)

async function measureT5(pth: string, cfgJson: string, tokens: number): Promise<Measured> {
  const { openWeights } = await import('../src/weights/index.js');
  const { LayeredT5Encoder } = await import('../src/models/wan/t5/layered.js');
  const cfg = JSON.parse(cfgJson) as T5EncoderConfig;
  const t0 = performance.now();
  const source = await openWeights(pth);
  const enc = await LayeredT5Encoder.open(source, cfg, { ownsSource: true });
  const ids = BigInt64Array.from({ length: tokens }, (_, i) => BigInt(3 + ((i * 7919) % (cfg.vocab - 3))));
  const mask = new BigInt64Array(tokens).fill(1n);
  const t1 = performance.now();
  const out = await enc.run(ids, mask, 1);
  const t2 = performance.now();
  let finite = 0;
  for (const v of out) if (Number.isFinite(v)) finite++;
  await enc.session.release();
  return { what: `umT5 layered encode, ${tokens} tokens, ${cfg.numLayers} layers`, seconds: (t2 - t1) / 1000, openSeconds: (t1 - t0) / 1000, maxRssGB: rssGB(), largestLayerGB: enc.lastRun.largestLayerBytes / GB, finite: finite === out.length };
}

async function measureBlock(modelDir: string, frames: number, lowMemory: boolean): Promise<Measured> {
  const { WanDiT } = await import('../src/models/wan/dit/runtime.js');
  const t0 = performance.now();
  const dit = await WanDiT.load(modelDir, { lowMemory }); // as Pipeline.load does: prepacked weights unless low-memory
  const c = dit.config;
  const grid = { frames: (frames - 1) / 4 + 1, height: 480 / 16, width: 832 / 16 };
  const n = grid.frames * grid.height * grid.width;
  const rand = (len: number): Float32Array => Float32Array.from({ length: len }, (_, i) => Math.sin(i * 12.9898) * 0.5);
  const x = rand(n * c.dim);
  const e0 = rand(6 * c.dim);
  const context = { data: rand(c.textLen * c.textDim), shape: [c.textLen, c.textDim] as [number, number] };
  const text = await dit.prepareText(context);
  const rope = dit.ropeTables({ frames: grid.frames, rows: grid.height, cols: grid.width });
  const t1 = performance.now();
  await dit.block(0, x, e0, rope, text.kv[0]!);
  const t2 = performance.now();
  // a second run: warm (pages faulted in, kernels initialised); in low-memory mode the block is loaded again for it
  if (!lowMemory) await dit.block(1 % c.numLayers, x, e0, rope, text.kv[1 % c.numLayers]!);
  const t3 = performance.now();
  await dit.release();
  return { warmSeconds: lowMemory ? undefined : (t3 - t2) / 1000, what: `one block, ${n} tokens (832x480x${frames}), ${lowMemory ? 'low-memory' : 'standard'}`, seconds: (t2 - t1) / 1000, loadSeconds: (t1 - t0) / 1000, maxRssGB: rssGB(), tokens: n, blockLoads: dit.blockLoads };
}

/** One whole denoising step with guidance (two dense passes over every block), as denoise() calls the DiT. */
async function measureStep(modelDir: string, frames: number, lowMemory: boolean): Promise<Measured> {
  const { WanDiT } = await import('../src/models/wan/dit/runtime.js');
  const t0 = performance.now();
  const dit = await WanDiT.load(modelDir, { lowMemory, ...(lowMemory && { mmapWeights: true }) });
  const c = dit.config;
  const t1 = performance.now();
  const lat = { f: (frames - 1) / 4 + 1, h: 480 / 8, w: 832 / 8 };
  const rand = (len: number, seed: number): Float32Array => Float32Array.from({ length: len }, (_, i) => Math.sin((i + seed) * 12.9898) * 0.5);
  const latent = { data: rand(c.inDim * lat.f * lat.h * lat.w, 1), shape: [c.inDim, lat.f, lat.h, lat.w] as [number, number, number, number] };
  const cond = await dit.prepareText({ data: rand(c.textLen * c.textDim, 2), shape: [c.textLen, c.textDim] });
  const uncond = await dit.prepareText({ data: rand(c.textLen * c.textDim, 3), shape: [c.textLen, c.textDim] });
  // The estimate of this step from probes measured here, right before it (bench/estimate-check.ts does the same for small cases).
  const { measureMatmulSpeed } = await import('../src/pipeline/matmul-speed.js');
  const { measureCallCost, probeShape } = await import('../src/pipeline/call-cost.js');
  const { estimateGeneration } = await import('../src/pipeline/estimate.js');
  const mm = await measureMatmulSpeed(2);
  const cc = await measureCallCost(2, probeShape(lat.f * (lat.h / 2) * (lat.w / 2), c.dim), mm.gflops);
  const sizes = { dit: c, patchFeatures: dit.manifest.tokens.patchFeatures, headFeatures: dit.manifest.tokens.headFeatures, t5: { vocab: 256384, dim: c.textDim, dimAttn: c.textDim, dimFfn: 10240, numHeads: 64, numLayers: 24, numBuckets: 32, textLen: c.textLen, eps: 1e-6 } as never, vae: { dim: 96, zDim: 16, spatialScale: 8, temporalScale: 4 }, ...(dit.manifest.quantized && { quantized: dit.manifest.quantized }), ...(dit.manifest.storageDtype === 'bfloat16' && { bfloat16: true }) };
  const est = estimateGeneration({ sizes, latentShape: latent.shape, steps: 1, guidance: 5 }, { gflops: mm.gflops, callMs: cc.callMs, sessionMs: cc.sessionMs });
  const t2 = performance.now();
  const vc = await dit.forwardWithText(latent, 999, cond);
  const t3 = performance.now();
  const vu = await dit.forwardWithText(latent, 999, uncond);
  const t4 = performance.now();
  let finite = true;
  for (let i = 0; i < vc.data.length; i++) if (!Number.isFinite(vu.data[i]! + 5 * (vc.data[i]! - vu.data[i]!))) finite = false;
  const tokens = lat.f * (lat.h / 2) * (lat.w / 2);
  await dit.release();
  return {
    what: `whole step with guidance (2 passes × ${c.numLayers} blocks), ${tokens} tokens (832x480x${frames}), ${lowMemory ? 'low-memory' : 'standard'}`,
    seconds: (t4 - t2) / 1000, estimatedSeconds: est.seconds!.perStepDense, probes: { gflops: mm.gflops, callMs: cc.callMs, load: loadavg()[0] }, passSeconds: [(t3 - t2) / 1000, (t4 - t3) / 1000], loadSeconds: (t1 - t0) / 1000, textSeconds: (t2 - t1) / 1000,
    maxRssGB: rssGB(), tokens, blockLoads: dit.blockLoads, finite,
  };
}

/** One dense pass over every block (standard mode): RSS after load, peak RSS, time. */
async function measurePass(modelDir: string, frames: number, keepArenas: boolean): Promise<Measured> {
  const { WanDiT } = await import('../src/models/wan/dit/runtime.js');
  const t0 = performance.now();
  const dit = await WanDiT.load(modelDir, { keepArenas });
  const loadedRss = process.memoryUsage().rss / GB;
  const c = dit.config;
  const lat = { f: (frames - 1) / 4 + 1, h: 480 / 8, w: 832 / 8 };
  const rand = (len: number, seed: number): Float32Array => Float32Array.from({ length: len }, (_, i) => Math.sin((i + seed) * 12.9898) * 0.5);
  const latent = { data: rand(c.inDim * lat.f * lat.h * lat.w, 1), shape: [c.inDim, lat.f, lat.h, lat.w] as [number, number, number, number] };
  const text = await dit.prepareText({ data: rand(c.textLen * c.textDim, 2), shape: [c.textLen, c.textDim] });
  const t1 = performance.now();
  const v = await dit.forwardWithText(latent, 999, text);
  const t2 = performance.now();
  let sum = 0;
  for (const x of v.data) sum += x * x;
  await dit.release();
  return { what: `one pass over ${c.numLayers} blocks, ${lat.f * (lat.h / 2) * (lat.w / 2)} tokens`, seconds: (t2 - t1) / 1000, loadSeconds: (t1 - t0) / 1000, rssAfterLoadGB: loadedRss, maxRssGB: rssGB(), rms: Math.sqrt(sum / v.data.length) };
}

// ---------------------------------------------------------------- driver

async function main(): Promise<void> {
  if (has('measure')) {
    const kind = argv[argv.indexOf('--measure') + 1];
    const rest = argv.slice(argv.indexOf('--measure') + 2);
    const r = kind === 't5' ? await measureT5(rest[0]!, rest[1]!, Number(rest[2])) : kind === 'pass' ? await measurePass(rest[0]!, Number(rest[1]), rest[2] === 'arenas') : kind === 'step' ? await measureStep(rest[0]!, Number(rest[1]), rest[2] === 'low') : await measureBlock(rest[0]!, Number(rest[1]), rest[2] === 'low');
    console.log(JSON.stringify(r));
    return;
  }
  const part = flag('part') ?? 'all';
  const small = has('small');
  const dir = flag('dir') ?? mkdtempSync(join(tmpdir(), 'ds-real-'));
  mkdirSync(dir, { recursive: true });
  const results: Measured[] = [];
  const say = (m: string): void => console.error(`[real-weights] ${m}`);
  try {
    if (part === 't5' || part === 'all') {
      const cfg: T5EncoderConfig = small ? { ...UMT5_XXL, vocab: 1000, dim: 64, dimAttn: 64, dimFfn: 160, numHeads: 4, numLayers: 2 } : { ...UMT5_XXL, numLayers: num('layers', UMT5_XXL.numLayers) };
      const pth = join(dir, 'models_t5_umt5-xxl-enc-bf16.pth');
      let t = performance.now();
      const bytes = writePth(pth, t5Tensors(cfg));
      say(`wrote ${pth}: ${(bytes / GB).toFixed(2)} GB in ${((performance.now() - t) / 1000).toFixed(0)} s`);
      const m = child(['t5', pth, JSON.stringify(cfg), String(num('tokens', small ? 32 : 512))]);
      results.push({ ...m, fileGB: bytes / GB });
      say(JSON.stringify(m));
      rmSync(pth, { force: true });
      t = performance.now();
    }
    if (part === 'storage') {
      const cfg = small ? { ...WAN_DIT_DEFAULTS, modelType: 't2v' as const, dim: 128, ffnDim: 256, numHeads: 2, numLayers: 2 } : { ...WAN_DIT_DEFAULTS, modelType: 't2v' as const, dim: 1536, ffnDim: 8960, numHeads: 12, numLayers: num('layers', 4) };
      const ckpt = join(dir, 'dit-storage');
      const bytes = ditCheckpoint(ckpt, cfg);
      say(`wrote the 1.3B-dims checkpoint with ${cfg.numLayers} blocks: ${(bytes / GB).toFixed(2)} GB`);
      const { convertCheckpoint } = await import('../src/convert/dit.js');
      for (const dtype of ['float32', 'float16', 'bfloat16'] as const) {
        const out = join(dir, `conv-${dtype}`);
        await convertCheckpoint(ckpt, out, { dtype });
        // float32 also with every stage session keeping its memory arena (the behaviour before issue 17's fix)
        for (const arenas of dtype === 'float32' ? [false, true] : [false]) {
          const m = child(['pass', out, String(num('frames', 1)), arenas ? 'arenas' : 'free']);
          results.push({ ...m, what: `1.3B dims, ${m.what}, stored ${dtype}${arenas ? ', arenas kept' : ''}` });
          say(JSON.stringify({ ...m, dtype, arenas }));
        }
        rmSync(out, { recursive: true, force: true });
      }
      rmSync(ckpt, { recursive: true, force: true });
    }
    const ditParts: [string, WanDiTConfig, number][] = [];
    const wan = (dim: number, ffnDim: number, numHeads: number, numLayers: number): WanDiTConfig => ({ ...WAN_DIT_DEFAULTS, modelType: 't2v', dim, ffnDim, numHeads, numLayers });
    if (part === 'dit13' || part === 'all') ditParts.push(['1.3B', small ? wan(128, 256, 2, 2) : wan(1536, 8960, 12, num('layers', 2)), num('frames', 5)]);
    if (part === 'step13') ditParts.push(['1.3B-step', small ? wan(128, 256, 2, 2) : wan(1536, 8960, 12, num('layers', 30)), num('frames', 5)]);
    if (part === 'dit14' || part === 'all') ditParts.push(['14B', small ? wan(160, 320, 2, 1) : wan(5120, 13824, 40, num('layers', 1)), num('frames', 1)]);
    for (const [label, cfg, frames] of ditParts) {
      const ckpt = join(dir, `dit-${label}`);
      let t = performance.now();
      const bytes = ditCheckpoint(ckpt, cfg);
      say(`wrote ${label} checkpoint (${cfg.numLayers} of the release's blocks): ${(bytes / GB).toFixed(2)} GB in ${((performance.now() - t) / 1000).toFixed(0)} s`);
      const { convertCheckpoint } = await import('../src/convert/dit.js');
      const f32 = join(dir, `conv-${label}-f32`);
      t = performance.now();
      await convertCheckpoint(ckpt, f32, {});
      say(`converted ${label} to float32 in ${((performance.now() - t) / 1000).toFixed(0)} s`);
      const int8 = join(dir, `conv-${label}-int8`);
      if (label.startsWith('1.3B')) {
        t = performance.now();
        await convertCheckpoint(ckpt, int8, { quantize: 'int8' });
        say(`converted ${label} to int8 in ${((performance.now() - t) / 1000).toFixed(0)} s`);
      }
      const bf16 = join(dir, `conv-${label}-bf16`);
      if (label === '1.3B-step') {
        t = performance.now();
        await convertCheckpoint(ckpt, bf16, { dtype: 'bfloat16' });
        say(`converted ${label} to bfloat16 in ${((performance.now() - t) / 1000).toFixed(0)} s`);
      }
      rmSync(ckpt, { recursive: true, force: true }); // the converted folders are enough now
      if (label === '1.3B-step') {
        const only = (flag('dtypes') ?? 'float32,bfloat16,int8').split(',');
        for (const [folder, dtype] of ([[f32, 'float32'], [bf16, 'bfloat16'], [int8, 'int8']] as const).filter(([, d]) => only.includes(d))) {
          const m = child(['step', folder, String(frames), has('low-memory') ? 'low' : 'std']);
          results.push({ ...m, what: `${label} ${m.what}, ${dtype}` });
          say(JSON.stringify({ ...m, dtype }));
        }
        rmSync(int8, { recursive: true, force: true });
        rmSync(bf16, { recursive: true, force: true });
      } else if (label === '1.3B') {
        const a = child(['block', f32, String(frames), 'std']);
        const b = child(['block', int8, String(frames), 'std']);
        results.push({ ...a, what: `${label} ${a.what}, float32` }, { ...b, what: `${label} ${b.what}, int8`, speedup: a.seconds / b.seconds, warmSpeedup: Number(a.warmSeconds) / Number(b.warmSeconds) });
        say(JSON.stringify(a));
        say(JSON.stringify(b));
        rmSync(int8, { recursive: true, force: true });
      } else {
        const m = child(['block', f32, String(frames), 'low']);
        results.push({ ...m, what: `${label} ${m.what}` });
        say(JSON.stringify(m));
      }
      rmSync(f32, { recursive: true, force: true });
    }
  } finally {
    if (!has('keep')) rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ part, small, results }, null, 2));
}

await main();
