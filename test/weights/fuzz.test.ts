import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { openWeights, WeightFormatError } from '../../src/weights/index.js';
import { FIXTURES, manifestWeights } from './fixtureHelpers.js';
import { uniformRandom } from '../../src/core/random.js';


type Rand = () => number;
const int = (r: Rand, n: number): number => Math.floor(r() * n);

function flipBytes(r: Rand, bytes: Buffer, from: number, to: number, count: number): void {
  for (let i = 0; i < count; i++) {
    const at = from + int(r, Math.max(1, to - from));
    bytes[at] = bytes[at]! ^ (1 + int(r, 255));
  }
}

// ---- safetensors mutations

function headerOf(bytes: Buffer): { len: number; json: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }> } {
  const len = Number(bytes.readBigUInt64LE(0));
  return { len, json: JSON.parse(bytes.subarray(8, 8 + len).toString('utf8')) };
}

function withNewHeader(bytes: Buffer, json: unknown, keepLength: boolean): Buffer {
  const { len } = headerOf(bytes);
  let text = JSON.stringify(json);
  if (keepLength) text = text.length <= len ? text.padEnd(len, ' ') : text;
  const header = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(8 + header.length + (bytes.length - 8 - len));
  out.writeBigUInt64LE(BigInt(header.length));
  header.copy(out, 8);
  bytes.copy(out, 8 + header.length, 8 + len);
  return out;
}

const SAFETENSORS_MUTATIONS: Array<(r: Rand, b: Buffer) => Buffer> = [
  (r, b) => { flipBytes(r, b, 0, b.length, 1 + int(r, 8)); return b; },
  (r, b) => { flipBytes(r, b, 0, 8 + headerOf(b).len, 1 + int(r, 4)); return b; },
  (r, b) => b.subarray(0, int(r, b.length)),
  (r, b) => {
    const choices = [0n, 1n, 7n, BigInt(headerOf(b).len + 1 + int(r, 64)), BigInt(headerOf(b).len - 1 - int(r, 64)), BigInt(b.length), 2n ** 62n, 2n ** 64n - 1n];
    const v = choices[int(r, choices.length)]!;
    b.writeBigUInt64LE(v < 0n ? 0n : v, 0);
    return b;
  },
  (r, b) => {
    const { json } = headerOf(b);
    const keys = Object.keys(json).filter((k) => k !== '__metadata__');
    const k = keys[int(r, keys.length)]!;
    const e = json[k]!;
    const deltas = [-4, -1, 1, 4, 64, 1 << 20, -(1 << 20)];
    const d = deltas[int(r, deltas.length)]!;
    switch (int(r, 6)) {
      case 0: e.data_offsets[0]! += d; break;
      case 1: e.data_offsets[1]! += d; break;
      case 2: e.data_offsets = [e.data_offsets[0]! + d, e.data_offsets[1]! + d]; break;
      case 3: e.shape[int(r, Math.max(1, e.shape.length))] = [0, -1, 2.5, 1e300, 2 ** 53][int(r, 5)]!; break;
      case 4: e.dtype = ['F16', 'BF16', 'I64', 'F64', 'X9', 'U8'][int(r, 6)]!; break;
      default: {
        const other = json[keys[int(r, keys.length)]!]!;
        e.data_offsets = other.data_offsets.slice();
      }
    }
    return withNewHeader(b, json, r() < 0.5);
  },
];

// ---- zip / pickle mutations

interface CentralEntry { at: number; name: string; nameAt: number; size: number; localAt: number }

function centralEntries(b: Buffer): { eocd: number; cdOffset: number; entries: CentralEntry[] } {
  const eocd = b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const cdOffset = b.readUInt32LE(eocd + 16);
  const count = b.readUInt16LE(eocd + 10);
  const entries: CentralEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    const nameLen = b.readUInt16LE(p + 28);
    const name = b.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    entries.push({ at: p, name, nameAt: p + 46, size: b.readUInt32LE(p + 24), localAt: b.readUInt32LE(p + 42) });
    p += 46 + nameLen + b.readUInt16LE(p + 30) + b.readUInt16LE(p + 32);
  }
  return { eocd, cdOffset, entries };
}

function dataStart(b: Buffer, e: CentralEntry): number {
  return e.localAt + 30 + b.readUInt16LE(e.localAt + 26) + b.readUInt16LE(e.localAt + 28);
}

/** Corrupt a member's bytes but fix its CRC, so the damage reaches the parser behind the zip layer. */
function corruptMember(r: Rand, b: Buffer, e: CentralEntry, flips: number): Buffer {
  const start = dataStart(b, e);
  flipBytes(r, b, start, start + e.size, flips);
  b.writeUInt32LE(crc32(b.subarray(start, start + e.size)) >>> 0, e.at + 16);
  return b;
}

const ZIP_MUTATIONS: Array<(r: Rand, b: Buffer) => Buffer> = [
  (r, b) => { flipBytes(r, b, 0, b.length, 1 + int(r, 8)); return b; },
  (r, b) => b.subarray(0, int(r, b.length)),
  (r, b) => { const { cdOffset } = centralEntries(b); flipBytes(r, b, cdOffset, b.length, 1 + int(r, 6)); return b; },
  (r, b) => {
    // Numeric fields of one central entry or of the end record.
    const { eocd, entries } = centralEntries(b);
    const e = entries[int(r, entries.length)]!;
    const fields = [e.at + 10, e.at + 16, e.at + 20, e.at + 24, e.at + 28, e.at + 42, eocd + 10, eocd + 12, eocd + 16];
    const at = fields[int(r, fields.length)]!;
    const values = [0, 1, 0xffff, 0xffffffff, b.length, b.readUInt32LE(at) + 1, b.readUInt32LE(at) - 1];
    const v = values[int(r, values.length)]! >>> 0;
    if (at === e.at + 10 || at === e.at + 28 || at === eocd + 10) b.writeUInt16LE(v & 0xffff, at);
    else b.writeUInt32LE(v, at);
    return b;
  },
  (r, b) => {
    const e = centralEntries(b).entries.find((x) => x.name.endsWith('/data.pkl'))!;
    return corruptMember(r, b, e, 1 + int(r, 4));
  },
  (r, b) => {
    // Rename a storage so the pickle points at a missing member.
    const { entries } = centralEntries(b);
    const e = entries[int(r, entries.length)]!;
    b[e.nameAt + e.name.length - 1] = 0x7a;
    return b;
  },
  (r, b) => {
    const storages = centralEntries(b).entries.filter((x) => x.name.includes('/data/'));
    return corruptMember(r, b, storages[int(r, storages.length)]!, 1 + int(r, 16));
  },
];

type Outcome = 'read' | 'typed-error';

async function readEverything(path: string): Promise<Outcome> {
  let w;
  try {
    w = await openWeights(path);
  } catch (e) {
    if (e instanceof WeightFormatError) return 'typed-error';
    throw e;
  }
  try {
    for (const k of w.keys()) {
      const info = w.info(k);
      const values = info.dtype === 'I64' ? await w.readI64(k) : await w.readF32(k);
      const numel = info.shape.reduce((a, b) => a * b, 1);
      if (values.length !== numel) throw new Error(`"${k}" returned ${values.length} values for shape ${info.shape}`);
    }
    return 'read';
  } catch (e) {
    if (e instanceof WeightFormatError) return 'typed-error';
    throw e;
  } finally {
    await w.close();
  }
}

function withDeadline<T>(p: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no result after ${ms} ms (hang)`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

const dir = mkdtempSync(join(tmpdir(), 'weights-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TARGETS = [
  { model: 'dit' as const, cases: 160, mutations: SAFETENSORS_MUTATIONS, seed: 11 },
  { model: 't5' as const, cases: 160, mutations: ZIP_MUTATIONS, seed: 22 },
  { model: 'vae' as const, cases: 50, mutations: ZIP_MUTATIONS, seed: 33 },
];

describe('fuzzed copies of the fixture weight files', () => {
  for (const { model, cases, mutations, seed } of TARGETS) {
    it(`${model}: ${cases} seeded mutations end in a complete read or a WeightFormatError`, async () => {
      const original = readFileSync(FIXTURES + manifestWeights(model).file);
      const ext = model === 'dit' ? 'safetensors' : 'pth';
      const r = uniformRandom(seed);
      const tally: Record<Outcome, number> = { read: 0, 'typed-error': 0 };
      for (let i = 0; i < cases; i++) {
        const kind = int(r, mutations.length);
        const mutated = mutations[kind]!(r, Buffer.from(original));
        const path = join(dir, `${model}-${i}.${ext}`);
        writeFileSync(path, mutated);
        const label = `${model} case ${i} (mutation ${kind})`;
        const outcome = await withDeadline(readEverything(path), 5000, label).catch((e: unknown) => {
          throw new Error(`${label}: ${(e as Error).stack ?? String(e)}`);
        });
        tally[outcome]++;
        rmSync(path);
      }
      // Both outcomes must occur, or the mutations are not exercising anything.
      expect(tally['typed-error']).toBeGreaterThan(cases / 4);
      expect(tally.read).toBeGreaterThan(0);
    });
  }

  it('random bytes and empty files are refused with WeightFormatError', async () => {
    const r = uniformRandom(44);
    for (let i = 0; i < 20; i++) {
      const path = join(dir, `noise-${i}.${i % 2 ? 'pth' : 'safetensors'}`);
      const bytes = Buffer.alloc(int(r, 200)).map(() => int(r, 256));
      if (i % 4 === 1 && bytes.length > 4) bytes.set([0x50, 0x4b, 0x03, 0x04]);
      writeFileSync(path, bytes);
      expect(await readEverything(path)).toBe('typed-error');
    }
  });
});
