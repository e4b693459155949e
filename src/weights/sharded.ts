import { readRowsF32 } from './rows.js';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WeightFormatError, WeightKeyError } from './errors.js';
import { openSafetensors } from './safetensors.js';
import type { RawWeightSource, TensorInfo } from './types.js';

/** Several weight sources seen as one; every key lives in exactly one of them. */
export class MergedWeights implements RawWeightSource {
  constructor(
    readonly path: string,
    private readonly owners: Map<string, RawWeightSource>,
    private readonly sources: RawWeightSource[],
  ) {}

  keys(): string[] {
    return [...this.owners.keys()];
  }
  has(key: string): boolean {
    return this.owners.has(key);
  }
  private owner(key: string): RawWeightSource {
    const s = this.owners.get(key);
    if (!s) throw new WeightKeyError(this.path, `no tensor named "${key}"`);
    return s;
  }
  info(key: string): TensorInfo {
    return this.owner(key).info(key);
  }
  readF32(key: string): Promise<Float32Array> {
    return this.owner(key).readF32(key);
  }
  readRowsF32(key: string, rows: readonly number[]): Promise<Float32Array> {
    return readRowsF32(this.owner(key), key, rows);
  }
  readI64(key: string): Promise<BigInt64Array> {
    return this.owner(key).readI64(key);
  }
  readRaw(key: string): Promise<Uint8Array> {
    return this.owner(key).readRaw(key);
  }
  async close(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.close()));
  }
}

async function closeAll(sources: RawWeightSource[]): Promise<void> {
  await Promise.allSettled(sources.map((s) => s.close()));
}

/** Merge shard files whose key sets must not intersect (a folder of shards without an index). */
export async function openShardFiles(label: string, files: string[]): Promise<RawWeightSource> {
  const sources: RawWeightSource[] = [];
  try {
    const owners = new Map<string, RawWeightSource>();
    for (const f of files) {
      const s = await openSafetensors(f);
      sources.push(s);
      for (const k of s.keys()) {
        const prev = owners.get(k);
        if (prev) throw new WeightFormatError(label, `tensor "${k}" appears in both ${basename(prev.path)} and ${basename(f)}`);
        owners.set(k, s);
      }
    }
    return new MergedWeights(label, owners, sources);
  } catch (e) {
    await closeAll(sources);
    throw e;
  }
}

/** Open a sharded checkpoint through its `*.safetensors.index.json` (`{ weight_map: { key: shardFile } }`). */
export async function openSafetensorsIndex(indexPath: string): Promise<RawWeightSource> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new WeightFormatError(indexPath, 'no such file; check the weights path');
    if (code) throw e;
    throw new WeightFormatError(indexPath, `index is not valid JSON (${(e as Error).message})`);
  }
  const map = typeof json === 'object' && json !== null ? (json as { weight_map?: unknown }).weight_map : undefined;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new WeightFormatError(indexPath, 'index has no "weight_map" object');
  }
  const dir = dirname(indexPath);
  const shardOf = new Map<string, string>();
  for (const [key, file] of Object.entries(map)) {
    // Shard names are plain file names next to the index; anything else could point outside the folder.
    if (typeof file !== 'string' || file === '' || file !== basename(file) || file === '..' || file === '.') {
      throw new WeightFormatError(indexPath, `weight_map entry "${key}" names ${JSON.stringify(file)}, not a shard file in the same folder`);
    }
    shardOf.set(key, file);
  }
  const sources: RawWeightSource[] = [];
  try {
    const byFile = new Map<string, RawWeightSource>();
    for (const file of new Set(shardOf.values())) {
      const s = await openSafetensors(join(dir, file));
      sources.push(s);
      byFile.set(file, s);
    }
    const owners = new Map<string, RawWeightSource>();
    for (const [key, file] of shardOf) {
      const s = byFile.get(file)!;
      if (!s.has(key)) throw new WeightFormatError(indexPath, `weight_map puts "${key}" in ${file}, but that shard has no such tensor`);
      owners.set(key, s);
    }
    return new MergedWeights(indexPath, owners, sources);
  } catch (e) {
    await closeAll(sources);
    throw e;
  }
}
