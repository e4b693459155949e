import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPth, openWeights, UnsafePickleError, WeightFormatError } from '../../src/weights/index.js';
import { unpickle } from '../../src/weights/pickle.js';
import { FIXTURES, manifestWeights } from './fixtureHelpers.js';
import { bytesOf, PickleWriter, pthBytes, stateDictPickle, zipBytes, type PickleTensorSpec } from './writers.js';

const dir = mkdtempSync(join(tmpdir(), 'weights-pth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function writeTemp(bytes: Uint8Array, name = `c${counter++}.pth`): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

async function openError(path: string): Promise<unknown> {
  return openWeights(path).then(
    (w) => w.close().then(() => new Error('opened without error')),
    (e: unknown) => e,
  );
}

const storage0 = new Float32Array(24).map((_, i) => i + 0.5);
const longs = new BigInt64Array([5n, -7n, 1n << 40n]);
const halves = new Uint16Array([0x3c00, 0xc000, 0x3555]); // 1, -2, 0.333…
const SPECS: PickleTensorSpec[] = [
  { name: 'dense', storageType: 'FloatStorage', key: '0', numel: 24, offset: 0, shape: [4, 6], stride: [6, 1] },
  { name: 'offset_view', storageType: 'FloatStorage', key: '0', numel: 24, offset: 6, shape: [2, 3], stride: [3, 1] },
  { name: 'transposed', storageType: 'FloatStorage', key: '0', numel: 24, offset: 0, shape: [6, 4], stride: [1, 6] },
  { name: 'strided', storageType: 'FloatStorage', key: '0', numel: 24, offset: 1, shape: [2, 2, 3], stride: [12, 6, 2] },
  { name: 'unit_dim', storageType: 'FloatStorage', key: '0', numel: 24, offset: 0, shape: [1, 24], stride: [999, 1], parameter: true },
  { name: 'ids', storageType: 'LongStorage', key: 'long', numel: 3, offset: 0, shape: [3], stride: [1] },
  { name: 'half', storageType: 'HalfStorage', key: 'h', numel: 3, offset: 0, shape: [3], stride: [1] },
];
const STORAGES = [
  { key: '0', data: bytesOf(storage0) },
  { key: 'long', data: bytesOf(longs) },
  { key: 'h', data: bytesOf(halves) },
];

function expectedDense(): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r < 4; r++) rows.push([...storage0.subarray(r * 6, r * 6 + 6)]);
  return rows;
}

describe('torch .pth reader', () => {
  for (const variant of [
    { label: 'stored', options: {} },
    { label: 'deflated', options: { deflate: true } },
    { label: 'ZIP64', options: { zip64: true } },
    { label: 'ZIP64 + deflate, archive/ prefix, byteorder', options: { zip64: true, deflate: true, byteorder: 'little' }, prefix: 'archive' },
  ]) {
    it(`reads views, strides, offsets, I64 and F16 storages (${variant.label})`, async () => {
      const path = writeTemp(pthBytes(variant.prefix ?? 'model', stateDictPickle(SPECS), STORAGES, variant.options));
      const w = await openWeights(path);
      try {
        expect(w.keys()).toEqual(SPECS.map((s) => s.name));
        const dense = expectedDense();
        expect([...(await w.readF32('dense'))]).toEqual(dense.flat());
        expect([...(await w.readF32('offset_view'))]).toEqual([...storage0.subarray(6, 12)]);
        const transposed = await w.readF32('transposed');
        expect(w.info('transposed').shape).toEqual([6, 4]);
        for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) expect(transposed[i * 4 + j]).toBe(dense[j]![i]);
        const strided = await w.readF32('strided');
        const expect3: number[] = [];
        for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) for (let c = 0; c < 3; c++) expect3.push(storage0[1 + a * 12 + b * 6 + c * 2]!);
        expect([...strided]).toEqual(expect3);
        expect([...(await w.readF32('unit_dim'))]).toEqual([...storage0]);
        expect(w.info('ids')).toEqual({ name: 'ids', dtype: 'I64', shape: [3] });
        expect([...(await w.readI64('ids'))]).toEqual([...longs]);
        await expect(w.readF32('ids')).rejects.toMatchObject({ name: 'WeightDtypeError' });
        expect([...(await w.readF32('half'))]).toEqual([1, -2, 0.333251953125]);
      } finally {
        await w.close();
      }
    });
  }

  it('refuses a big-endian checkpoint, a missing storage, a size mismatch and out-of-range views', async () => {
    const big = writeTemp(pthBytes('m', stateDictPickle(SPECS), STORAGES, { byteorder: 'big' }));
    expect(await openError(big)).toBeInstanceOf(WeightFormatError);
    const missing = writeTemp(pthBytes('m', stateDictPickle(SPECS), STORAGES.slice(0, 2)));
    const e1 = await openError(missing);
    expect(e1).toBeInstanceOf(WeightFormatError);
    expect((e1 as Error).message).toMatch(/m\/data\/h.*missing from the archive/);
    expect((e1 as Error).message).toContain(missing);
    const wrongSize = writeTemp(pthBytes('m', stateDictPickle([{ ...SPECS[0]!, numel: 25 }]), STORAGES));
    expect((await openError(wrongSize) as Error).message).toMatch(/declares 25 F32 elements/);
    const outOfRange = writeTemp(pthBytes('m', stateDictPickle([{ ...SPECS[1]!, offset: 20 }]), STORAGES));
    expect((await openError(outOfRange) as Error).message).toMatch(/reaches element 25/);
    const broadcast = writeTemp(pthBytes('m', stateDictPickle([{ ...SPECS[0]!, shape: [1000, 24], stride: [0, 1] }]), STORAGES));
    expect((await openError(broadcast) as Error).message).toMatch(/overlapping views/);
    const twoPickles = writeTemp(zipBytes([{ name: 'a/data.pkl', data: stateDictPickle([]) }, { name: 'b/data.pkl', data: stateDictPickle([]) }]));
    expect((await openError(twoPickles) as Error).message).toMatch(/2 data.pkl/);
    const noPickle = writeTemp(zipBytes([{ name: 'a/other', data: new Uint8Array(3) }]));
    expect((await openError(noPickle) as Error).message).toMatch(/no <folder>\/data.pkl/);
  });

  it('detects corrupted storage bytes through the zip CRC', async () => {
    const bytes = Buffer.from(pthBytes('m', stateDictPickle(SPECS), STORAGES));
    const at = bytes.indexOf(Buffer.from(bytesOf(storage0)));
    bytes[at + 5]! ^= 0x10;
    const w = await openPth(writeTemp(bytes));
    try {
      await expect(w.readF32('dense')).rejects.toThrow(/CRC-32/);
    } finally {
      await w.close();
    }
  });

  it('refuses legacy non-zip torch files by extension', async () => {
    const legacy = writeTemp(Uint8Array.from([0x80, 0x02, 0x8a, 0x0a]), 'legacy.pth');
    expect((await openError(legacy) as Error).message).toMatch(/legacy/);
  });
});

describe('restricted unpickler', () => {
  const fixturePickle = (): Uint8Array => {
    // The T5 fixture's data.pkl, found in the archive by name.
    const archive = readFileSync(FIXTURES + manifestWeights('t5').file);
    const name = Buffer.from('umt5_tiny_enc_bf16/data.pkl');
    // torch sets the data-descriptor flag, so sizes live only in the central directory entry.
    const size = archive.readUInt32LE(archive.lastIndexOf(name) - 46 + 24);
    const at = archive.indexOf(name);
    const start = at + name.length + archive.readUInt16LE(at - 30 + 28);
    return archive.subarray(start, start + size);
  };

  it('accepts the fixture pickle', () => {
    const root = unpickle(fixturePickle(), 'fixture');
    expect(root).toMatchObject({ kind: 'dict' });
  });

  const attacks: Array<[string, Uint8Array, RegExp]> = [
    [
      'GLOBAL os.system called through REDUCE',
      new PickleWriter().proto().global('os', 'system').str('echo pwned > /tmp/pwned').op(0x85).reduce().stop().bytes(),
      /os\.system/,
    ],
    [
      'STACK_GLOBAL builtins.eval',
      new PickleWriter().proto(4).shortStr('builtins').shortStr('eval').op(0x93).shortStr('1+1').op(0x85).reduce().stop().bytes(),
      /builtins\.eval/,
    ],
    ['posix.system', new PickleWriter().proto().global('posix', 'system').stop().bytes(), /posix\.system/],
    ['subprocess.Popen', new PickleWriter().proto().global('subprocess', 'Popen').stop().bytes(), /subprocess\.Popen/],
    ['torch.load (a torch global outside the list)', new PickleWriter().proto().global('torch', 'load').stop().bytes(), /torch\.load/],
    ['a storage type outside the list', new PickleWriter().proto().global('torch', 'DoubleStorage').stop().bytes(), /torch\.DoubleStorage/],
    ['INST (text protocol class call)', Uint8Array.from([0x80, 0x02, 0x28, ...Buffer.from('ios\nsystem\n'), 0x2e]), /opcode INST/],
    ['NEWOBJ', new PickleWriter().proto().global('collections', 'OrderedDict').op(0x29).op(0x81).stop().bytes(), /opcode NEWOBJ/],
    ['OBJ', new PickleWriter().proto().mark().global('collections', 'OrderedDict').op(0x6f).stop().bytes(), /opcode OBJ/],
    ['EXT1 (extension registry)', new PickleWriter().proto().op(0x82, 1).stop().bytes(), /opcode EXT1/],
    ['an undefined opcode byte', new PickleWriter().proto().op(0xff).stop().bytes(), /opcode 0xff/],
  ];
  for (const [label, pickle, message] of attacks) {
    it(`refuses ${label} with UnsafePickleError`, async () => {
      expect(() => unpickle(pickle, 'evil.pkl')).toThrow(UnsafePickleError);
      expect(() => unpickle(pickle, 'evil.pkl')).toThrow(message);
      // And the same pickle inside a checkpoint archive, through openWeights.
      const path = writeTemp(pthBytes('evil', pickle, []));
      const err = await openError(path);
      expect(err).toBeInstanceOf(UnsafePickleError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain(path);
    });
  }

  const malformed: Array<[string, Uint8Array]> = [
    ['an empty pickle', new Uint8Array(0)],
    ['a pickle without STOP', new PickleWriter().proto().op(0x7d).bytes()],
    ['a stack underflow', new PickleWriter().proto().op(0x73).stop().bytes()],
    ['a BINGET of an unset memo slot', new PickleWriter().proto().op(0x68, 9).stop().bytes()],
    ['a string longer than the pickle', new PickleWriter().proto().op(0x58, 0xff, 0xff, 0xff, 0x7f).stop().bytes()],
    ['REDUCE of a non-callable', new PickleWriter().proto().int(3).op(0x29).reduce().stop().bytes()],
    ['a persistent id that is not a storage', new PickleWriter().proto().mark().str('module').tuple().op(0x51).stop().bytes()],
    ['a root that is not a dict', new PickleWriter().proto().int(3).stop().bytes()],
    ['a state dict with a non-tensor value', new PickleWriter().proto().op(0x7d).str('k').int(1).op(0x73).stop().bytes()],
    ['TUPLE without MARK', new PickleWriter().proto().int(1).tuple().stop().bytes()],
    ['an over-long LONG1', new PickleWriter().proto().op(0x8a, 200, ...new Array<number>(200).fill(1)).stop().bytes()],
  ];
  for (const [label, pickle] of malformed) {
    it(`refuses ${label} with WeightFormatError`, async () => {
      const path = writeTemp(pthBytes('bad', pickle, []));
      expect(await openError(path)).toBeInstanceOf(WeightFormatError);
    });
  }

  it('reads LONG1 integers of both signs', () => {
    for (const v of [0n, 1n, 127n, 128n, -1n, -129n, 2n ** 40n, -(2n ** 50n)]) {
      expect(unpickle(new PickleWriter().proto().long1(v).stop().bytes(), 'x')).toBe(Number(v));
    }
  });
});
