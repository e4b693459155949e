/**
 * Estimates before work (issue 17): for a pipeline's model sizes and one generation setting,
 * the FLOPs, memory and time of text encoding, denoising (dense and at the chosen budget) and
 * VAE decoding. FLOPs come from the formulas of src/sparsity/flops.ts (DiT) and the module
 * layouts of the umT5 encoder and the Wan VAE decoder; time is FLOPs over this machine's
 * measured matmul speed (matmul-speed.ts), which is what a Wan block sustains on CPU within
 * about 20% (onnxruntime-node-facts.md: 0.8 s per 1.3B block at N=1024 ≈ 120 GFLOP/s).
 * Memory is a model of what the runtime holds (weights as float32, the largest activations,
 * the sparse token cache), not a measurement; bench/real-weights.ts measures it.
 *
 * Fixed costs beyond the FLOPs (what a small model's run is made of): every onnxruntime call
 * (counted from the stage layout: 3 + 4 per block and pass, more when the tokens exceed a row
 * or attention chunk) times this machine's measured cost of one call (call-cost.ts), the
 * sessions created at load and the weights read, the decode worker, the VAE's convolutions
 * (slower than matmuls on CPU) and the ffmpeg encode. The constants below were measured on the
 * 2-core VM this was written on and are scaled by the measured matmul speed, so a busy or slow
 * machine stretches them as it stretches the compute.
 */
import { DEFAULT_ATTENTION_CHUNK, DEFAULT_ROW_CHUNK, type WanDiTConfig } from '../models/wan/dit/config.js';
import type { T5EncoderConfig } from '../models/wan/t5/config.js';
import type { VaeDecoderConfig } from '../models/wan/vae/config.js';
import { denseBlockFlops, generationFlops, perPromptFlops, type FlopsShape } from '../sparsity/flops.js';

const GB = 1024 ** 3;
const F32 = 4;

/** The matmul speed (GFLOP/s) the fixed-cost constants below are given at: this VM's idle speed. */
const REFERENCE_GFLOPS = 200;
/** Measured at that speed (bench/estimate-check.ts): */
const FIXED = {
  /** Node start and module imports before the first model is loaded. */
  startSeconds: 0.25,
  /** Starting the VAE decode worker thread (its module imports). */
  workerSeconds: 0.1,
  /** Creating one VAE decoder session (hundreds of nodes: graph optimisation dominates). */
  vaeSessionSeconds: 0.03,
  /** Reading and preparing weights at load, bytes per second (float32 files from the page cache, prepacking included). */
  loadBytesPerSecond: 1.5e9,
  /** ffmpeg: the process and its first frame, then per pixel (H.264 medium, the JavaScript pixel conversion included). */
  encodeStartSeconds: 0.025,
  encodeSecondsPerPixel: 0.035e-6,
};
/**
 * The share of the matmul probe's speed the Wan VAE decoder's 3-D convolutions sustain on CPU,
 * by base width (bench/vae-efficiency.ts, random weights, 8×8 latent frames, busy 2-core VM):
 * 0.13–0.2 at the demo's width 8, 0.48 at the release's 96; interpolated in log(width) between.
 */
export function vaeConvEfficiency(dim: number): number {
  const t = Math.min(1, Math.max(0, Math.log(dim / 8) / Math.log(96 / 8)));
  return 0.15 + t * (0.48 - 0.15);
}
/** Session runs per call of the layered text encoder beyond its layers: the final norm. */
const T5_LAYERED_EXTRA_CALLS = 1;

/** What the time estimate needs of the machine: the matmul speed and, optionally, the measured fixed costs (call-cost.ts). */
export interface MachineSpeed {
  gflops: number;
  /** Milliseconds of one onnxruntime call beyond its FLOPs (0 when not given). */
  callMs?: number;
  /** Milliseconds to create one small session (0 when not given). */
  sessionMs?: number;
}

/** Parameters of a Wan DiT: per block and in all. */
export function ditParameters(c: WanDiTConfig): { perBlock: number; total: number } {
  const d = c.dim;
  const attn = 4 * (d * d + d) + 2 * d; // q,k,v,o with biases, RMS norms
  const perBlock = 2 * attn + 2 * d + (d * c.ffnDim + c.ffnDim) + (c.ffnDim * d + d) + 6 * d;
  const cells = c.patchSize[0] * c.patchSize[1] * c.patchSize[2];
  const top = (c.inDim * cells + 1) * d + (c.textDim + 1) * d + (d + 1) * d + (c.freqDim + 1) * d + (d + 1) * d + (d + 1) * 6 * d + (d + 1) * c.outDim * cells + 2 * d;
  return { perBlock, total: top + c.numLayers * perBlock };
}

/** Parameters of a umT5 encoder: the embedding, one layer, all. */
export function t5Parameters(c: T5EncoderConfig): { embedding: number; perLayer: number; total: number } {
  const embedding = c.vocab * c.dim;
  const perLayer = 4 * c.dim * c.dimAttn + 3 * c.dim * c.dimFfn + 2 * c.dim + c.numBuckets * c.numHeads;
  return { embedding, perLayer, total: embedding + c.numLayers * perLayer + c.dim };
}

/** FLOPs of encoding one prompt of `tokens` tokens. */
export function t5Flops(c: T5EncoderConfig, tokens: number): number {
  const linear = 2 * tokens * (4 * c.dim * c.dimAttn + 3 * c.dim * c.dimFfn);
  const attention = 4 * tokens * tokens * c.dimAttn;
  return c.numLayers * (linear + attention);
}

/**
 * FLOPs of decoding a latent [C, F, H, W] with the Wan2.1 decoder layout (reference §3.3), base
 * width `dim`: widths dim·[4,4,4,2,1], two temporal and three spatial ×2 upsamples.
 */
export function vaeDecodeFlops(v: Pick<VaeDecoderConfig, 'dim' | 'zDim'>, latent: readonly number[]): number {
  const [, f, h, w] = latent;
  const conv = (cin: number, cout: number, k: number, voxels: number): number => 2 * k * cin * cout * voxels;
  const res = (cin: number, cout: number, voxels: number): number => conv(cin, cout, 27, voxels) + conv(cout, cout, 27, voxels) + (cin !== cout ? conv(cin, cout, 1, voxels) : 0);
  const c4 = 4 * v.dim;
  const c2 = 2 * v.dim;
  const c1 = v.dim;
  const frames = 4 * (f - 1) + 1;
  const s0 = f * h * w; // latent grid
  const s1 = Math.min(frames, 2 * f) * 4 * h * w; // after the first ×2 time, ×2 space
  const s2 = frames * 16 * h * w;
  const s3 = frames * 64 * h * w;
  let total = conv(v.zDim, c4, 27, s0) + 2 * res(c4, c4, s0);
  total += f * (2 * (h * w) ** 2 * c4 + conv(c4, 4 * c4, 1, h * w)); // per-frame single-head attention
  total += 3 * res(c4, c4, s0) + conv(c4, 2 * c4, 3, s0) + conv(c4, c4 / 2, 9, s1);
  total += res(c4 / 2, c4, s1) + 2 * res(c4, c4, s1) + conv(c4, 2 * c4, 3, s1) + conv(c4, c2, 9, s2);
  total += 3 * res(c2, c2, s2) + conv(c2, c1, 9, s3) + 3 * res(c1, c1, s3) + conv(c1, 3, 27, s3);
  return total;
}

export interface ModelSizes {
  dit: WanDiTConfig;
  /** Features of a patch and of a head output row (from the DiT manifest). */
  patchFeatures: number;
  headFeatures: number;
  t5: T5EncoderConfig;
  vae: Pick<VaeDecoderConfig, 'dim' | 'zDim' | 'spatialScale' | 'temporalScale'>;
  /** The text encoder runs layer by layer from its checkpoint (converted with --text-mode layered). */
  t5Layered?: boolean;
  /** DiT Linear weights stored as int8/int4 blocks (held as such by MatMulNBits). */
  quantized?: 'int8' | 'int4';
  /** DiT Linear weights stored as bfloat16 and held so (cast to float32 per call). */
  bfloat16?: boolean;
}

/** Bytes per DiT parameter as held in memory. */
function ditWeightBytes(s: Pick<ModelSizes, 'quantized' | 'bfloat16'>): number {
  return s.quantized === 'int8' ? 1.125 : s.quantized === 'int4' ? 0.625 : s.bfloat16 ? 2 : F32;
}

export interface EstimateInput {
  sizes: ModelSizes;
  /** [C, F, H, W] of the latent. */
  latentShape: readonly number[];
  steps: number;
  guidance: number;
  /** The chosen sparsity plan's share of dense FLOPs (1 = dense) and its (step × layer) table. */
  sparse?: { flopsRatio: number; table: readonly (readonly number[])[]; description: string };
  /** Tokens of the prompt (default text_len, the worst case). */
  promptTokens?: number;
}

export interface MemoryEstimate {
  /** Everything held at once as Pipeline.load does it today (all weights in float32). */
  standardBytes: number;
  /** Text encoder run layer by layer, DiT blocks loaded for their turn. */
  lowMemoryBytes: number;
  /** Parts, for the report. */
  parts: { ditWeights: number; ditBlock: number; t5Weights: number; t5Layered: number; activations: number; tokenCache: number; vae: number };
}

/** onnxruntime calls and sessions of one generation, counted from the stage layout (WanDiT, the text encoders, the VAE). */
export interface CallCounts {
  /** Calls of one dense DiT pass (one branch): time and patch embedding, 3 row stages and attention per block, the head. */
  perPass: number;
  /** Calls of one step, every branch, dense and with the sparsity plan (a reused block makes no call). */
  perStepDense: number;
  perStep: number;
  /** Calls of the per-prompt DiT work (text embedding, each layer's context K/V), all branches. */
  perPrompt: number;
  /** Text encoder calls for every prompt (one graph: one per prompt; layered: one per layer and the final norm). */
  text: number;
  /** VAE decoder calls: one per latent frame. */
  vae: number;
  /** Sessions created when the pipeline loads: every DiT stage and the text encoder's. */
  sessions: number;
  /** Extra session creations per step in low-memory mode (every block's 4 stages, each pass). */
  lowMemorySessionsPerStep: number;
}

/** One DiT pass's calls with `blocks` blocks evaluated (whole or on some rows) at `tokens` tokens. */
export function passCalls(tokens: number, blocks: number): number {
  const rows = Math.ceil(tokens / DEFAULT_ROW_CHUNK);
  const attention = Math.ceil(tokens / DEFAULT_ATTENTION_CHUNK);
  return 3 + blocks * (3 * rows + attention);
}

export interface GenerationEstimate {
  tokens: number;
  videoFrames: number;
  steps: number;
  branches: number;
  flops: { text: number; denoiseDense: number; denoise: number; vae: number };
  memory: MemoryEstimate;
  calls: CallCounts;
  /** The DiT's Linear weights are stored quantized, or as bfloat16. */
  quantized?: 'int8' | 'int4';
  bfloat16?: boolean;
  /**
   * Seconds, when a speed is given. `load`: node start, sessions and weights; `text`, `vae`:
   * FLOPs plus calls (and the decode worker, the VAE sessions); `encode`: ffmpeg; `perStep*` and
   * `denoise*`: FLOPs plus calls; `lowMemoryPerStep`: what low-memory mode adds to a step
   * (creating every block's sessions each pass); `overhead`: the part of `totalDense` that is not
   * compute (calls, sessions, weights, worker, ffmpeg).
   */
  seconds?: {
    load: number; text: number; perStepDense: number; perStep: number; denoiseDense: number; denoise: number; vae: number; encode: number;
    lowMemoryPerStep: number; overhead: number; totalDense: number; total: number;
  };
  gflops?: number;
  /** The fixed costs used (ms), when given. */
  callMs?: number;
  sessionMs?: number;
  parameters: { dit: number; t5: number };
}

/** The FLOPs shape of one DiT evaluation (as sparsity/modelInfo.ts derives it from a loaded DiT). */
export function flopsShapeOf(s: ModelSizes, latentShape: readonly number[]): FlopsShape {
  const c = s.dit;
  const [, f, h, w] = latentShape;
  const [pt, ph, pw] = c.patchSize;
  return {
    dim: c.dim, ffnDim: c.ffnDim, textLen: c.textLen, textDim: c.textDim, layers: c.numLayers,
    tokens: (f / pt) * (h / ph) * (w / pw), patchFeatures: s.patchFeatures, headFeatures: s.headFeatures, freqDim: c.freqDim,
  };
}

export function estimateGeneration(input: EstimateInput, speed?: number | MachineSpeed): GenerationEstimate {
  const machine: MachineSpeed | undefined = typeof speed === 'number' ? { gflops: speed } : speed;
  const gflops = machine?.gflops;
  const { sizes, latentShape, steps } = input;
  const shape = flopsShapeOf(sizes, latentShape);
  const branches = input.guidance === 1 ? 1 : 2;
  const dense = Array.from({ length: steps }, () => new Array<number>(shape.layers).fill(1));
  const denseFlops = generationFlops(shape, dense, 'reuse', branches).total;
  const sparseFlops = input.sparse ? generationFlops(shape, input.sparse.table, 'reuse', branches).total : denseFlops;
  const promptTokens = Math.min(input.promptTokens ?? sizes.t5.textLen, sizes.t5.textLen);
  const text = branches * t5Flops(sizes.t5, promptTokens);
  const vae = vaeDecodeFlops(sizes.vae, latentShape);

  const dp = ditParameters(sizes.dit);
  const tp = t5Parameters(sizes.t5);
  const n = shape.tokens;
  const d = shape.dim;
  // bfloat16 weights are cast to float32 for each call: the largest stage's (post: q, o and the FFN) exist as float32 meanwhile.
  const castTransient = sizes.bfloat16 && !sizes.quantized ? F32 * (2 * d * d + 2 * d * shape.ffnDim) : 0;
  const rowChunk = Math.min(n, 4096);
  // x, q, k, v, attention out, the three module outputs, the latent and solver state (≈10 [N, D] arrays),
  // the FFN intermediate of one row chunk (twice: before and after the GELU), every layer's context K/V per branch.
  const activations = F32 * (10 * n * d + 2 * rowChunk * shape.ffnDim + branches * shape.layers * 2 * shape.textLen * d) + castTransient;
  const tokenCache = input.sparse && input.sparse.flopsRatio < 1 ? F32 * branches * shape.layers * 3 * n * d : 0;
  // The decoder holds its weights and a few activations of one chunk at the highest width × resolution.
  const [, , lh, lw] = latentShape;
  const vaeBytes = F32 * (75e6 * (sizes.vae.dim / 96) ** 2 + 6 * 4 * (4 * sizes.vae.dim) * 16 * lh * lw);
  const weightBytes = ditWeightBytes(sizes);
  const ditWeights = weightBytes * dp.total;
  const ditBlock = weightBytes * dp.perBlock;
  const t5Weights = F32 * tp.total;
  const t5Layered = F32 * (tp.perLayer * 2 + 8 * promptTokens * Math.max(sizes.t5.dim, sizes.t5.dimFfn)) + 2 * promptTokens * sizes.t5.numHeads * promptTokens * F32;
  const standardBytes = (sizes.t5Layered ? t5Layered : t5Weights) + ditWeights + activations + tokenCache + vaeBytes;
  // Low memory: the DiT keeps its small stages and one block, counted twice (a 14B block's turn peaked at 3.3 GB for
  // 1.4 GB of block weights: the released block's pages and the prepacked copies). The text encoder is not released
  // before the DiT runs: a layered one holds only its peak while encoding, a one-graph one its weights throughout.
  const ditSmall = weightBytes * (dp.total - sizes.dit.numLayers * dp.perBlock);
  const ditLow = ditSmall + 2 * ditBlock + activations + tokenCache;
  const lowMemoryBytes = sizes.t5Layered ? Math.max(t5Layered, ditLow, vaeBytes) : t5Weights + Math.max(ditLow, vaeBytes);

  const evaluated = (table: readonly (readonly number[])[]): number => table.reduce((sum, row) => sum + row.filter((level) => level > 0).length, 0);
  const blockEvals = input.sparse ? evaluated(input.sparse.table) : steps * shape.layers;
  const textCalls = branches * (sizes.t5Layered ? sizes.t5.numLayers + T5_LAYERED_EXTRA_CALLS : 1);
  const calls: CallCounts = {
    perPass: passCalls(n, shape.layers),
    perStepDense: branches * passCalls(n, shape.layers),
    perStep: branches * passCalls(n, blockEvals / steps),
    perPrompt: branches * (1 + shape.layers),
    text: textCalls,
    vae: latentShape[1],
    sessions: 5 + 4 * shape.layers + (sizes.t5Layered ? 2 : 1),
    lowMemorySessionsPerStep: branches * 4 * shape.layers,
  };

  const est: GenerationEstimate = {
    tokens: n,
    videoFrames: sizes.vae.temporalScale * (latentShape[1] - 1) + 1,
    steps, branches,
    flops: { text, denoiseDense: denseFlops, denoise: sparseFlops, vae },
    memory: { standardBytes, lowMemoryBytes, parts: { ditWeights, ditBlock, t5Weights, t5Layered, activations, tokenCache, vae: vaeBytes } },
    parameters: { dit: dp.total, t5: tp.total },
    calls,
    ...(sizes.quantized && { quantized: sizes.quantized }),
    ...(sizes.bfloat16 && { bfloat16: true }),
  };
  if (gflops && gflops > 0) {
    const { callS, sessionS, slow, loadRate } = fixedCosts(machine!);
    const s = (flops: number): number => flops / (gflops * 1e9);
    const perPrompt = branches * perPromptFlops(shape);
    const [, , lh, lw] = latentShape;
    const pixels = est.videoFrames * lh * lw * sizes.vae.spatialScale ** 2;
    // Weights read at load: the DiT (as stored) and the one-graph text encoder (the layered one reads its checkpoint per prompt).
    const loadBytes = ditWeights + (sizes.t5Layered ? 0 : t5Weights);
    const load = slow * FIXED.startSeconds + calls.sessions * sessionS + loadBytes / loadRate;
    const textReads = sizes.t5Layered ? (branches * 2 * tp.total) / loadRate : 0; // bf16 checkpoint bytes, per prompt
    const textS = s(text) + calls.text * callS + textReads;
    const perStepDense = s((denseFlops - perPrompt) / steps) + calls.perStepDense * callS;
    const perStep = s((sparseFlops - perPrompt) / steps) + calls.perStep * callS;
    const denoiseDense = s(denseFlops) + (steps * calls.perStepDense + calls.perPrompt) * callS;
    const denoise = s(sparseFlops) + (steps * calls.perStep + calls.perPrompt) * callS;
    const vaeS = s(vae) / vaeConvEfficiency(sizes.vae.dim) + calls.vae * callS + slow * (FIXED.workerSeconds + 2 * FIXED.vaeSessionSeconds);
    const encode = slow * (FIXED.encodeStartSeconds + pixels * FIXED.encodeSecondsPerPixel);
    const lowMemoryPerStep = calls.lowMemorySessionsPerStep * sessionS + (branches * shape.layers * ditBlock) / loadRate;
    const totalDense = load + textS + denoiseDense + vaeS + encode;
    est.gflops = gflops;
    if (machine?.callMs !== undefined) est.callMs = machine.callMs;
    if (machine?.sessionMs !== undefined) est.sessionMs = machine.sessionMs;
    est.seconds = {
      load,
      text: textS,
      perStepDense,
      perStep,
      denoiseDense,
      denoise,
      vae: vaeS,
      encode,
      lowMemoryPerStep,
      overhead: totalDense - s(text + denseFlops) - s(vae) / vaeConvEfficiency(sizes.vae.dim),
      totalDense,
      total: load + textS + denoise + vaeS + encode,
    };
  }
  return est;
}

/** The fixed-cost terms for a speed: none when the speed has no measured call cost (FLOPs-only estimates, as before). */
function fixedCosts(m: MachineSpeed): { callS: number; sessionS: number; hasFixed: boolean; slow: number; loadRate: number } {
  const hasFixed = m.callMs !== undefined || m.sessionMs !== undefined;
  // The constants are for the reference speed; a slower (or busier) machine stretches them alike.
  const slow = hasFixed ? REFERENCE_GFLOPS / m.gflops : 0;
  return { callS: (m.callMs ?? 0) / 1000, sessionS: (m.sessionMs ?? 0) / 1000, hasFixed, slow, loadRate: hasFixed ? FIXED.loadBytesPerSecond / slow : Infinity };
}

/** Seconds to create a DiT's sessions and read its weights (standard mode), for a speed with measured fixed costs. */
export function ditLoadSeconds(sizes: ModelSizes, speed: MachineSpeed): number {
  const { sessionS, loadRate } = fixedCosts(speed);
  const weights = ditParameters(sizes.dit).total * ditWeightBytes(sizes);
  return (5 + 4 * sizes.dit.numLayers) * sessionS + weights / loadRate;
}

/** One dense block evaluation of one branch, in FLOPs (for the benchmark's per-block numbers). */
export function blockFlops(sizes: ModelSizes, latentShape: readonly number[]): number {
  return denseBlockFlops(flopsShapeOf(sizes, latentShape)).total;
}

/**
 * Approximate cost of `schedule learn` in full generations: the dense reference, one run per
 * calibration cell and sparse level (4 levels), the refinement iterations and the selection
 * runs, each over every calibration case (prompts × seeds).
 */
export function learnRuns(steps: number, layers: number, o: { grouping?: { steps: number; layers: number }; iterations?: number; cases?: number } = {}): number {
  const g = o.grouping ?? { steps: 1, layers }; // schedule learn's default: one step × all layers
  const cells = Math.ceil(steps / g.steps) * Math.ceil(layers / g.layers);
  return (1 + cells * 4 + (o.iterations ?? 3) + 2) * (o.cases ?? 1);
}

export const formatBytes = (b: number): string => (b >= GB ? `${(b / GB).toFixed(1)} GB` : `${Math.max(1, Math.round(b / 1024 ** 2))} MB`);

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 1) return `${Math.max(1, Math.round(s * 1000))} ms`;
  if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}

const params = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 2)}M`);

/** Human lines for `generate --dry-run`, `info` and the note printed before a long run; `lowMemory` adds that mode's per-step session creations. */
export function describeEstimate(e: GenerationEstimate, setting: { width: number; height: number; frames: number }, sparseDescription?: string, options: { lowMemory?: boolean } = {}): string[] {
  const weights = e.quantized ? `DiT weights ${e.quantized}, the rest float32` : e.bfloat16 ? 'DiT weights bfloat16, the rest float32' : 'all weights float32';
  const lines = [
    `${setting.width}x${setting.height}, ${e.videoFrames} frames (${e.tokens} tokens), ${e.steps} steps × ${e.branches} branch${e.branches > 1 ? 'es' : ''}; DiT ${params(e.parameters.dit)}, text encoder ${params(e.parameters.t5)} parameters`,
    `memory: ${formatBytes(e.memory.standardBytes)} standard (${weights}), ${formatBytes(e.memory.lowMemoryBytes)} in low-memory mode${e.memory.parts.tokenCache ? ` (token cache ${formatBytes(e.memory.parts.tokenCache)} included)` : ''}`,
  ];
  const f = (x: number): string => `${(x / 1e12).toFixed(x < 1e12 ? 3 : 1)} TFLOP`;
  if (e.seconds) {
    const s = e.seconds;
    const sparse = e.flops.denoise !== e.flops.denoiseDense;
    const low = options.lowMemory ? s.lowMemoryPerStep : 0;
    const lowNote = options.lowMemory ? ` (low-memory mode: ${formatSeconds(s.lowMemoryPerStep)} of it creating block sessions)` : '';
    const speed = e.callMs !== undefined ? `${e.gflops!.toFixed(0)} GFLOP/s and ${e.callMs.toFixed(2)} ms per onnxruntime call (this machine's, measured)` : `${e.gflops!.toFixed(0)} GFLOP/s (this machine's matmul speed)`;
    lines.push(`estimated time at ${speed}: load ${formatSeconds(s.load)}, text ${formatSeconds(s.text)}, ${formatSeconds(s.perStepDense + low)}/step dense${sparse ? `, ${formatSeconds(s.perStep + low)}/step with ${sparseDescription ?? 'the chosen budget'}` : ''}${lowNote}, VAE ${formatSeconds(s.vae)}, encode ${formatSeconds(s.encode)}`);
    const stepsLow = e.steps * low;
    lines.push(`estimated total: ${formatSeconds(s.totalDense + stepsLow)} dense${sparse ? `, ${formatSeconds(s.total + stepsLow)} with ${sparseDescription ?? 'the chosen budget'} (${((e.flops.denoise / e.flops.denoiseDense) * 100).toFixed(0)}% of denoising FLOPs)` : ''}; ${e.calls.perStepDense} calls/step${s.overhead > 0 ? `, fixed costs ${formatSeconds(s.overhead)} of the dense total (${Math.round((100 * s.overhead) / s.totalDense)}%)` : ''}`);
  } else {
    lines.push(`work: text ${f(e.flops.text)}, denoising ${f(e.flops.denoiseDense)} dense${e.flops.denoise !== e.flops.denoiseDense ? ` / ${f(e.flops.denoise)} sparse` : ''}, VAE ${f(e.flops.vae)}`);
  }
  return lines;
}
