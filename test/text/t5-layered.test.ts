/**
 * Issue 17: the umT5 encoder run layer by layer from the bf16 checkpoint gives the numbers of
 * the one-graph encoder, and never reads the token embedding whole.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/io/npy.js';
import { buildT5EncoderGraph, T5_OUTPUT } from '../../src/models/wan/t5/graph.js';
import { inferT5Config } from '../../src/models/wan/t5/config.js';
import { LayeredT5Encoder } from '../../src/models/wan/t5/layered.js';
import { convertT5EncoderFile, T5_FILES } from '../../src/models/wan/t5/convert.js';
import { loadT5Encoder } from '../../src/models/wan/t5/session.js';
import { inlineT5Loader } from '../../src/models/wan/t5/weights.js';
import { openWeights, readRowsF32, type WeightSource } from '../../src/weights/index.js';
import { createSession, i64Tensor } from '../../src/runtime/session.js';

const fixtures = fileURLToPath(new URL('../../../shared/fixtures/wan21-tiny/t5/', import.meta.url));
const readNpy = (path: string) => parseNpy(new Uint8Array(readFileSync(path)), path);
const PTH = `${fixtures}umt5_tiny_enc_bf16.pth`;

describe('layered umT5 encoder (tiny fixture)', () => {
  it('reads embedding rows from the .pth without reading the table whole', async () => {
    const source = await openWeights(PTH);
    const all = await source.readF32('token_embedding.weight');
    const rows = await readRowsF32(source, 'token_embedding.weight', [5, 0, 299, 5]);
    for (const [i, r] of [5, 0, 299, 5].entries()) expect(rows.subarray(i * 32, (i + 1) * 32)).toEqual(all.subarray(r * 32, (r + 1) * 32));
    await expect(readRowsF32(source, 'token_embedding.weight', [300])).rejects.toThrow(/out of range/);
    await source.close();
  });

  it('gives the one-graph encoder\'s output, and the official one', async () => {
    const source = await openWeights(PTH);
    const cfg = inferT5Config((k) => (source.has(k) ? source.info(k).shape : undefined), { textLen: 24, numHeads: 4 });
    const whole = await createSession((await buildT5EncoderGraph(cfg, inlineT5Loader(source))).toBytes());
    const ids = readNpy(`${fixtures}ids.npy`).data as BigInt64Array;
    const mask = readNpy(`${fixtures}mask.npy`).data as BigInt64Array;
    const expected = (await whole.run({ ids: i64Tensor(ids, [2, 24]), mask: i64Tensor(mask, [2, 24]) }))[T5_OUTPUT].data as Float32Array;

    const wholeReads: string[] = [];
    const spy: WeightSource = Object.assign(Object.create(source) as WeightSource, {
      readF32: (key: string) => (wholeReads.push(key), source.readF32(key)),
      readRowsF32: (key: string, rows: readonly number[]) => source.readRowsF32!(key, rows),
    });
    const layered = await LayeredT5Encoder.open(spy, cfg);
    const got = await layered.run(ids, mask, 2);
    expect(wholeReads).not.toContain('token_embedding.weight');
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
    expect(maxDiff).toBe(0);
    const official = readNpy(`${fixtures}output_padded.npy`).data as Float32Array;
    let off = 0;
    for (let i = 0; i < got.length; i++) off = Math.max(off, Math.abs(got[i] - official[i]));
    expect(off).toBeLessThan(1e-4);
    expect(layered.lastRun.largestLayerBytes).toBeGreaterThan(0);
    await layered.session.release();
    await whole.release();
    await source.close();
  });
});

describe('layered text folder', () => {
  it('convert --text-mode layered writes no ONNX copy; loading runs layer by layer with the same numbers', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ds-t5-layered-'));
    try {
      const onnxDir = path.join(dir, 'onnx');
      const layeredDir = path.join(dir, 'layered');
      await convertT5EncoderFile(PTH, onnxDir, { textLen: 24, numHeads: 4 });
      const manifest = await convertT5EncoderFile(PTH, layeredDir, { textLen: 24, numHeads: 4, layered: true });
      expect(manifest.storedAs).toBe('checkpoint');
      expect(existsSync(path.join(layeredDir, T5_FILES.model))).toBe(false);
      const a = await loadT5Encoder(onnxDir);
      const b = await loadT5Encoder(layeredDir);
      expect(b).toBeInstanceOf(LayeredT5Encoder);
      const ids = readNpy(`${fixtures}ids.npy`).data as BigInt64Array;
      const mask = readNpy(`${fixtures}mask.npy`).data as BigInt64Array;
      const [ca, cb] = [await a.encodeTrimmed(ids, mask, 2), await b.encodeTrimmed(ids, mask, 2)];
      expect(cb.map((c) => c.shape)).toEqual(ca.map((c) => c.shape));
      for (const [i, c] of cb.entries()) expect(c.data).toEqual(ca[i]!.data);
      await a.session.release();
      await b.session.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
