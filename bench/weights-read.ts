/**
 * Read throughput of the safetensors reader against a plain sequential read of the same file.
 * Writes a ~1 GiB F32 safetensors file (256 tensors of 4 MiB) to the temp folder, then reads it
 * plain → reader → reader → plain, so the first pass of each shows the page-cache effect.
 * Run: npx tsx bench/weights-read.ts [sizeMiB]
 *      npx tsx bench/weights-read.ts --big   (one 2.25 GiB tensor: the chunked >2 GiB read path)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toFloat32 } from '../src/weights/convert.js';
import { openWeights } from '../src/weights/index.js';

const TENSOR_MIB = 4;
const big = process.argv.includes('--big');
const totalMiB = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 1024);
const tensorCount = Math.max(1, Math.round(totalMiB / TENSOR_MIB));
const tensorBytes = TENSOR_MIB * 1024 * 1024;
const PLAIN_CHUNK = 16 * 1024 * 1024;

async function writeFile(path: string): Promise<number> {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  for (let i = 0; i < tensorCount; i++) {
    header[`blocks.${i}.weight`] = { dtype: 'F32', shape: [1024, tensorBytes / 4096], data_offsets: [i * tensorBytes, (i + 1) * tensorBytes] };
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += ' ';
  const prefix = Buffer.alloc(8 + json.length);
  prefix.writeBigUInt64LE(BigInt(json.length));
  prefix.write(json, 8, 'utf8');
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.write(prefix);
    const block = new Float32Array(tensorBytes / 4);
    for (let i = 0; i < tensorCount; i++) {
      block.fill(i * 0.001);
      await handle.write(new Uint8Array(block.buffer));
    }
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  return prefix.length + tensorCount * tensorBytes;
}

async function plainRead(path: string): Promise<number> {
  const handle = await open(path, 'r');
  const buf = Buffer.alloc(PLAIN_CHUNK);
  let total = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, PLAIN_CHUNK, total);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return total;
}

async function readerRead(path: string): Promise<number> {
  const w = await openWeights(path);
  let total = 0;
  let checksum = 0;
  try {
    for (const key of w.keys()) {
      const values = await w.readF32(key);
      total += values.byteLength;
      checksum += values[values.length - 1]!;
    }
  } finally {
    await w.close();
  }
  if (!Number.isFinite(checksum)) throw new Error('bad read');
  return total;
}

/** In-memory widening speed of the 16-bit dtypes (the umT5 checkpoint is BF16). */
function widening(): void {
  const raw = new Uint8Array(64 * 1024 * 1024);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 131) & 0x7f;
  for (const dtype of ['BF16', 'F16'] as const) {
    const t0 = process.hrtime.bigint();
    const out = toFloat32(raw, dtype, 'memory', 'x');
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`widen ${dtype} -> F32 in memory`.padEnd(34), `${(raw.byteLength / 1e6).toFixed(0).padStart(6)} MB in ${seconds.toFixed(3)} s = ${(raw.byteLength / 1e6 / seconds).toFixed(0).padStart(6)} MB/s (input), ${out.length} values`);
  }
}

async function timed(label: string, run: () => Promise<number>): Promise<void> {
  const t0 = process.hrtime.bigint();
  const bytes = await run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const mb = bytes / 1e6;
  console.log(`${label.padEnd(34)} ${mb.toFixed(0).padStart(6)} MB in ${seconds.toFixed(3)} s = ${(mb / seconds).toFixed(0).padStart(6)} MB/s`);
}

/** One tensor above Node's 2 GiB single-read limit; every 64 MiB block holds its block index. */
async function bigTensorCheck(dirPath: string): Promise<void> {
  const blockFloats = 16 * 1024 * 1024;
  const blocks = 36; // 36 × 64 MiB = 2.25 GiB
  const header = JSON.stringify({ big: { dtype: 'F32', shape: [blocks, blockFloats], data_offsets: [0, blocks * blockFloats * 4] } }).padEnd(120, ' ');
  const prefix = Buffer.alloc(8 + header.length);
  prefix.writeBigUInt64LE(BigInt(header.length));
  prefix.write(header, 8, 'utf8');
  const file = join(dirPath, 'big.safetensors');
  const handle = await open(file, 'w');
  try {
    await handle.write(prefix);
    const block = new Float32Array(blockFloats);
    for (let b = 0; b < blocks; b++) await handle.write(new Uint8Array(block.fill(b).buffer));
  } finally {
    await handle.close();
  }
  const w = await openWeights(file);
  try {
    const t0 = process.hrtime.bigint();
    const values = await w.readF32('big');
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    for (let b = 0; b < blocks; b++) {
      for (const i of [b * blockFloats, (b + 1) * blockFloats - 1]) {
        if (values[i] !== b) throw new Error(`big tensor element ${i} is ${values[i]}, expected ${b}`);
      }
    }
    console.log(`single ${(values.byteLength / 2 ** 30).toFixed(2)} GiB tensor read and checked in ${seconds.toFixed(2)} s (${(values.byteLength / 1e6 / seconds).toFixed(0)} MB/s)`);
  } finally {
    await w.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'weights-bench-'));
const path = join(dir, 'bench.safetensors');
try {
  if (big) {
    await bigTensorCheck(dir);
  } else {
    const t0 = Date.now();
    const size = await writeFile(path);
    console.log(`wrote ${(size / 1e6).toFixed(0)} MB (${tensorCount} F32 tensors of ${TENSOR_MIB} MiB) in ${((Date.now() - t0) / 1000).toFixed(1)} s to ${path}`);
    // The reader allocates a fresh array per tensor (it hands them out); the plain read reuses one buffer.
    await timed('1. plain fs read (16 MiB chunks)', () => plainRead(path));
    await timed('2. openWeights + readF32 (all)', () => readerRead(path));
    await timed('3. openWeights + readF32 (all)', () => readerRead(path));
    await timed('4. plain fs read (16 MiB chunks)', () => plainRead(path));
    widening();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
