import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScheduleFormatError, ScheduleLayerCountError, ScheduleLevelError, ScheduleModelMismatchError } from '../../src/sparsity/errors.js';
import { generationFlops, type FlopsShape } from '../../src/sparsity/flops.js';
import { loadSchedule, makeSchedule, saveSchedule, scheduleToJson, type Schedule } from '../../src/sparsity/schedule.js';
import { drawSchedule, levelColour, scheduleLayout } from '../../src/sparsity/scheduleDraw.js';
import { resampleSchedule } from '../../src/sparsity/scheduleResample.js';
import { planFromSchedule } from '../../src/sparsity/run-state.js';

const shape: FlopsShape = { dim: 64, ffnDim: 128, textLen: 24, textDim: 48, layers: 3, tokens: 72, patchFeatures: 64, headFeatures: 64, freqDim: 32 };

function sample(table: number[][] = [
  [1, 1, 1],
  [0.5, 0.25, 1],
  [0, 0.75, 0.5],
  [0.25, 0, 0],
]): Schedule {
  return makeSchedule({
    model: { id: 'wan21-tiny', fingerprint: 'sha256:abc', layers: 3, dim: 64, heads: 4 },
    sampling: { steps: table.length, solver: 'unipc', shift: 5, guidance: 5 },
    tokenGrid: { frames: 3, height: 4, width: 6 },
    table,
    flopsRatio: generationFlops(shape, table, 'reuse').ratio,
    provenance: { kind: 'heuristic', method: 'test' },
  });
}

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'diffsparse-schedule-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function writeRaw(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, text);
  return file;
}

describe('schedule files', () => {
  it('round-trips through save and load', async () => {
    const s = sample();
    const file = path.join(dir, 'a.json');
    await saveSchedule(s, file);
    const back = await loadSchedule(file, { modelId: 'wan21-tiny', fingerprint: 'sha256:abc', layers: 3 });
    expect(back).toEqual(s);
    expect(scheduleToJson(back)).toBe(scheduleToJson(s));
    expect((await fs.readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('keeps the learning cost and the adherence record, and checks their fields', async () => {
    const s = sample();
    s.provenance.learning = { generations: 412, minutes: 6.5, how: 'calibration shared by three budgets' };
    s.fidelity = { psnr: 30.5, ssim: 0.95, adherence: { schedule: { colour: 87.5, direction: 75 }, dense: { colour: 87.5, direction: 81.25 } }, how: 'held-out captions × seeds' };
    const file = path.join(dir, 'learning.json');
    await saveSchedule(s, file);
    const back = await loadSchedule(file);
    expect(back.provenance.learning).toEqual(s.provenance.learning);
    expect(back.fidelity).toEqual(s.fidelity);
    const raw = JSON.parse(scheduleToJson(s));
    raw.provenance.learning.minutes = 'six';
    await expect(loadSchedule(await writeRaw('bad-learning.json', JSON.stringify(raw)))).rejects.toThrow(/provenance\.learning\.minutes/);
    const raw2 = JSON.parse(scheduleToJson(s));
    raw2.fidelity.adherence.dense = { colour: 'high' };
    await expect(loadSchedule(await writeRaw('bad-adherence.json', JSON.stringify(raw2)))).rejects.toThrow(/fidelity\.adherence\.dense/);
  });

  it('fails clearly on malformed JSON, wrong format and missing fields', async () => {
    const bad = await writeRaw('bad.json', '{ "format": ');
    await expect(loadSchedule(bad)).rejects.toThrow(ScheduleFormatError);
    await expect(loadSchedule(bad)).rejects.toThrow(/bad\.json: not valid JSON/);
    const other = await writeRaw('other.json', JSON.stringify({ format: 'something-else' }));
    await expect(loadSchedule(other)).rejects.toThrow(/not a diffsparse schedule/);
    const doc = JSON.parse(scheduleToJson(sample()));
    delete doc.sampling.steps;
    const missing = await writeRaw('missing.json', JSON.stringify(doc));
    await expect(loadSchedule(missing)).rejects.toThrow(/"sampling\.steps" must be a positive integer/);
    const v2 = await writeRaw('v2.json', JSON.stringify({ ...JSON.parse(scheduleToJson(sample())), version: 2 }));
    await expect(loadSchedule(v2)).rejects.toThrow(/version 2 is not supported/);
    await expect(loadSchedule(path.join(dir, 'nope.json'))).rejects.toThrow(/cannot be read \(ENOENT\)/);
  });

  it('rejects a schedule for another model or another layer count', async () => {
    const file = path.join(dir, 'b.json');
    await saveSchedule(sample(), file);
    await expect(loadSchedule(file, { modelId: 'wan21-1.3b' })).rejects.toThrow(ScheduleModelMismatchError);
    await expect(loadSchedule(file, { modelId: 'wan21-tiny', fingerprint: 'sha256:def' })).rejects.toThrow(/the weights changed/);
    await expect(loadSchedule(file, { layers: 30 })).rejects.toThrow(ScheduleLayerCountError);
    const doc = JSON.parse(scheduleToJson(sample()));
    doc.table[1] = [1, 1];
    const short = await writeRaw('short.json', JSON.stringify(doc));
    await expect(loadSchedule(short)).rejects.toThrow(/step 1 has 2 layers but model\.layers is 3/);
  });

  it('rejects bad levels', async () => {
    const doc = JSON.parse(scheduleToJson(sample()));
    doc.table[2][1] = 0.6;
    await expect(loadSchedule(await writeRaw('lvl.json', JSON.stringify(doc)))).rejects.toThrow(ScheduleLevelError);
    const doc2 = JSON.parse(scheduleToJson(sample()));
    doc2.levels = [0, 0.5, 1.5];
    await expect(loadSchedule(await writeRaw('lvl2.json', JSON.stringify(doc2)))).rejects.toThrow(/level 1\.5 is outside \[0, 1\]/);
    const doc3 = JSON.parse(scheduleToJson(sample()));
    doc3.reuse = 'stack-residual';
    await expect(loadSchedule(await writeRaw('lvl3.json', JSON.stringify(doc3)))).rejects.toThrow(/step 1 is mixed/);
  });

  it('records a learned forecast, which the plan then carries, and refuses other values', async () => {
    const s = makeSchedule({ ...sample(), forecast: 'linear' });
    const file = path.join(dir, 'forecast.json');
    await saveSchedule(s, file);
    const back = await loadSchedule(file);
    expect(back.forecast).toBe('linear');
    expect(planFromSchedule(back).forecast).toBe('linear');
    expect(planFromSchedule(sample()).forecast).toBeUndefined();
    const doc = JSON.parse(scheduleToJson(s));
    doc.forecast = 'quadratic';
    await expect(loadSchedule(await writeRaw('fc-bad.json', JSON.stringify(doc)))).rejects.toThrow(/field "forecast" must be "linear" or absent/);
  });
});

describe('resampling', () => {
  it('keeps the schedule unchanged at the same step count', () => {
    const s = sample();
    expect(resampleSchedule(s, 4, { flops: shape }).table).toEqual(s.table);
  });

  it('doubles and halves the step count keeping the FLOPs ratio close', () => {
    const s = sample();
    const up = resampleSchedule(s, 8, { flops: shape });
    expect(up.table).toHaveLength(8);
    expect(up.sampling.steps).toBe(8);
    // doubling is exact: every old step becomes two identical new steps
    expect(up.table).toEqual(s.table.flatMap((r) => [r, r]));
    // per-prompt FLOPs do not scale with steps, so the ratio moves only slightly
    expect(up.flopsRatio).toBeCloseTo(s.flopsRatio, 2);
    const down = resampleSchedule(s, 2, { flops: shape });
    expect(down.table).toHaveLength(2);
    expect(Math.abs(down.flopsRatio - s.flopsRatio)).toBeLessThan(0.15);
    expect(down.fidelity).toBeNull();
  });

  it('resamples a 50-step schedule to 8 steps within one slot-level of FLOPs', () => {
    const table = Array.from({ length: 50 }, (_, t) => [0, 1, 2].map((l) => (t < 10 ? 1 : [0, 0.25, 0.5, 0.75, 1][(t * 7 + l * 3) % 5])));
    const s = sample(table);
    const r = resampleSchedule(s, 8, { flops: shape });
    expect(r.table).toHaveLength(8);
    expect(r.table[0]).toEqual([1, 1, 1]); // the dense opening steps survive
    // one slot moving one level changes the block FLOPs by at most 1/(8·3) of the total
    expect(Math.abs(r.flopsRatio - s.flopsRatio)).toBeLessThan(1 / 24);
  });

  it('keeps whole steps for stack-residual schedules', () => {
    const table = [1, 0, 0, 1, 0, 1, 0, 0, 1, 0].map((v) => [v, v, v]);
    const s = { ...sample(table), reuse: 'stack-residual' as const };
    const r = resampleSchedule(s, 5, { flops: shape });
    for (const row of r.table) expect(new Set(row).size).toBe(1);
    expect(r.table.flat().filter((v) => v === 1).length / 3).toBe(2);
  });
});

describe('drawing', () => {
  it('writes a PNG heatmap with one cell per (step, layer) and a legend', async () => {
    const s = sample();
    const file = path.join(dir, 'heat.png');
    await drawSchedule(s, file, { cell: { width: 10, height: 10 } });
    const png = PNG.sync.read(await fs.readFile(file));
    const at = (x: number, y: number): number[] => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
    const L = scheduleLayout(s, { cell: { width: 10, height: 10 } });
    expect([png.width, png.height]).toEqual([L.width, L.height]);
    // cell (step t, layer l) has its centre at (heat.x + 10l + 5, heat.y + 10t + 5)
    for (let t = 0; t < 4; t++) for (let l = 0; l < 3; l++) expect(at(L.heat.x + 10 * l + 5, L.heat.y + 10 * t + 5)).toEqual(levelColour(s.table[t][l]));
    // legend swatches under the heatmap, one per level in order
    L.swatches.forEach((sw, i) => expect(at(sw.x + 10, sw.y + 4)).toEqual(levelColour(s.levels[i])));
    expect(L.swatches[0].y).toBeGreaterThan(L.heat.y + 40);
    // the title names the model, steps, solver, provenance and the FLOPs ratio (issue 19)
    expect(L.titleLines[0]).toBe(`${s.model.id}: 4 steps ${s.sampling.solver}, 3 layers`);
    expect(L.titleLines[1]).toMatch(new RegExp(`^${s.provenance.kind}.*FLOPs ${(s.flopsRatio * 100).toFixed(1)}% of dense$`));
    expect(L.titleLines[2]).toMatch(/^method: /);
    // the title is drawn: dark pixels in its band, none right of the text
    const dark = (y0: number, y1: number): number => { let n = 0; for (let y = y0; y < y1; y++) for (let x = 0; x < png.width; x++) if (at(x, y)[0] < 128) n++; return n; };
    expect(dark(10, 24)).toBeGreaterThan(50);
  });
});
