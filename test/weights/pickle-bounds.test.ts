/**
 * Issue 18: small deflated pickles that expand into hundreds of millions of opcodes (NONE) or
 * containers (EMPTY_DICT) exhausted memory. The unpickler bounds its work, stack, containers and
 * entries and fails with the typed WeightFormatError, quickly and within little memory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPth, WeightFormatError } from '../../src/weights/index.js';
import { PICKLE_LIMITS, unpickle } from '../../src/weights/pickle.js';
import { pthBytes } from './writers.js';

const dir = mkdtempSync(join(tmpdir(), 'pickle-bounds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** PROTO 2, `body` repeated `times`, STOP. */
function repeated(body: number[], times: number): Uint8Array {
  const out = new Uint8Array(2 + body.length * times + 1);
  out.set([0x80, 0x02]);
  for (let i = 0; i < times; i++) out.set(body, 2 + i * body.length);
  out[out.length - 1] = 0x2e;
  return out;
}

const NONE = 0x4e, EMPTY_DICT = 0x7d, EMPTY_LIST = 0x5d, MEMOIZE = 0x94, POP = 0x30, APPENDS = 0x65;

describe('unpickler work and memory bounds', () => {
  it('a stack of millions of NONEs is refused at the stack bound', () => {
    const started = Date.now();
    expect(() => unpickle(repeated([NONE], PICKLE_LIMITS.stack + 10), 'none.pkl')).toThrow(/stack depth exceeds the unpickler's limit/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('millions of memoized EMPTY_DICTs are refused at the container bound', () => {
    expect(() => unpickle(repeated([EMPTY_DICT, MEMOIZE, POP], PICKLE_LIMITS.containers + 10), 'dicts.pkl')).toThrow(WeightFormatError);
    expect(() => unpickle(repeated([EMPTY_DICT, MEMOIZE, POP], PICKLE_LIMITS.containers + 10), 'dicts.pkl')).toThrow(/dicts, lists and tuples exceeds/);
  });

  it('a list grown by APPEND is refused at the entry bound', () => {
    // EMPTY_LIST, then batches of MARK, 1000 × NONE, APPENDS.
    const batch = [0x28, ...new Array<number>(1000).fill(NONE), APPENDS];
    const batches = Math.ceil(PICKLE_LIMITS.entries / 1000) + 1;
    const body = new Uint8Array(3 + batch.length * batches + 1);
    body.set([0x80, 0x02, EMPTY_LIST]);
    for (let i = 0; i < batches; i++) body.set(batch, 3 + batch.length * i);
    body[body.length - 1] = 0x2e;
    expect(() => unpickle(body, 'list.pkl')).toThrow(/container entries exceeds/);
  });

  it('endless cheap opcodes are refused at the opcode bound', () => {
    expect(() => unpickle(repeated([NONE, POP], PICKLE_LIMITS.opcodes / 2 + 10), 'spin.pkl')).toThrow(/number of opcodes exceeds/);
  });

  it('a small deflated .pth of EMPTY_DICTs fails with the typed error, not an out-of-memory crash', async () => {
    const pickle = repeated([EMPTY_DICT, MEMOIZE], 2_000_000); // 2M dicts: 4 MB, deflates to a few kB
    const file = join(dir, 'dicts.pth');
    writeFileSync(file, pthBytes('archive', pickle, [], { deflate: true }));
    await expect(openPth(file)).rejects.toThrow(WeightFormatError);
  });
});
