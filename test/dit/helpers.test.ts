/** Pure helpers: RoPE split, patchify/unpatchify orders, row gathers, stage key coverage. */
import { describe, expect, it } from 'vitest';
import { parseWanDiTConfig } from '../../src/models/wan/dit/config.js';
import { allStages } from '../../src/models/wan/dit/graphs/stages.js';
import { ditKeyShapes, stageKeys } from '../../src/models/wan/dit/keys.js';
import { patchGrid, patchify, unpatchify } from '../../src/models/wan/dit/patchify.js';
import { ropeSplit, ropeTables } from '../../src/models/wan/dit/rope.js';
import { gatherRows } from '../../src/models/wan/dit/rows.js';

const release13B = parseWanDiTConfig({ dim: 1536, ffn_dim: 8960, freq_dim: 256, num_heads: 12, num_layers: 30, model_type: 't2v', in_dim: 16, out_dim: 16, text_len: 512, eps: 1e-6 });

describe('DiT helpers', () => {
  it('uses the release defaults and the 22/21/21 RoPE split at head_dim 128', () => {
    expect(release13B.textDim).toBe(4096);
    expect(release13B.patchSize).toEqual([1, 2, 2]);
    expect(ropeSplit(128)).toEqual({ frame: 22, row: 21, col: 21 });
    expect(ropeSplit(16)).toEqual({ frame: 4, row: 2, col: 2 });
    expect(ropeSplit(12)).toEqual({ frame: 2, row: 2, col: 2 });
  });

  it('counts 825 keys and 1,418,996,800 parameters for the 1.3B model; the stages read each key', () => {
    const shapes = ditKeyShapes(release13B);
    expect(shapes.size).toBe(825);
    let params = 0;
    for (const s of shapes.values()) params += s.reduce((a, b) => a * b, 1);
    expect(params).toBe(1_418_996_800);
    const read = new Set(allStages(release13B.numLayers).flatMap((s) => stageKeys(s)));
    expect([...shapes.keys()].filter((k) => !read.has(k))).toEqual([]);
    expect([...read].filter((k) => !shapes.has(k))).toEqual([]);
  });

  it('patchify orders (c, kt, kh, kw); unpatchify reads (kt, kh, kw, c)', () => {
    const shape: [number, number, number, number] = [2, 2, 4, 6];
    const data = Float32Array.from({ length: 2 * 2 * 4 * 6 }, (_, i) => i);
    const grid = patchGrid(shape, [1, 2, 2], 2);
    expect(grid).toEqual({ frames: 2, rows: 2, cols: 3 });
    const p = patchify({ data, shape }, [1, 2, 2], grid);
    // token (f=1, h=1, w=2) = (1·2 + 1)·3 + 2 = 11; feature (c=1, kh=1, kw=0) = 6 -> x[1, 1, 3, 4]
    const idx = (c: number, f: number, h: number, w: number) => ((c * 2 + f) * 4 + h) * 6 + w;
    expect(p[11 * 8 + 6]).toBe(idx(1, 1, 3, 4));
    // a token vector laid out (kt, kh, kw, c) maps back to the same pixels
    const tokens = new Float32Array(p.length);
    for (let t = 0; t < 12; t++) for (let c = 0; c < 2; c++) for (let q = 0; q < 4; q++) tokens[t * 8 + q * 2 + c] = p[t * 8 + c * 4 + q];
    expect(Array.from(unpatchify(tokens, [1, 2, 2], grid, 2).data)).toEqual(Array.from(data));
  });

  it('RoPE tables rotate pairs by frame, then row, then column', () => {
    const t = ropeTables({ frames: 2, rows: 3, cols: 4 }, 16);
    const token = (1 * 3 + 2) * 4 + 3; // f=1, h=2, w=3
    const angle = (p: number) => Math.atan2(t.sin[token * 8 + p], t.cos[token * 8 + p]);
    expect(angle(0)).toBeCloseTo(1, 6); // frame pair 0: f·1
    expect(angle(1)).toBeCloseTo(1 / Math.pow(10000, 2 / 8), 6);
    expect(angle(4)).toBeCloseTo(2, 6); // row pair 0: h·1
    expect(angle(6)).toBeCloseTo(3, 6); // column pair 0: w·1
    expect(angle(7)).toBeCloseTo(3 / Math.pow(10000, 2 / 4), 6);
  });

  it('gathers rows', () => {
    const m = Float32Array.from({ length: 12 }, (_, i) => i);
    const g = gatherRows(m, 3, [3, 1]);
    expect(Array.from(g)).toEqual([9, 10, 11, 3, 4, 5]);
  });
});
