/**
 * Issue 17: the time estimate against the run it estimates, in one go on one machine state.
 *
 *   npm run bench -- estimate-check [--cases demo,demo128,mid] [--dir /work/scratch/x]
 *
 * Measures the matmul speed and the call cost afresh (not from the cache), then for each case
 * prints the estimate (as `generate --dry-run` computes it) next to the measured run:
 *   demo     `generate` on wan-demo at its defaults (64×64, 9 frames, 20 steps, guidance):
 *            the CLI's wall time from process start to exit, and its own phase timings;
 *   demo128  the same at 128×128, 17 frames (320 tokens);
 *   mid      the mid-size random DiT of bench/dit-forward.ts (dim 1024, 8 layers, 2,304 tokens):
 *            load, the per-prompt work for two prompts and one step with guidance (two passes),
 *            DiT only (the random checkpoint goes under --dir, deleted after);
 *   step13   the estimate only (no run) of what `real-weights --part step13` measures: the 1.3B
 *            DiT's load, the per-prompt work for two prompts and one step with guidance at
 *            832×480 × 5 frames (3,120 tokens), float32, to set beside that benchmark's result.
 * The load average is printed before and after each case: the estimate is only as good as the
 * probes' view of a machine whose load keeps changing.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertCheckpoint } from '../src/convert/index.js';
import { parseWanDiTConfig } from '../src/models/wan/dit/config.js';
import { WanDiT } from '../src/models/wan/dit/runtime.js';
import { measureCallCost, probeShape } from '../src/pipeline/call-cost.js';
import { ditLoadSeconds, estimateGeneration, type MachineSpeed } from '../src/pipeline/estimate.js';
import { measureMatmulSpeed } from '../src/pipeline/matmul-speed.js';
import { preflight, readPipelineSizes } from '../src/pipeline/preflight.js';
import { MID_CONFIG_JSON, normalRng, writeRandomCheckpoint } from './dit-common.js';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : undefined);
const cases = (flag('cases') ?? 'demo,demo128,mid').split(',');
const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const scratch = flag('dir') ?? mkdtempSync(join(tmpdir(), 'ds-estimate-check-'));
mkdirSync(scratch, { recursive: true });
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
const sec = (s: number): string => `${s.toFixed(2)} s`;

async function probes(tokens: number, width: number): Promise<MachineSpeed> {
  const mm = await measureMatmulSpeed(2);
  const cc = await measureCallCost(2, probeShape(tokens, width), mm.gflops);
  console.log(`probes (load ${load()}): ${mm.gflops.toFixed(0)} GFLOP/s, ${cc.callMs.toFixed(2)} ms per call at [${cc.rows}, ${cc.width}], ${cc.sessionMs.toFixed(1)} ms per session`);
  return { gflops: mm.gflops, callMs: cc.callMs, sessionMs: cc.sessionMs };
}

interface Row { name: string; estimate: number; actual: number; loadBefore: string; loadAfter: string; detail: string }
const rows: Row[] = [];

async function generateCase(name: string, extra: string[], speed: MachineSpeed): Promise<void> {
  const out = join(scratch, `${name}.mp4`);
  const request = { prompt: 'a red circle moving right', seed: 1, output: out, ...(extra.length && { width: Number(extra[0]), height: Number(extra[1]), frames: Number(extra[2]) }) };
  const p = await preflight('wan-demo', request, { speed });
  const s = p.estimate.seconds!;
  const loadBefore = load();
  const args = [join(ROOT, 'bin/diffsparse.js'), 'generate', request.prompt, '--seed', '1', '-o', out, '--overwrite', '--json', ...(extra.length ? ['--size', `${extra[0]}x${extra[1]}`, '--frames', extra[2]!] : [])];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const actual = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`generate failed: ${r.stderr}`);
  const t = (JSON.parse(r.stdout) as { timings: { textMs: number; denoiseMs: number; decodeEncodeMs: number } }).timings;
  const rest = actual - (t.textMs + t.denoiseMs + t.decodeEncodeMs) / 1000;
  rows.push({
    name: `${name} (${p.request.width}x${p.request.height}x${p.request.frames}, ${p.estimate.tokens} tokens)`, estimate: s.totalDense, actual, loadBefore, loadAfter: load(),
    detail: `estimate: load ${sec(s.load)}, text ${sec(s.text)}, denoise ${sec(s.denoiseDense)} (${p.estimate.calls.perStepDense} calls/step), VAE ${sec(s.vae)}, encode ${sec(s.encode)}; ` +
      `run: start+load ${sec(rest)}, text ${sec(t.textMs / 1000)}, denoise ${sec(t.denoiseMs / 1000)}, decode+encode ${sec(t.decodeEncodeMs / 1000)}`,
  });
}

function step13Estimate(speed: MachineSpeed): void {
  const demo = readPipelineSizes('wan-demo').sizes;
  const config = parseWanDiTConfig({ ...MID_CONFIG_JSON, dim: 1536, ffn_dim: 8960, num_heads: 12, num_layers: 30 });
  const sizes = { ...demo, dit: config, patchFeatures: 64, headFeatures: 64 };
  const e = estimateGeneration({ sizes, latentShape: [16, 2, 60, 104], steps: 1, guidance: 5 }, speed);
  const s = e.seconds!;
  console.log(`1.3B step estimate (${e.tokens} tokens): load ${sec(ditLoadSeconds(sizes, speed))}, 2 prompts + 1 step ${sec(s.denoiseDense)} of which the step ${sec(s.perStepDense)} (${e.calls.perStepDense} calls); compare with real-weights --part step13`);
}

async function midCase(speed: MachineSpeed): Promise<void> {
  const config = parseWanDiTConfig(MID_CONFIG_JSON);
  const ckpt = join(scratch, 'mid-checkpoint');
  const modelDir = join(scratch, 'mid-model');
  writeRandomCheckpoint(ckpt, config, MID_CONFIG_JSON);
  const manifest = await convertCheckpoint(ckpt, modelDir);
  rmSync(ckpt, { recursive: true, force: true });
  const demo = readPipelineSizes('wan-demo').sizes;
  const sizes = { ...demo, dit: config, patchFeatures: manifest.tokens.patchFeatures, headFeatures: manifest.tokens.headFeatures };
  const latentShape = [16, 9, 32, 32];
  const e = estimateGeneration({ sizes, latentShape, steps: 1, guidance: 5 }, speed);
  const estimate = ditLoadSeconds(sizes, speed) + e.seconds!.denoiseDense; // per-prompt work for both branches and one step
  const loadBefore = load();
  const t0 = performance.now();
  const dit = await WanDiT.load(modelDir);
  const t1 = performance.now();
  const rng = normalRng(11);
  const latent = { data: Float32Array.from({ length: 16 * 9 * 32 * 32 }, rng), shape: [16, 9, 32, 32] as [number, number, number, number] };
  const ctx = (): { data: Float32Array; shape: [number, number] } => ({ data: Float32Array.from({ length: 20 * config.textDim }, rng), shape: [20, config.textDim] });
  const cond = await dit.prepareText(ctx());
  const uncond = await dit.prepareText(ctx());
  const t2 = performance.now();
  await dit.forwardWithText(latent, 999, cond);
  await dit.forwardWithText(latent, 999, uncond);
  const t3 = performance.now();
  await dit.release();
  rmSync(modelDir, { recursive: true, force: true });
  rows.push({
    name: `mid DiT (dim 1024, 8 layers, ${e.tokens} tokens): load, 2 prompts, 1 step with guidance`, estimate, actual: (t3 - t0) / 1000, loadBefore, loadAfter: load(),
    detail: `estimate: load ${sec(ditLoadSeconds(sizes, speed))}, prompts+step ${sec(e.seconds!.denoiseDense)} (${e.calls.perStepDense} calls/step); run: load ${sec((t1 - t0) / 1000)}, prompts ${sec((t2 - t1) / 1000)}, step ${sec((t3 - t2) / 1000)}`,
  });
}

try {
  for (const c of cases) {
    const [tokens, width] = c === 'demo' ? [48, 96] : c === 'demo128' ? [320, 96] : c === 'step13' ? [3120, 1536] : [2304, 1024];
    const speed = await probes(tokens, width); // afresh before each case: the load moves
    if (c === 'step13') {
      step13Estimate(speed);
      continue;
    }
    if (c === 'demo') await generateCase('demo', [], speed);
    else if (c === 'demo128') await generateCase('demo128', ['128', '128', '17'], speed);
    else if (c === 'mid') await midCase(speed);
    else throw new Error(`unknown case ${c}`);
    const r = rows[rows.length - 1]!;
    console.log(`${r.name}: estimate ${sec(r.estimate)}, actual ${sec(r.actual)} (actual/estimate ${(r.actual / r.estimate).toFixed(2)}), load ${r.loadBefore} -> ${r.loadAfter}\n  ${r.detail}`);
  }
  console.log('\n| case | estimate | actual | actual/estimate | load average (1, 5, 15 min) before → after |\n|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${sec(r.estimate)} | ${sec(r.actual)} | ${(r.actual / r.estimate).toFixed(2)} | ${r.loadBefore} → ${r.loadAfter} |`);
} finally {
  if (!flag('dir')) rmSync(scratch, { recursive: true, force: true });
  else for (const f of ['demo.mp4', 'demo.mp4.json', 'demo128.mp4', 'demo128.mp4.json']) rmSync(join(scratch, f), { force: true });
}

