/**
 * Runs the converted streaming decoder: one latent frame in, its RGB frames out, with the
 * causal caches carried between calls. Memory is the caches plus one chunk's activations,
 * whatever the clip length.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSession, f32Tensor, type ExecutionProvider, type Session, type Tensor } from '../../../runtime/session.js';
import { VAE_MANIFEST_FILE, VAE_MANIFEST_FORMAT, type VaeDecoderManifest } from './convert.js';
import { vaeConfigProblems } from './config.js';

export class VaeModelError extends Error {
  override readonly name = 'VaeModelError';
}

/** Decoder output for one latent frame, planar (3, frames, height, width), raw (unclamped). */
export interface DecodedChunk {
  /** Index of the latent frame this chunk came from. */
  latentIndex: number;
  /** Index of the chunk's first RGB frame in the clip. */
  firstFrame: number;
  frames: number;
  height: number;
  width: number;
  data: Float32Array;
  /** Present when the model was converted with intermediates: z/(1/std)+mean and conv2 output (16, 1, h, w). */
  zUnscaled?: Float32Array;
  conv2Out?: Float32Array;
}

export interface ChunkDecoderOptions {
  intraOpThreads?: number;
  /** Execution providers (default ['cpu']). */
  providers?: readonly ExecutionProvider[];
}

export function readVaeManifest(dir: string): VaeDecoderManifest {
  let text: string;
  try {
    text = readFileSync(join(dir, VAE_MANIFEST_FILE), 'utf8');
  } catch {
    throw new VaeModelError(`VAE decoder: no ${VAE_MANIFEST_FILE} in ${dir}; convert the VAE checkpoint first (convertVaeDecoder).`);
  }
  let manifest: VaeDecoderManifest;
  try {
    manifest = JSON.parse(text) as VaeDecoderManifest;
  } catch {
    throw new VaeModelError(`VAE decoder: ${join(dir, VAE_MANIFEST_FILE)} is not valid JSON; re-convert the VAE.`);
  }
  if (manifest?.format !== VAE_MANIFEST_FORMAT || manifest.version !== 1) {
    throw new VaeModelError(`VAE decoder: ${join(dir, VAE_MANIFEST_FILE)} is not a version-1 ${VAE_MANIFEST_FORMAT} manifest; re-convert the VAE.`);
  }
  // The same bounds as convert (issue 18), plus what the decoder loop relies on.
  const problems = typeof manifest.config === 'object' && manifest.config !== null ? vaeConfigProblems(manifest.config) : ['"config" is missing'];
  const fpc = manifest.framesPerChunk;
  if (!fpc || fpc.first !== 1 || fpc.next !== manifest.config?.temporalScale) problems.push('"framesPerChunk" must be {first: 1, next: temporal_scale}');
  if (typeof manifest.graphs?.first !== 'string' || typeof manifest.graphs?.next !== 'string') problems.push('"graphs" must name the first and next graph files');
  if (problems.length) throw new VaeModelError(`VAE decoder: ${join(dir, VAE_MANIFEST_FILE)}: ${problems.join('; ')}; the folder is damaged or edited, re-convert the VAE.`);
  return manifest;
}

/** The two converted graphs, loaded once; each clip (or tile) decodes through its own `VaeDecodeState`. */
export class VaeChunkDecoder {
  private constructor(
    readonly manifest: VaeDecoderManifest,
    readonly first: Session,
    readonly next: Session,
  ) {}

  static async load(dir: string, options: ChunkDecoderOptions = {}): Promise<VaeChunkDecoder> {
    const manifest = readVaeManifest(dir);
    const sessionOptions = { intraOpThreads: options.intraOpThreads, providers: options.providers };
    const first = await createSession(join(dir, manifest.graphs.first), sessionOptions);
    const next = await createSession(join(dir, manifest.graphs.next), sessionOptions);
    return new VaeChunkDecoder(manifest, first, next);
  }

  get latentChannels(): number {
    return this.manifest.config.zDim;
  }

  get spatialScale(): number {
    return this.manifest.config.spatialScale;
  }

  /** A fresh causal state: the next frame it decodes is latent frame 0 of a clip. */
  open(): VaeDecodeState {
    return new VaeDecodeState(this);
  }

  async release(): Promise<void> {
    await this.first.release();
    await this.next.release();
  }
}

/** The causal caches of one clip (or one tile of it) between latent frames. */
export class VaeDecodeState {
  private caches: Record<string, Tensor> | null = null;
  private latentIndex = 0;
  private nextFrame = 0;
  private size: [number, number] | null = null;

  constructor(private readonly decoder: VaeChunkDecoder) {}

  /** Number of latent frames decoded so far. */
  get decoded(): number {
    return this.latentIndex;
  }

  /**
   * Decodes the next latent frame, (zDim, h, w) C-contiguous in DiT (normalised) space.
   * onnxruntime runs synchronously on this thread; the promise resolves when it is done.
   */
  async decode(latentFrame: Float32Array, height: number, width: number): Promise<DecodedChunk> {
    const { manifest } = this.decoder;
    const zDim = manifest.config.zDim;
    if (latentFrame.length !== zDim * height * width) {
      throw new VaeModelError(`VAE decoder: latent frame has ${latentFrame.length} values, expected ${zDim}×${height}×${width}.`);
    }
    if (this.size && (this.size[0] !== height || this.size[1] !== width)) {
      throw new VaeModelError(`VAE decoder: frame size changed mid-clip (${this.size.join('×')} → ${height}×${width}); open a new state per clip.`);
    }
    const feeds: Record<string, Tensor> = { z: f32Tensor(latentFrame, [1, zDim, 1, height, width]) };
    const isFirst = this.caches === null;
    if (!isFirst) Object.assign(feeds, this.caches);
    const out = await (isFirst ? this.decoder.first : this.decoder.next).run(feeds);
    const caches: Record<string, Tensor> = {};
    for (const slot of manifest.caches) caches[slot.name] = out[`${slot.name}_out`];
    this.caches = caches;
    this.size = [height, width];
    const frames = out.frames;
    const [, , count, outH, outW] = frames.dims;
    const chunk: DecodedChunk = {
      latentIndex: this.latentIndex++,
      firstFrame: this.nextFrame,
      frames: count,
      height: outH,
      width: outW,
      data: frames.data as Float32Array,
    };
    if (manifest.intermediates) {
      chunk.zUnscaled = out.z_unscaled.data as Float32Array;
      chunk.conv2Out = out.conv2_out.data as Float32Array;
    }
    this.nextFrame += count;
    return chunk;
  }
}
