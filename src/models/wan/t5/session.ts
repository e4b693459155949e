/**
 * Running a converted umT5 encoder: ids/mask in, context rows out, trimmed per prompt to
 * its real length as wan's `T5EncoderModel.__call__` returns them.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createSession, i64Tensor, type Session, type SessionOptions } from '../../../runtime/session.js';
import type { TextContext } from '../../../core/types.js';
import { T5_FILES, type T5ModelManifest } from './convert.js';
import { T5_INPUTS, T5_OUTPUT } from './graph.js';
import { T5ConfigError, t5ConfigProblems, type T5EncoderConfig } from './config.js';
import { jsonErrorMessage } from '../../../io/input-file.js';

/** What the text encoder needs of an encoder: the one-graph session or the layered one (layered.ts). */
export interface T5Encoder {
  readonly config: T5EncoderConfig;
  runs: number;
  readonly session: { release(): Promise<void> };
  run(ids: BigInt64Array, mask: BigInt64Array, batch: number): Promise<Float32Array>;
  encodeTrimmed(ids: BigInt64Array, mask: BigInt64Array, batch: number): Promise<TextContext[]>;
}

/** Reads and checks text_encoder.json. */
export function readT5Manifest(modelDir: string): T5ModelManifest {
  const path = join(modelDir, T5_FILES.config);
  let manifest: T5ModelManifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as T5ModelManifest;
  } catch (e) {
    throw new T5ConfigError(`${path} cannot be read as JSON (${jsonErrorMessage(e)}); convert the text encoder again`);
  }
  // The same bounds as convert (issue 18): an edited text_encoder.json must not ask for text_len 1e9.
  const problems = typeof manifest?.config === 'object' && manifest.config !== null ? t5ConfigProblems(manifest.config) : ['"config" is missing'];
  if (problems.length) throw new T5ConfigError(`${path}: ${problems.join('; ')}; the folder is damaged or edited, convert the text encoder again`);
  return manifest;
}

/** The encoder of a converted folder: layered from the checkpoint when the folder says so, else the one graph. */
export async function loadT5Encoder(modelDir: string, options: SessionOptions = {}): Promise<T5Encoder> {
  const manifest = readT5Manifest(modelDir);
  if (manifest.storedAs !== 'checkpoint') return T5EncoderSession.load(modelDir, options);
  const checkpoint = manifest.layered?.checkpoint;
  if (typeof checkpoint !== 'string') throw new T5ConfigError(`${join(modelDir, T5_FILES.config)}: "layered.checkpoint" is missing; convert the text encoder again`);
  const { openWeights } = await import('../../../weights/index.js');
  const { LayeredT5Encoder } = await import('./layered.js');
  const source = await openWeights(resolve(modelDir, checkpoint));
  try {
    return await LayeredT5Encoder.open(source, manifest.config, { ...options, ownsSource: true });
  } catch (e) {
    await source.close();
    throw e;
  }
}

/** The official wrapper's trim: each batch row of `out` [batch, length, dim] keeps its first mask.sum() positions. */
export function trimToMask(out: Float32Array, mask: BigInt64Array, batch: number, dim: number): TextContext[] {
  const length = mask.length / batch;
  const contexts: TextContext[] = [];
  for (let b = 0; b < batch; b++) {
    let valid = 0;
    for (let i = 0; i < length; i++) valid += Number(mask[b * length + i]);
    const start = b * length * dim;
    contexts.push({ data: out.slice(start, start + valid * dim), shape: [valid, dim] });
  }
  return contexts;
}

export class T5EncoderSession {
  /** Encoder runs so far (lets callers and tests see what a cache saved). */
  runs = 0;

  constructor(readonly session: Session, readonly config: T5EncoderConfig) {}

  /** Loads `text_encoder.onnx` (by path, so external weights resolve) and its config from a converted folder. */
  static async load(modelDir: string, options: SessionOptions = {}): Promise<T5EncoderSession> {
    const manifest = readT5Manifest(modelDir);
    return new T5EncoderSession(await createSession(join(modelDir, T5_FILES.model), options), manifest.config);
  }

  /** Raw encoder output [batch, length, dim] for padded ids and mask, both [batch, length]. */
  async run(ids: BigInt64Array, mask: BigInt64Array, batch: number): Promise<Float32Array> {
    const length = ids.length / batch;
    this.runs++;
    const out = await this.session.run({ [T5_INPUTS.ids]: i64Tensor(ids, [batch, length]), [T5_INPUTS.mask]: i64Tensor(mask, [batch, length]) });
    return out[T5_OUTPUT].data as Float32Array;
  }

  /** The official wrapper: run the padded batch, then keep each row's first mask.sum() positions. */
  async encodeTrimmed(ids: BigInt64Array, mask: BigInt64Array, batch: number): Promise<TextContext[]> {
    return trimToMask(await this.run(ids, mask, batch), mask, batch, this.config.dim);
  }
}
