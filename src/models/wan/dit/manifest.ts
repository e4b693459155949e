/**
 * `manifest.json` of a converted DiT folder: what was converted, with which converter
 * format, and every stage file with its size and sha256. It is written last, so a folder
 * without one is an unfinished conversion.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { patchFeatures, validateWanDiTConfig, type WanDiTConfig } from './config.js';
import { DiTModelFolderError } from './errors.js';
import type { RopeSplit } from './rope.js';
import { jsonErrorMessage } from '../../../io/input-file.js';

export const DIT_FORMAT = 'diffsparse-wan21-dit';
/** Bump when stage graphs, their IO or the folder layout change incompatibly. */
export const DIT_FORMAT_VERSION = 1;
export const DIT_MANIFEST = 'manifest.json';

export interface StageFileEntry {
  /** ONNX file name, relative to the folder. */
  file: string;
  bytes: number;
  sha256: string;
  /** External weight file, absent for weight-free stages. */
  weights?: { file: string; bytes: number; sha256: string };
}

export interface DiTManifest {
  format: typeof DIT_FORMAT;
  formatVersion: number;
  converter: string;
  createdAt: string;
  config: WanDiTConfig;
  /** Storage of the Linear weights: float16 is widened to float32 at load, bfloat16 stays half in memory. */
  storageDtype: 'float32' | 'float16' | 'bfloat16';
  /** Linear layers stored as int8/int4 blocks (MatMulNBits), when converted with --quantize. */
  quantized?: 'int8' | 'int4';
  tokens: {
    patchSize: [number, number, number];
    patchFeatures: number;
    headFeatures: number;
    headDim: number;
    ropeSplit: RopeSplit;
    textLen: number;
  };
  source: { path: string; layout: 'original' | 'diffusers'; parameters: number };
  stages: Record<string, StageFileEntry>;
}

/** Reads and checks a converted folder's manifest; every stage file must be present at its recorded size. */
export function readDiTManifest(modelDir: string): DiTManifest {
  const path = join(modelDir, DIT_MANIFEST);
  if (!existsSync(path)) throw new DiTModelFolderError(`${modelDir} has no ${DIT_MANIFEST}: it is not a converted DiT folder or its conversion did not finish; run the converter on the checkpoint again`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DiTModelFolderError(`${path} is not valid JSON (${jsonErrorMessage(e)}); run the converter again`);
  }
  const m = raw as Partial<DiTManifest>;
  if (m.format !== DIT_FORMAT) throw new DiTModelFolderError(`${path}: format "${String(m.format)}" is not a diffsparse Wan2.1 DiT folder (expected "${DIT_FORMAT}")`);
  if (m.formatVersion !== DIT_FORMAT_VERSION)
    throw new DiTModelFolderError(`${modelDir} was converted with DiT format version ${String(m.formatVersion)} (${String(m.converter)}), but this build reads version ${DIT_FORMAT_VERSION}; convert the checkpoint again with this version`);
  if (!m.config || !m.stages || typeof m.config !== 'object' || typeof m.stages !== 'object') throw new DiTModelFolderError(`${path} lacks its config or stage list; run the converter again`);
  // The same bounds as convert (issue 18): an edited manifest must not ask for a million layers.
  try {
    validateWanDiTConfig(m.config);
  } catch (e) {
    throw new DiTModelFolderError(`${path}: ${(e as Error).message.replace(/; fix config\.json$/, '')}; the folder is damaged or edited, run the converter again`);
  }
  const t = m.tokens;
  if (!t || t.textLen !== m.config.textLen || t.headDim !== m.config.dim / m.config.numHeads || String(t.patchSize) !== String(m.config.patchSize) || t.patchFeatures !== patchFeatures(m.config))
    throw new DiTModelFolderError(`${path}: "tokens" does not match "config" (text_len, head_dim, patch_size, patch_features); the folder is damaged or edited, run the converter again`);
  for (const [stage, entry] of Object.entries(m.stages)) {
    for (const f of [entry, entry.weights]) {
      if (!f) continue;
      const p = join(modelDir, f.file);
      if (!existsSync(p)) throw new DiTModelFolderError(`${modelDir}: stage ${stage} file ${f.file} is missing; run the converter again`);
      const size = statSync(p).size;
      if (size !== f.bytes) throw new DiTModelFolderError(`${modelDir}: ${f.file} has ${size} bytes but the manifest says ${f.bytes}; the folder is damaged, run the converter again`);
    }
  }
  return m as DiTManifest;
}
