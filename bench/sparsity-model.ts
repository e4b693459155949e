/**
 * A random Wan2.1-architecture DiT of a chosen size, written as a checkpoint and converted
 * once into a cached folder (benchmarks only: random weights, randn/sqrt(fan_in) like the
 * fixture's init, norm weights 1 + 0.1·randn, modulations randn/sqrt(dim)).
 */
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { convertCheckpoint } from '../src/convert/index.js';
import { parseWanDiTConfig } from '../src/models/wan/dit/config.js';
import { ditKeyShapes } from '../src/models/wan/dit/keys.js';

export const MID_CONFIG = {
  model_type: 't2v',
  dim: 1024,
  ffn_dim: 6144,
  freq_dim: 256,
  num_heads: 16,
  num_layers: 8,
  in_dim: 16,
  out_dim: 16,
  text_len: 512,
  text_dim: 4096,
  patch_size: [1, 2, 2],
  window_size: [-1, -1],
  qk_norm: true,
  cross_attn_norm: true,
  eps: 1e-6,
};

function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function initTensor(key: string, shape: number[], rand: () => number): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  if (/norm(_q|_k|3)?\.weight$/.test(key)) for (let i = 0; i < size; i++) out[i] = 1 + 0.1 * rand();
  else if (key.endsWith('modulation')) for (let i = 0; i < size; i++) out[i] = rand() / Math.sqrt(shape[shape.length - 1]);
  else {
    const fanIn = shape.length > 1 ? shape.slice(1).reduce((a, b) => a * b, 1) : shape[0];
    for (let i = 0; i < size; i++) out[i] = rand() / Math.sqrt(fanIn);
  }
  return out;
}

/** Returns the converted model folder, creating it under `root` when missing. */
export async function ensureRandomModel(root: string, config: Record<string, unknown> = MID_CONFIG, seed = 1): Promise<string> {
  const modelDir = join(root, 'model');
  if (existsSync(join(modelDir, 'manifest.json'))) return modelDir;
  const ckpt = join(root, 'checkpoint');
  mkdirSync(ckpt, { recursive: true });
  const shapes = ditKeyShapes(parseWanDiTConfig(config));
  const names = [...shapes.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const k of names) {
    const bytes = shapes.get(k)!.reduce((a, b) => a * b, 1) * 4;
    header[k] = { dtype: 'F32', shape: shapes.get(k), data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  while ((json.length + 8) % 8) json += ' ';
  const fd = openSync(join(ckpt, 'diffusion_pytorch_model.safetensors'), 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeSync(fd, len);
  writeSync(fd, Buffer.from(json, 'latin1'));
  const rand = gaussian(seed);
  for (const k of names) {
    const t = initTensor(k, shapes.get(k)!, rand);
    writeSync(fd, new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  }
  closeSync(fd);
  writeFileSync(join(ckpt, 'config.json'), JSON.stringify(config));
  await convertCheckpoint(ckpt, modelDir);
  rmSync(ckpt, { recursive: true, force: true });
  return modelDir;
}

/** Seeded standard-normal data (contexts, noise) for benchmarks. */
export function randomNormal(size: number, seed: number): Float32Array {
  const rand = gaussian(seed);
  return Float32Array.from({ length: size }, rand);
}
