/**
 * Estimates before work (issue 17): for a pipeline's model sizes and one generation setting,
 * the FLOPs, memory and time of text encoding, denoising (dense and at the chosen budget) and
 * VAE decoding. FLOPs come from the formulas of src/sparsity/flops.ts (DiT) and the module
 * layouts of the umT5 encoder and the Wan VAE decoder; time is FLOPs over this machine's
 * measured matmul speed (matmul-speed.ts), which is what a Wan block sustains on CPU within
 * about 20% (onnxruntime-node-facts.md: 0.8 s per 1.3B block at N=1024 ≈ 120 GFLOP/s).
 * Memory is a model of what the runtime holds (weights as float32, the largest activations,
 * the sparse token cache), not a measurement; bench/real-weights.ts measures it.
 */
import type { WanDiTConfig } from '../models/wan/dit/config.js';
import type { T5EncoderConfig } from '../models/wan/t5/config.js';
import type { VaeDecoderConfig } from '../models/wan/vae/config.js';
import { denseBlockFlops, generationFlops, perPromptFlops, perStepOverheadFlops, type FlopsShape } from '../sparsity/flops.js';

const GB = 1024 ** 3;
const F32 = 4;

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

export interface GenerationEstimate {
  tokens: number;
  videoFrames: number;
  steps: number;
  branches: number;
  flops: { text: number; denoiseDense: number; denoise: number; vae: number };
  memory: MemoryEstimate;
  /** Seconds, when a speed is given. */
  seconds?: { text: number; perStepDense: number; perStep: number; denoiseDense: number; denoise: number; vae: number; totalDense: number; total: number };
  gflops?: number;
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

export function estimateGeneration(input: EstimateInput, gflops?: number): GenerationEstimate {
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
  const rowChunk = Math.min(n, 4096);
  // x, q, k, v, attention out, the three module outputs, the latent and solver state (≈10 [N, D] arrays),
  // the FFN intermediate of one row chunk (twice: before and after the GELU), every layer's context K/V per branch.
  const activations = F32 * (10 * n * d + 2 * rowChunk * shape.ffnDim + branches * shape.layers * 2 * shape.textLen * d);
  const tokenCache = input.sparse && input.sparse.flopsRatio < 1 ? F32 * branches * shape.layers * 3 * n * d : 0;
  // The decoder holds its weights and a few activations of one chunk at the highest width × resolution.
  const [, , lh, lw] = latentShape;
  const vaeBytes = F32 * (75e6 * (sizes.vae.dim / 96) ** 2 + 6 * 4 * (4 * sizes.vae.dim) * 16 * lh * lw);
  const weightBytes = sizes.quantized === 'int8' ? 1.125 : sizes.quantized === 'int4' ? 0.625 : F32;
  const ditWeights = weightBytes * dp.total;
  const ditBlock = weightBytes * dp.perBlock;
  const t5Weights = F32 * tp.total;
  const t5Layered = F32 * (tp.perLayer * 2 + 8 * promptTokens * Math.max(sizes.t5.dim, sizes.t5.dimFfn)) + 2 * promptTokens * sizes.t5.numHeads * promptTokens * F32;
  const standardBytes = (sizes.t5Layered ? t5Layered : t5Weights) + ditWeights + activations + tokenCache + vaeBytes;
  // Low memory: the text encoder is released before the DiT runs; the DiT keeps one block and the small stages.
  const ditSmall = weightBytes * (dp.total - sizes.dit.numLayers * dp.perBlock);
  const lowMemoryBytes = Math.max(t5Layered, ditSmall + 2 * ditBlock + activations + tokenCache, vaeBytes);

  const est: GenerationEstimate = {
    tokens: n,
    videoFrames: sizes.vae.temporalScale * (latentShape[1] - 1) + 1,
    steps, branches,
    flops: { text, denoiseDense: denseFlops, denoise: sparseFlops, vae },
    memory: { standardBytes, lowMemoryBytes, parts: { ditWeights, ditBlock, t5Weights, t5Layered, activations, tokenCache, vae: vaeBytes } },
    parameters: { dit: dp.total, t5: tp.total },
  };
  if (gflops && gflops > 0) {
    const s = (flops: number): number => flops / (gflops * 1e9);
    const perPrompt = branches * perPromptFlops(shape);
    est.gflops = gflops;
    est.seconds = {
      text: s(text),
      perStepDense: s((denseFlops - perPrompt) / steps),
      perStep: s((sparseFlops - perPrompt) / steps),
      denoiseDense: s(denseFlops),
      denoise: s(sparseFlops),
      vae: s(vae),
      totalDense: s(text + denseFlops + vae),
      total: s(text + sparseFlops + vae),
    };
  }
  return est;
}

/** One dense block evaluation of one branch, in FLOPs (for the benchmark's per-block numbers). */
export function blockFlops(sizes: ModelSizes, latentShape: readonly number[]): number {
  return denseBlockFlops(flopsShapeOf(sizes, latentShape)).total;
}

/** One model evaluation's fixed work outside the blocks. */
export function overheadFlops(sizes: ModelSizes, latentShape: readonly number[]): number {
  return perStepOverheadFlops(flopsShapeOf(sizes, latentShape));
}

/**
 * Approximate cost of `schedule learn` in full generations: the dense reference, one run per
 * calibration cell and sparse level (4 levels), the refinement iterations and the selection
 * runs, each over every calibration case (prompts × seeds).
 */
export function learnRuns(steps: number, layers: number, o: { grouping?: { steps: number; layers: number }; iterations?: number; cases?: number } = {}): number {
  const g = o.grouping ?? { steps: 1, layers: 1 };
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

/** Human lines for `generate --dry-run`, `info` and the note printed before a long run. */
export function describeEstimate(e: GenerationEstimate, setting: { width: number; height: number; frames: number }, sparseDescription?: string): string[] {
  const lines = [
    `${setting.width}x${setting.height}, ${e.videoFrames} frames (${e.tokens} tokens), ${e.steps} steps × ${e.branches} branch${e.branches > 1 ? 'es' : ''}; DiT ${params(e.parameters.dit)}, text encoder ${params(e.parameters.t5)} parameters`,
    `memory: ${formatBytes(e.memory.standardBytes)} standard (all weights float32), ${formatBytes(e.memory.lowMemoryBytes)} in low-memory mode${e.memory.parts.tokenCache ? ` (token cache ${formatBytes(e.memory.parts.tokenCache)} included)` : ''}`,
  ];
  const f = (x: number): string => `${(x / 1e12).toFixed(x < 1e12 ? 3 : 1)} TFLOP`;
  if (e.seconds) {
    const s = e.seconds;
    const sparse = e.flops.denoise !== e.flops.denoiseDense;
    lines.push(`estimated time at ${e.gflops!.toFixed(0)} GFLOP/s (this machine's matmul speed): text ${formatSeconds(s.text)}, ${formatSeconds(s.perStepDense)}/step dense${sparse ? `, ${formatSeconds(s.perStep)}/step with ${sparseDescription ?? 'the chosen budget'}` : ''}, VAE ${formatSeconds(s.vae)}`);
    lines.push(`estimated total: ${formatSeconds(s.totalDense)} dense${sparse ? `, ${formatSeconds(s.total)} with ${sparseDescription ?? 'the chosen budget'} (${((e.flops.denoise / e.flops.denoiseDense) * 100).toFixed(0)}% of denoising FLOPs)` : ''}`);
  } else {
    lines.push(`work: text ${f(e.flops.text)}, denoising ${f(e.flops.denoiseDense)} dense${e.flops.denoise !== e.flops.denoiseDense ? ` / ${f(e.flops.denoise)} sparse` : ''}, VAE ${f(e.flops.vae)}`);
  }
  return lines;
}
