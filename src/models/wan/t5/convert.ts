/**
 * Checkpoint → converted text-encoder folder:
 *   text_encoder.onnx + text_encoder.weights   the umT5 encoder (fp32 compute; weights fp32 or fp16 on disk)
 *   text_encoder.json                          its config (widths, heads, text_len) and the storage dtype
 *   tokenizer.json                             copied from the release when given
 * Accepts the original `models_t5_umt5-xxl-enc-bf16.pth` or HF `UMT5EncoderModel`
 * safetensors (names mapped). Tensors are read, converted and written one at a time.
 */
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openWeights, type WeightSource } from '../../../weights/index.js';
import { inferT5Config, t5Keys, UMT5_XXL, type T5EncoderConfig } from './config.js';
import { buildT5EncoderGraph } from './graph.js';
import { StreamingWeightWriter, type StoredDtype } from './streaming-weights.js';
import { readT5Tensor, t5KeyIndex } from './weights.js';

export const T5_FILES = { model: 'text_encoder.onnx', config: 'text_encoder.json', tokenizer: 'tokenizer.json' } as const;

export interface T5ModelManifest {
  format: 'diffsparse-umt5-encoder';
  version: 1;
  config: T5EncoderConfig;
  /** 'checkpoint': no ONNX file; the encoder runs layer by layer from `layered.checkpoint` (layered.ts). */
  storedAs: StoredDtype | 'checkpoint';
  inputs: { ids: string; mask: string };
  output: string;
  /** The checkpoint a layered encoder reads its weights from (absolute, or relative to the folder). */
  layered?: { checkpoint: string };
}

export interface ConvertT5Options {
  /** Expected head count (checked against the position tables, which record it). */
  numHeads?: number;
  textLen?: number;
  /** Store weights as float16 on disk (half the size; compute stays float32). Default float32. */
  storeAs?: StoredDtype;
  /** A tokenizer.json to copy next to the model. */
  tokenizerPath?: string;
  /** Called after each tensor is written (progress). */
  onTensor?: (key: string, bytesWritten: number) => void;
  /**
   * Write no ONNX copy: the encoder runs layer by layer from the checkpoint itself (a few GB
   * for umT5-XXL instead of 23). Default: layered when the float32 weights would exceed 8 GB.
   */
  layered?: boolean;
}

/** Float32 bytes above which a text encoder is run layer by layer unless asked otherwise. */
export const LAYERED_T5_BYTES = 8 * 1024 ** 3;

export async function convertT5Encoder(source: WeightSource, outDir: string, options: ConvertT5Options = {}): Promise<T5ModelManifest> {
  const index = t5KeyIndex(source);
  const cfg = inferT5Config((k) => {
    const stored = index.get(k);
    return stored ? source.info(stored).shape : undefined;
  }, { textLen: options.textLen ?? UMT5_XXL.textLen, numHeads: options.numHeads });
  const storeAs = options.storeAs ?? 'float32';
  mkdirSync(outDir, { recursive: true });
  const float32Bytes = 4 * [...index.values()].reduce((sum, k) => sum + source.info(k).shape.reduce((a, b) => a * b, 1), 0);
  if (options.layered ?? float32Bytes > LAYERED_T5_BYTES) {
    const manifest: T5ModelManifest = { format: 'diffsparse-umt5-encoder', version: 1, config: cfg, storedAs: 'checkpoint', inputs: { ids: 'ids', mask: 'mask' }, output: 'context', layered: { checkpoint: resolve(source.path) } };
    writeManifest(outDir, manifest, options.tokenizerPath);
    return manifest;
  }
  const writer = new StreamingWeightWriter(join(outDir, T5_FILES.model));
  try {
    const g = await buildT5EncoderGraph(cfg, async (graph, key, kind) => {
      const { dims, data } = await readT5Tensor(source, index, key, kind);
      // Only the big matrices take the storage dtype; norm scales and position tables are tiny and stay fp32.
      const big = kind === 'linear' || key === t5Keys.embedding;
      const value = writer.add(graph, key, dims, data, big ? storeAs : 'float32');
      options.onTensor?.(key, writer.bytesWritten);
      return value;
    });
    writer.finish(g);
  } catch (e) {
    writer.abort();
    throw e;
  }
  const manifest: T5ModelManifest = { format: 'diffsparse-umt5-encoder', version: 1, config: cfg, storedAs: storeAs, inputs: { ids: 'ids', mask: 'mask' }, output: 'context' };
  writeManifest(outDir, manifest, options.tokenizerPath);
  return manifest;
}

function writeManifest(outDir: string, manifest: T5ModelManifest, tokenizerPath?: string): void {
  const configPath = join(outDir, T5_FILES.config);
  writeFileSync(`${configPath}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${configPath}.tmp`, configPath);
  if (tokenizerPath) {
    const tokPath = join(outDir, T5_FILES.tokenizer);
    copyFileSync(tokenizerPath, `${tokPath}.tmp`);
    renameSync(`${tokPath}.tmp`, tokPath);
  }
}

/** Opens the checkpoint at `weightsPath` (file, shard folder or index) and converts it. */
export async function convertT5EncoderFile(weightsPath: string, outDir: string, options: ConvertT5Options = {}): Promise<T5ModelManifest> {
  const source = await openWeights(weightsPath);
  try {
    return await convertT5Encoder(source, outDir, options);
  } finally {
    await source.close();
  }
}
