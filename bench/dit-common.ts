/**
 * Shared pieces of the DiT benchmarks: the mid-size random Wan config and a streaming
 * writer for a random checkpoint in the original release layout (never held whole).
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { WanDiTConfig } from '../src/models/wan/dit/config.js';
import { ditKeyShapes } from '../src/models/wan/dit/keys.js';
import { mulberry32 } from '../src/core/random.js';

/** dim 1024, 16 heads (head_dim 64), 8 layers, FFN 4096, umT5 width and length. */
export const MID_CONFIG_JSON = {
  _class_name: 'WanModel', model_type: 't2v', dim: 1024, ffn_dim: 4096, freq_dim: 256, num_heads: 16, num_layers: 8,
  in_dim: 16, out_dim: 16, text_len: 512, eps: 1e-6,
};

/** A seeded standard-normal generator (mulberry32 + Box-Muller). */
export function normalRng(seed: number): () => number {
  const next = mulberry32(seed);
  const uniform = (): number => (next() + 1) / 4294967297; // in (0, 1): log stays finite
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Values like the fixture's init rules: weights randn/√fan_in, norms 1+0.1·randn, modulations randn/√dim. */
function fillTensor(key: string, shape: number[], dim: number, rng: () => number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let scale = 0.02;
  let offset = 0;
  if (key.endsWith('modulation')) scale = 1 / Math.sqrt(dim);
  else if (key.includes('norm')) {
    scale = 0.1;
    offset = key.endsWith('.bias') ? 0 : 1;
  } else if (key.endsWith('.weight')) scale = 1 / Math.sqrt(n / shape[0]);
  for (let i = 0; i < n; i++) out[i] = offset + scale * rng();
  return out;
}

/** Writes config.json and diffusion_pytorch_model.safetensors for `configJson` into `dir`. */
export function writeRandomCheckpoint(dir: string, config: WanDiTConfig, configJson: Record<string, unknown>, seed = 1): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(configJson, null, 2));
  const shapes = [...ditKeyShapes(config)].sort(([a], [b]) => (a < b ? -1 : 1));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [key, shape] of shapes) {
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    header[key] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  while ((json.length + 8) % 8) json += ' ';
  const fd = openSync(join(dir, 'diffusion_pytorch_model.safetensors'), 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeSync(fd, len);
    writeSync(fd, Buffer.from(json, 'latin1'));
    const rng = normalRng(seed);
    for (const [key, shape] of shapes) {
      const data = fillTensor(key, shape, config.dim, rng);
      writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  } finally {
    closeSync(fd);
  }
}

/** Dense-block FLOPs per token-caching-methods.md §5.4 (multiply-add = 2, attention matmuls included). */
export function blockFlops(n: number, d: number, ffn: number, textLen: number): { selfAttn: number; attnMatmuls: number; crossAttn: number; ffn: number; total: number } {
  const attnMatmuls = 4 * n * n * d;
  const selfAttn = 8 * n * d * d + attnMatmuls;
  const crossAttn = 4 * n * d * d + 4 * n * textLen * d;
  const ffnF = 4 * n * d * ffn;
  return { selfAttn, attnMatmuls, crossAttn, ffn: ffnF, total: selfAttn + crossAttn + ffnF };
}
