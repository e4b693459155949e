/**
 * One text-to-video generation (docs/ARCHITECTURE.md, "The path of one generation"): validate the request
 * against the pipeline, encode the prompts (cached by content), draw seeded noise, denoise
 * with the dense or the sparse DiT, then decode latent frames on a worker thread straight
 * into ffmpeg. `denoise` and `finish` are separate so batch runners can overlap one job's
 * decoding with the next job's denoising.
 */
import { WanDiT } from '../models/wan/dit/runtime.js';
import { readDiTManifest } from '../models/wan/dit/manifest.js';
import { T5EncoderSession } from '../models/wan/t5/session.js';
import { t5Parameters } from './estimate.js';
import { chooseLowMemory, weightsInMemory } from './memory.js';
import { DenseDiT } from '../models/wan/dit/dense.js';
import { readVaeManifest } from '../models/wan/vae/chunk-decoder.js';
import type { VaeDecoderManifest } from '../models/wan/vae/convert.js';
import { checkProviders, type ExecutionProvider } from '../runtime/session.js';
import { TextEncoder } from '../text/context.js';
import { VaeDecodeWorker } from '../video/worker-decode-stream.js';
import { latentFrames, videoFrameCount } from '../video/decode-stream.js';
import { encodeChunks } from '../video/encode.js';
import type { DecodedChunk } from '../models/wan/vae/chunk-decoder.js';
import { denoise } from '../sampling/denoise.js';
import { readLatentNpy, writeLatentNpy } from './latent-file.js';
import { resolvePipeline, type ResolvedPipeline } from './definition.js';
import { sparseModelFor } from './sparse-model.js';
import { trainedRangeWarnings } from './trained.js';
import { join } from 'node:path';
import { LATENT_RGB_FILE, latentPreviewPng, readLatentRgb, writePreviewFile } from '../video/preview.js';
import { GenerateRequestError, resolveRequest } from './resolve.js';
import type { DenoisedJob, GenerateRequest, GenerateResult, Phase, Progress, ResolvedRequest, RunOptions, SparsityRecord } from '../core/renderer.js';

export type { DenoisedJob, GenerateRequest, GenerateResult, Phase, Progress, ResolvedRequest, RunOptions };
import type { Latent, VelocityModel } from '../core/types.js';

export { GenerateRequestError };

export class GenerationAbortedError extends Error {
  override name = 'GenerationAbortedError';
  constructor(phase: Phase) {
    super(`generation was cancelled during ${phase}; nothing was written`);
  }
}

export interface PipelineLoadOptions {
  /** Intra-op threads for each onnxruntime session (default 2). */
  threads?: number;
  /** Execution providers of every session (default: the definition's `providers`, else ['cpu']). */
  providers?: readonly ExecutionProvider[];
  /** DiT blocks loaded for their turn only (issue 17); default: chosen from the available memory (pipeline/memory.ts). */
  lowMemory?: boolean;
  /**
   * Start the VAE decode worker first, so its thread and sessions load on the other core while the
   * text encoder and the DiT load (session creation uses one core), not while the DiT denoises:
   * for a runner that will decode (`generate`). Default false: it starts with the first generation.
   */
  startDecoder?: boolean;
}

export class Pipeline {
  /**
   * onnxruntime cannot be interrupted inside run(), and one call of a large model can take minutes
   * on a CPU; the pipeline checks its signal between DiT blocks and decoded frames (Renderer.stopGraceMs).
   */
  readonly stopGraceMs = 300_000;
  private decodeWorker: VaeDecodeWorker | null = null;

  private constructor(
    readonly definition: ResolvedPipeline,
    readonly dit: WanDiT,
    readonly text: TextEncoder,
    readonly vae: VaeDecoderManifest,
    private readonly threads: number,
    readonly providers: readonly ExecutionProvider[],
  ) {}

  /** Loads a pipeline: a built-in name (default `wan-demo`), a converted model folder, or a definition file. */
  static async load(pipeline?: string, options: PipelineLoadOptions = {}): Promise<Pipeline> {
    const definition = resolvePipeline(pipeline);
    const threads = options.threads ?? 2;
    const providers = checkProviders(options.providers ?? definition.providers ?? ['cpu']);
    const vae = readVaeManifest(definition.models.vae);
    const decoder = options.startDecoder ? VaeDecodeWorker.start(definition.models.vae, { intraOpThreads: threads, providers }) : null;
    try {
      const text = await TextEncoder.load(definition.models.text, { intraOpThreads: threads, providers });
      const ditManifest = readDiTManifest(definition.models.dit);
      const textBytes = text.encoder instanceof T5EncoderSession ? 4 * t5Parameters(text.encoder.config).total : 0;
      const { lowMemory } = chooseLowMemory(weightsInMemory(ditManifest.config, ditManifest.quantized, textBytes, ditManifest.storageDtype), options.lowMemory);
      const dit = await WanDiT.load(definition.models.dit, { intraOpThreads: threads, providers, ...(lowMemory && { lowMemory, mmapWeights: !ditManifest.quantized }) });
      if (text.encoder.config.dim !== dit.config.textDim) {
        throw new GenerateRequestError(`pipeline ${definition.name}: the text encoder's width ${text.encoder.config.dim} does not match the DiT's text_dim ${dit.config.textDim}; the model folders come from different models`);
      }
      const pipeline = new Pipeline(definition, dit, text, vae, threads, providers);
      pipeline.decodeWorker = decoder;
      return pipeline;
    } catch (e) {
      await decoder?.stop();
      throw e;
    }
  }

  async release(): Promise<void> {
    await this.decodeWorker?.stop();
    this.decodeWorker = null;
    await this.dit.release();
    await this.text.encoder.session.release();
  }

  /** Fills defaults and checks the request against the model; throws GenerateRequestError. */
  resolve(req: GenerateRequest): ResolvedRequest {
    return resolveRequest(this.definition, this.dit.config, this.vae.config, req);
  }

  /** The latent shape (C, F, H, W) a request produces. */
  latentShape(r: Pick<ResolvedRequest, 'width' | 'height' | 'frames'>): Latent['shape'] {
    const s = this.vae.config.spatialScale;
    return [this.dit.config.inDim, (r.frames - 1) / this.vae.config.temporalScale + 1, r.height / s, r.width / s];
  }

  /** Text encoding and denoising: everything before the VAE. */
  async denoise(req: GenerateRequest, options: RunOptions = {}): Promise<DenoisedJob> {
    const r = this.resolve(req);
    const { onProgress, signal } = options;
    const timings: Record<string, number> = {};
    const shape = this.latentShape(r);

    // The noise file and the sparsity schedule are read before any work (issue 18): a bad
    // file or a schedule for another model fails before the text encoder runs.
    const noise = r.noise ? noiseFromFile(r.noise, shape) : { seed: r.seed, shape };
    const { model, flopsRatio, sparsity, warnings } = await this.velocityModel(r, shape);
    const trainedWarnings = trainedRangeWarnings(this.definition.trained, r, this.definition.name);
    const preview = r.preview !== undefined ? this.previewWriter(r.preview, r.previewEvery ?? 5, r.steps, shape) : undefined;

    let t0 = performance.now();
    onProgress?.({ phase: 'encode-text', done: 0, total: 1 });
    const cond = await this.text.encode(r.prompt);
    const uncond = r.guidance !== 1 ? await this.text.encode(r.negativePrompt) : undefined;
    const cut = [cond.truncation?.message, uncond?.truncation && `negative ${uncond.truncation.message}`].filter(Boolean);
    onProgress?.({ phase: 'encode-text', done: 1, total: 1, ...(cut.length > 0 && { warning: `${cut.join('; ')} (shorten it to keep every word)` }) });
    timings.textMs = performance.now() - t0;
    if (signal?.aborted) throw new GenerationAbortedError('encode-text');

    t0 = performance.now();
    // Outside the trained sizes: one warning line of its own, before the sparsity ones (issue 19).
    for (const warning of trainedWarnings) onProgress?.({ phase: 'denoise', done: 0, total: r.steps, warning });
    onProgress?.({
      phase: 'denoise', done: 0, total: r.steps,
      ...(sparsity && { detail: `sparsity: ${sparsity.description}, FLOPs ${(flopsRatio * 100).toFixed(1)}% of dense` }),
      ...(warnings.length > 0 && { warning: warnings.join('; ') }),
    });
    let latent: Latent;
    try {
      latent = await denoise({
        model, noise, cond, uncond, steps: r.steps, shift: r.shift, guidance: r.guidance, solver: r.solver, signal,
        ...(preview && { withDenoised: true }),
        onStep: (p) => {
          if (preview && p.denoised) preview(p.denoised, p.step);
          options.onStep?.(p.latent, p.step);
          onProgress?.({ phase: 'denoise', done: p.step + 1, total: r.steps });
        },
      });
    } catch (e) {
      if (signal?.aborted) throw new GenerationAbortedError('denoise');
      throw e;
    }
    timings.denoiseMs = performance.now() - t0;
    return { request: r, latent, timings, flopsRatio, ...(sparsity && { sparsity }) };
  }

  /** VAE decode on a worker thread, streamed into the encoder; the output appears only when complete. */
  finish(job: DenoisedJob, options: RunOptions = {}): Promise<GenerateResult> {
    return this.decodeAndEncode(job, options);
  }

  async generate(req: GenerateRequest, options: RunOptions = {}): Promise<GenerateResult> {
    this.resolve(req); // a bad request fails before any thread starts
    // The decoder's thread and sessions load while the text encoder and the DiT run.
    this.decoder();
    return this.decodeAndEncode(await this.denoise(req, options), options);
  }

  /**
   * The decode worker, started on first use and kept for the next clips (a batch's finish lane
   * decodes clip after clip without a new thread or new sessions); a failed one is replaced.
   */
  private decoder(): VaeDecodeWorker {
    if (this.decodeWorker?.broken) void this.decodeWorker.stop();
    if (!this.decodeWorker || this.decodeWorker.broken) this.decodeWorker = VaeDecodeWorker.start(this.definition.models.vae, { intraOpThreads: this.threads, providers: this.providers });
    return this.decodeWorker;
  }

  private async decodeAndEncode(job: DenoisedJob, options: RunOptions): Promise<GenerateResult> {
    const { request: r, latent } = job;
    const { onProgress, signal } = options;
    const timings = { ...job.timings };
    const totalFrames = videoFrameCount(latent.shape[1], this.vae.config.temporalScale);
    const t0 = performance.now();
    const chunks = this.decoder().decode(latentFrames(latent), { height: latent.shape[2], width: latent.shape[3] });
    const result = await encodeChunks(withProgress(chunks, totalFrames, onProgress, signal), {
      output: r.output,
      format: r.format,
      fps: r.fps,
      settings: settingsOf(this, r, job.flopsRatio, job.sparsity),
    });
    timings.decodeEncodeMs = performance.now() - t0;
    let latentPath: string | null = null;
    if (r.saveLatent) {
      latentPath = `${r.output}.latent.npy`;
      writeLatentNpy(latentPath, latent);
    }
    return { output: result.output, sidecar: result.sidecar, latent: latentPath, seed: r.seed, frames: result.frames, timings, flopsRatio: job.flopsRatio };
  }

  info(): Record<string, unknown> {
    return {
      pipeline: this.definition.name,
      definition: this.definition.file,
      models: this.definition.models,
      defaults: this.definition.defaults,
      dit: this.dit.config,
      vae: this.vae.config,
      text: this.text.encoder.config,
      schedules: this.definition.schedules ?? {},
      ...(this.definition.trained && { trained: this.definition.trained }),
    };
  }

  /**
   * The preview hook of a request: every `every` steps (and at the last), the step's clean-latent
   * prediction through the model's latent-to-RGB projection, to a PNG file or into a folder.
   */
  private previewWriter(target: string, every: number, steps: number, shape: Latent['shape']): (denoised: Float32Array, step: number) => void {
    const proj = readLatentRgb(this.definition.models.vae);
    if (!proj) throw new GenerateRequestError(`pipeline ${this.definition.name} has no latent-to-RGB projection for previews (${this.definition.models.vae}/${LATENT_RGB_FILE}); fit one with \`npx tsx scripts/fit-latent-rgb.ts --pipeline ${this.definition.name}\`, or drop --preview`);
    if (proj.factors.length !== shape[0]) throw new GenerateRequestError(`the preview projection has ${proj.factors.length} channels but the model's latent has ${shape[0]}; fit it again for this model`);
    const folder = !/\.png$/i.test(target);
    const scale = Math.max(1, Math.min(this.vae.config.spatialScale, Math.floor(256 / Math.max(shape[2], shape[3]))));
    return (denoised, step) => {
      if ((step + 1) % every !== 0 && step !== steps - 1) return;
      const png = latentPreviewPng(denoised, shape, proj, scale);
      writePreviewFile(folder ? join(target, `step-${String(step + 1).padStart(4, '0')}.png`) : target, png);
    };
  }

  private async velocityModel(r: ResolvedRequest, shape: Latent['shape']): Promise<{ model: VelocityModel; flopsRatio: number; sparsity?: SparsityRecord; warnings: string[] }> {
    const sparse = await sparseModelFor(this.dit, r, shape, this.definition);
    if (!sparse) return { model: new DenseDiT(this.dit), flopsRatio: 1, warnings: [] };
    const { model, flopsRatio, description, source, warnings } = sparse;
    return { model, flopsRatio, warnings, sparsity: { description, flopsRatio, ...(source && { schedule: { file: source.file, ...(source.name !== undefined && { name: source.name }), provenance: { kind: source.provenance.kind, method: source.provenance.method } } }) } };
  }
}

function noiseFromFile(path: string, shape: Latent['shape']): Latent {
  const latent = readLatentNpy(path);
  if (latent.shape.join() !== shape.join()) {
    throw new GenerateRequestError(`${path} holds noise of shape [${latent.shape}] but this request needs [${shape}]; match the size and frames to the noise or drop --noise`);
  }
  return latent;
}

/** The settings embedded in the container metadata and the sidecar JSON. */
function settingsOf(p: Pipeline, r: ResolvedRequest, flopsRatio: number, sparsity?: SparsityRecord): Record<string, unknown> {
  return {
    generator: 'diffsparse',
    pipeline: p.definition.name,
    prompt: r.prompt,
    negativePrompt: r.negativePrompt,
    width: r.width, height: r.height, frames: r.frames, fps: r.fps,
    steps: r.steps, shift: r.shift, guidance: r.guidance, solver: r.solver, seed: r.seed,
    noise: r.noise ?? null,
    // The schedule file run: the one asked for, or the shipped one a --budget picked (issue 18; also in sparsity.schedule).
    schedule: r.schedule ?? sparsity?.schedule?.file ?? null, budget: r.budget ?? null, method: r.method ?? null,
    ...(r.forecast !== undefined && { forecast: r.forecast }),
    flopsRatio,
    sparsity: sparsity ?? null,
  };
}

async function* withProgress(chunks: AsyncIterable<DecodedChunk>, total: number, onProgress: RunOptions['onProgress'], signal?: AbortSignal): AsyncGenerator<DecodedChunk> {
  let done = 0;
  onProgress?.({ phase: 'decode', done, total });
  for await (const chunk of chunks) {
    if (signal?.aborted) throw new GenerationAbortedError('decode');
    done += chunk.frames;
    onProgress?.({ phase: 'decode', done, total });
    yield chunk;
  }
}
