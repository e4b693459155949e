import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compare, CompareOptionsError, formatCompareTable } from '../../src/eval/compare.js';
import { readVideoFrames } from '../../src/video/probe.js';
import { writeTestSchedule } from './helpers/schedule.js';
import { createRunner } from './helpers/video-runner.js';
import { referenceFramePsnr, referenceFrameSsim } from './reference-metrics.js';

describe('compare (dense vs accelerated)', () => {
  it('renders both sides with the same seeds and measures PSNR/SSIM as the papers do', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'diffsparse-compare-'));
    const schedule = path.join(outDir, 'budget-0.3.json');
    await writeTestSchedule(schedule, 'uniform-token');
    const runner = await createRunner({ width: 24, height: 16, msPerFrame: 15 });
    const r = await compare({
      runner, outDir, prompts: ['a fox in snow', 'a lighthouse'], settings: { frames: 4 },
      variants: [{ budget: 0.9 }, { budget: 0.5, label: 'half' }, { schedule }],
      gate: { minPsnr: 10, minSsim: 0.1 },
    });
    expect(r.variants.map((v) => [v.label, v.method])).toEqual([['budget 90%', 'diffsparse'], ['half', 'diffsparse'], ['budget-0.3', 'uniform-token']]);
    expect(r.variants.map((v) => v.flopsRatio)).toEqual([0.9, 0.5, 0.3]);
    expect((await readdir(path.join(outDir, 'dense', 'videos'))).sort()).toEqual(['a fox in snow-0.mp4', 'a lighthouse-0.mp4']);
    // fidelity falls as the budget falls
    expect(r.variants[0]!.psnr).toBeGreaterThan(r.variants[1]!.psnr);
    expect(r.variants[1]!.psnr).toBeGreaterThan(r.variants[2]!.psnr);
    expect(r.variants[0]!.latentRelL2).toBeLessThan(r.variants[2]!.latentRelL2);
    // speed-ups are measured, not asserted (timings vary with machine load)
    for (const v of r.variants) expect(Number.isFinite(v.speedup) && v.speedup > 0 && Number.isFinite(v.denoiseSpeedup)).toBe(true);
    expect(r.passed).toBe(true);

    // PSNR/SSIM against the independent reference on the same decoded videos
    const v = r.variants[1]!.videos[1]!;
    const a = await readVideoFrames(path.join(outDir, 'dense', 'videos', v.fileName));
    const b = await readVideoFrames(path.join(outDir, 'half', 'videos', v.fileName));
    const refP = a.frames.map((f, i) => referenceFramePsnr(f, b.frames[i]!, a.width, a.height, 255));
    const refS = a.frames.map((f, i) => referenceFrameSsim(f, b.frames[i]!, a.width, a.height, 255));
    expect(Math.abs(v.psnr - refP.reduce((s, x) => s + x, 0) / refP.length)).toBeLessThan(1e-6);
    expect(Math.abs(v.ssim - refS.reduce((s, x) => s + x, 0) / refS.length)).toBeLessThan(1e-6);

    const table = formatCompareTable(r);
    expect(table).toMatch(/^variant\s+method\s+FLOPs/);
    expect(table).toMatch(/half\s+diffsparse\s+0\.500/);
    expect(table).not.toMatch(/FAILED/);
    await rm(outDir, { recursive: true, force: true });
  });

  it('fails the quality gate when a threshold is not met', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'diffsparse-compare-'));
    const runner = await createRunner({ width: 16, height: 16 });
    const r = await compare({ runner, outDir, prompts: ['a cat'], settings: { frames: 3 }, variants: [{ budget: 0.4 }], gate: { minPsnr: 60, minSsim: 0.999 } });
    expect(r.passed).toBe(false);
    expect(r.variants[0]!.gate.failures).toHaveLength(2);
    expect(formatCompareTable(r)).toMatch(/quality gate FAILED/);
    await expect(compare({ runner, outDir, prompts: ['a cat'], variants: [] })).rejects.toThrow(CompareOptionsError);
    await expect(compare({ runner, outDir, prompts: ['a cat'], variants: [{ budget: 1.5 }] })).rejects.toThrow(/outside/);
    await rm(outDir, { recursive: true, force: true });
  });
});
