/** Writes variants of the fixture checkpoint (renamed, dropped or extra keys) for converter tests. */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors } from '../../../src/weights/safetensors.js';
import { FIXTURE_DIT_DIR } from '../fixtures.js';

export interface Tensor { shape: number[]; data: Float32Array }

export async function readFixtureCheckpoint(): Promise<Map<string, Tensor>> {
  const src = await openSafetensors(join(FIXTURE_DIT_DIR, 'wan21_tiny_dit.safetensors'));
  const out = new Map<string, Tensor>();
  for (const k of src.keys()) out.set(k, { shape: src.info(k).shape, data: await src.readF32(k) });
  await src.close();
  return out;
}

/** A minimal F32 safetensors writer (header JSON padded to 8 bytes, then the data). */
export function writeSafetensors(path: string, tensors: Map<string, Tensor>): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  const names = [...tensors.keys()].sort();
  for (const k of names) {
    const t = tensors.get(k)!;
    header[k] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((json.length + 8) % 8) json += ' ';
  const buf = Buffer.alloc(8 + json.length + offset);
  buf.writeBigUInt64LE(BigInt(json.length), 0);
  buf.write(json, 8, 'latin1');
  let pos = 8 + json.length;
  for (const k of names) {
    const d = tensors.get(k)!.data;
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(buf, pos);
    pos += d.byteLength;
  }
  writeFileSync(path, buf);
}

/** A checkpoint folder holding `tensors` as diffusion_pytorch_model.safetensors and the fixture config. */
export function writeCheckpointDir(dir: string, tensors: Map<string, Tensor>, config?: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, 'diffusion_pytorch_model.safetensors'), tensors);
  if (config) writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  else copyFileSync(join(FIXTURE_DIT_DIR, 'config.json'), join(dir, 'config.json'));
  return dir;
}
