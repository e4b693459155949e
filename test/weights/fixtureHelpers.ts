import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/wan21-tiny/', import.meta.url));

export interface ManifestWeights {
  file: string;
  dtype: string;
  num_tensors: number;
  num_params: number;
  keys: Record<string, number[]>;
}

export type ModelName = 'dit' | 'vae' | 't5';

export function manifestWeights(model: ModelName): ManifestWeights {
  const manifest = JSON.parse(readFileSync(`${FIXTURES}manifest.json`, 'utf8')) as {
    fixtures: Record<ModelName, { weights: ManifestWeights }>;
  };
  return manifest.fixtures[model].weights;
}

/** The manifest spells dtypes the torch way. */
export const MANIFEST_DTYPE: Record<string, string> = { float32: 'F32', bfloat16: 'BF16', float16: 'F16' };
