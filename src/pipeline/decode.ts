/**
 * Decoding again from a saved latent (issue 19, item 3): `generate --save-latent` writes
 * `<output>.latent.npy` next to `<output>.json`; this reads the latent and that sidecar, and
 * runs the same VAE decode and encoder as `Pipeline.finish`, so the frames are the run's own.
 * Only the VAE decoder is loaded (no DiT, no text encoder).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { GenerateResult } from '../core/renderer.js';
import { UserError } from '../core/errors.js';
import type { VideoFormat } from '../core/types.js';
import { jsonErrorMessage } from '../core/json-error.js';
import { checkInputFile } from '../io/input-file.js';
import { checkOutputTargets, renderTargets } from '../io/safe-output.js';
import type { ExecutionProvider } from '../runtime/session.js';
import { readVaeManifest } from '../models/wan/vae/chunk-decoder.js';
import { latentFrames, videoFrameCount } from '../video/decode-stream.js';
import { encodeChunks } from '../video/encode.js';
import { formatOf } from '../video/format.js';
import { decodeStreamInWorker } from '../video/worker-decode-stream.js';
import { resolvePipeline } from './definition.js';
import { readLatentNpy } from './latent-file.js';

export class DecodeLatentError extends UserError {
  override name = 'DecodeLatentError';
}

export interface DecodeLatentOptions {
  /** The `.npy` latent (C, F, H, W) written by `--save-latent`. */
  latent: string;
  output: string;
  format?: VideoFormat;
  /** The run's sidecar (default: the latent's name without `.latent.npy`, plus `.json`). */
  sidecar?: string;
  /** The pipeline whose VAE decodes (default: the sidecar's `pipeline`). */
  pipeline?: string;
  /** Frames per second (default: the sidecar's, else the pipeline's). */
  fps?: number;
  overwrite?: boolean;
  threads?: number;
  providers?: readonly ExecutionProvider[];
  onFrames?: (done: number, total: number) => void;
}

/** The sidecar a latent came with: `X.latent.npy` → `X.json`. */
export function sidecarOfLatent(latent: string): string | undefined {
  return latent.endsWith('.latent.npy') ? `${latent.slice(0, -'.latent.npy'.length)}.json` : undefined;
}

function readSettings(file: string): Record<string, unknown> {
  checkInputFile(file, 'a video sidecar', 16 * 1024 * 1024);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DecodeLatentError(`${file} is not valid JSON (${jsonErrorMessage(e)}); pass the sidecar of the run that saved the latent with --sidecar`);
  }
  const settings = (doc as { settings?: unknown } | null)?.settings;
  if (typeof settings !== 'object' || settings === null) throw new DecodeLatentError(`${file} is not a diffsparse video sidecar (no "settings"); pass the right one with --sidecar`);
  return settings as Record<string, unknown>;
}

export async function decodeLatentFile(o: DecodeLatentOptions): Promise<GenerateResult & { settings: Record<string, unknown> }> {
  const latent = readLatentNpy(o.latent);
  const sidecar = o.sidecar ?? sidecarOfLatent(o.latent);
  const settings = sidecar && (o.sidecar !== undefined || existsSync(sidecar)) ? readSettings(sidecar) : {};
  const pipelineName = o.pipeline ?? (typeof settings.pipeline === 'string' ? settings.pipeline : undefined);
  if (!pipelineName) throw new DecodeLatentError(`no sidecar found for ${o.latent} (looked for ${sidecar ?? '<name>.latent.npy → <name>.json'}); pass --pipeline (and --sidecar for the run's settings)`);
  let definition;
  try {
    definition = resolvePipeline(pipelineName);
  } catch (e) {
    throw new DecodeLatentError(`the latent was made by pipeline "${pipelineName}", which cannot be loaded here (${(e as Error).message}); pass --pipeline with its model folder`);
  }
  const vae = readVaeManifest(definition.models.vae);
  const [channels, frames, height, width] = latent.shape;
  if (channels !== vae.config.zDim) throw new DecodeLatentError(`${o.latent} has ${channels} channels but the ${definition.name} VAE decodes ${vae.config.zDim}; pass the --pipeline that made it`);
  const s = vae.config.spatialScale;
  if (typeof settings.width === 'number' && typeof settings.height === 'number' && (settings.width !== width * s || settings.height !== height * s)) {
    throw new DecodeLatentError(`${o.latent} is ${width * s}x${height * s} once decoded but its sidecar says ${settings.width}x${settings.height}; pass the sidecar of the run that saved it with --sidecar`);
  }
  const format = formatOf(o.output, o.format);
  await checkOutputTargets(renderTargets(o.output), { overwrite: o.overwrite === true, folder: format === 'png' });
  const total = videoFrameCount(frames, vae.config.temporalScale);
  const fps = o.fps ?? (typeof settings.fps === 'number' ? settings.fps : definition.defaults.fps);
  const t0 = performance.now();
  const chunks = decodeStreamInWorker(definition.models.vae, latentFrames(latent), { height, width }, { intraOpThreads: o.threads ?? 2, providers: o.providers ?? definition.providers ?? ['cpu'] });
  async function* counted(): AsyncGenerator<Awaited<ReturnType<typeof chunks.next>>['value'] & object> {
    let done = 0;
    o.onFrames?.(0, total);
    for await (const c of chunks) {
      done += c.frames;
      o.onFrames?.(done, total);
      yield c;
    }
  }
  const out = { ...settings, fps, decodedFrom: basename(o.latent) };
  const result = await encodeChunks(counted(), { output: o.output, format, fps, settings: out });
  return {
    output: result.output, sidecar: result.sidecar, latent: o.latent, seed: typeof settings.seed === 'number' ? settings.seed : 0,
    frames: result.frames, timings: { decodeEncodeMs: performance.now() - t0 }, flopsRatio: typeof settings.flopsRatio === 'number' ? settings.flopsRatio : 1, settings: out,
  };
}
