import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WeightFormatError } from './errors.js';
import { openForRead, specialKind, statPath } from './fileRead.js';
import { openPth } from './pth.js';
import { openSafetensors } from './safetensors.js';
import { openSafetensorsIndex, openShardFiles } from './sharded.js';
import type { RawWeightSource } from './types.js';

export type { RawWeightSource, TensorInfo, WeightDtype, WeightSource } from './types.js';
export { WeightDtypeError, WeightFormatError, WeightKeyError, UnsafePickleError } from './errors.js';
export { openPth } from './pth.js';
export { readRowsF32 } from './rows.js';
export { openSafetensors } from './safetensors.js';
export { openSafetensorsIndex } from './sharded.js';
export { detectLayout, diffusersToOriginal, originalToDiffusers, type KeyLayout, type KeyNaming, type ModelName } from './keymaps.js';

const INDEX_SUFFIX = '.safetensors.index.json';

async function startsWithZipMagic(filePath: string): Promise<boolean> {
  const handle = await openForRead(filePath);
  try {
    const head = new Uint8Array(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
  } finally {
    await handle.close();
  }
}

async function openFolder(dir: string): Promise<RawWeightSource> {
  const names = (await readdir(dir)).sort();
  const indexes = names.filter((n) => n.endsWith(INDEX_SUFFIX));
  if (indexes.length === 1) return openSafetensorsIndex(join(dir, indexes[0]!));
  if (indexes.length > 1) {
    throw new WeightFormatError(dir, `folder holds several indexes (${indexes.join(', ')}); open the one you want directly`);
  }
  const shards = names.filter((n) => n.endsWith('.safetensors'));
  if (shards.length === 1) return openSafetensors(join(dir, shards[0]!));
  if (shards.length > 1) return openShardFiles(dir, shards.map((n) => join(dir, n)));
  throw new WeightFormatError(dir, 'folder holds no .safetensors file or *.safetensors.index.json; point at the weight file instead');
}

/**
 * Open a checkpoint by path: a `.safetensors` file, a `*.safetensors.index.json`, a folder of
 * shards (with or without index), or a torch.save zip (`.pth`/`.pt`, recognised by content).
 */
export async function openWeights(path: string): Promise<RawWeightSource> {
  const st = await statPath(path);
  if (st.isDirectory()) return openFolder(path);
  if (!st.isFile()) throw new WeightFormatError(path, `is ${specialKind(st)}, not a weight file; pass a regular file`);
  if (path.endsWith('.json')) return openSafetensorsIndex(path);
  if (await startsWithZipMagic(path)) return openPth(path);
  if (/\.(pth|pt|bin|ckpt)$/i.test(path)) {
    throw new WeightFormatError(path, 'not a zip archive; legacy (pre-1.6) torch.save files are not supported, re-save with a current torch or convert to safetensors');
  }
  return openSafetensors(path);
}
