/**
 * Issue 19, items 1 and 2: model folders that say what they are (info on the built-in demo
 * and on a freshly converted model), the warning for sizes and frame counts outside what a
 * model was trained on, and the release's size presets.
 */
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describePath } from '../../src/batch/inspect.js';
import { describePipeline, pipelineInfoLines } from '../../src/batch/describe-pipeline.js';
import { size } from '../../src/cli/parse.js';
import { convertModel } from '../../src/convert/model.js';
import { Pipeline } from '../../src/pipeline/generate.js';
import { resolvePipeline } from '../../src/pipeline/definition.js';
import { trainedRangeWarnings, wan21TrainedRange } from '../../src/pipeline/trained.js';
import type { Progress } from '../../src/core/renderer.js';

const REPO = path.resolve(import.meta.dirname, '../..');

describe('info on a pipeline (issue 19, item 1)', () => {
  it('lists the built-in tiny demo model: parts, defaults, trained sizes, schedules with provenance, memory', async () => {
    const d = await describePipeline('wan-demo-tiny');
    expect(d.parts.map((p) => p.part)).toEqual(['dit', 'vae', 'text-encoder', 'tokenizer']);
    for (const p of d.parts) expect(p.bytes).toBeGreaterThan(0);
    expect(d.defaults).toMatchObject({ width: 64, height: 64, frames: 9, steps: 20 });
    expect(d.trained).toMatchObject({ sizes: ['64x64'], frames: [9] });
    expect(d.schedules.map((s) => s.name)).toEqual(['learned-75', 'learned-50', 'learned-35', 'block-reuse-75', 'block-reuse-50', 'block-reuse-35']);
    // issue 16's honest labels: token-level learned tables, and the FORA-like block-reuse baselines next to them
    for (const s of d.schedules) expect(s).toMatchObject({ steps: 20, solver: 'unipc', provenance: s.name.startsWith('learned') ? 'learned' : 'baseline' });
    expect(d.weightsBytes).toBe(d.parts.filter((p) => p.part !== 'tokenizer').reduce((n, p) => n + p.bytes, 0));
    const text = pipelineInfoLines(d).join('\n');
    expect(text).toMatch(/parts:\n {4}dit .*3 layers, dim 96/);
    expect(text).toMatch(/trained on: 64x64; 9 frames/);
    expect(text).toMatch(/block-reuse-50: 20 steps unipc, FLOPs 47\.\d% of dense, baseline at budget 0\.5/);
    expect(text).toMatch(/memory: 6\.\d MiB of weights/);
    // `info wan-demo-tiny` (a built-in name) and `info <definition file>` give the same description
    const byName = await describePath('wan-demo-tiny');
    expect(byName).toMatchObject({ kind: 'model-folder', pipeline: { name: 'wan-demo-tiny', trained: { sizes: ['64x64'] } } });
  });

  it('lists the default built-in, the demo model v2: 128x128, 17 frames, its learned schedules', async () => {
    const d = await describePipeline('wan-demo');
    expect(d.parts.map((p) => p.part)).toEqual(['dit', 'vae', 'text-encoder', 'tokenizer']);
    expect(d.defaults).toMatchObject({ width: 128, height: 128, frames: 17, steps: 20, shift: 5, guidance: 2, solver: 'unipc', fps: 8 });
    expect(d.trained).toMatchObject({ sizes: ['128x128'], frames: [17] });
    expect(d.schedules.map((s) => [s.name, s.provenance])).toEqual([['learned-75', 'learned'], ['learned-50', 'learned'], ['learned-35', 'learned']]);
    const text = pipelineInfoLines(d).join('\n');
    expect(text).toMatch(/trained on: 128x128; 17 frames/);
    expect(text).toMatch(/learned-50: 20 steps unipc, FLOPs \d\d\.\d% of dense, learned at budget 0\.5, reused outputs forecast, recomputed tokens attend to fresh keys\/values of all tokens, PSNR/);
    expect(await describePath('wan-demo')).toMatchObject({ kind: 'model-folder', pipeline: { name: 'wan-demo', trained: { sizes: ['128x128'] } } });
  });

  describe('a converted fixture model', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'ds-info-'));
      await cp(path.join(REPO, 'samples/demo-model/checkpoint'), path.join(dir, 'checkpoint'), { recursive: true });
      await convertModel(path.join(dir, 'checkpoint'), path.join(dir, 'model'));
    });

    it('convert copies the checkpoint\'s trained block into pipeline.json, and info shows it', async () => {
      const def = JSON.parse(await readFile(path.join(dir, 'model', 'pipeline.json'), 'utf8'));
      expect(def.trained).toEqual({ sizes: ['64x64'], frames: [9], source: expect.stringMatching(/model_card/) });
      const info = await describePath(path.join(dir, 'model'));
      expect(info.kind).toBe('model-folder');
      if (info.kind !== 'model-folder') return;
      expect(info.pipeline?.parts.map((p) => p.part)).toEqual(['dit', 'vae', 'text-encoder', 'tokenizer']);
      expect(info.pipeline?.schedules).toEqual([]);
      expect(pipelineInfoLines(info.pipeline!).join('\n')).toMatch(/schedules: none shipped/);
    });

    it('without a trained block a non-release model records none, and a bad block is refused', async () => {
      const extras = path.join(dir, 'checkpoint', 'diffsparse.json');
      const original = JSON.parse(await readFile(extras, 'utf8'));
      delete original.trained;
      await writeFile(extras, JSON.stringify(original));
      await convertModel(path.join(dir, 'checkpoint'), path.join(dir, 'untrained'));
      expect(resolvePipeline(path.join(dir, 'untrained')).trained).toBeUndefined();
      await writeFile(extras, JSON.stringify({ ...original, trained: { sizes: ['big'], frames: [9] } }));
      await expect(convertModel(path.join(dir, 'checkpoint'), path.join(dir, 'bad'))).rejects.toThrow(/diffsparse\.json: trained: "sizes" must be/);
    });
  });
});

describe('the trained-range warning (issue 19, item 1)', () => {
  const trained = { sizes: ['64x64'], frames: [9] };
  it('is silent inside the range and names the trained size and frames outside it', () => {
    expect(trainedRangeWarnings(trained, { width: 64, height: 64, frames: 9 })).toEqual([]);
    expect(trainedRangeWarnings(undefined, { width: 256, height: 256, frames: 9 })).toEqual([]);
    const w = trainedRangeWarnings(trained, { width: 256, height: 256, frames: 33 }, 'wan-demo');
    expect(w).toHaveLength(2);
    expect(w[0]).toMatch(/256x256 is not a size wan-demo was trained on \(64x64\).*--size 64x64/);
    expect(w[1]).toMatch(/33 frames is outside what wan-demo was trained on \(9 frames\).*--frames 9/);
    expect(wan21TrainedRange(1536).sizes).toEqual(['832x480', '480x832']);
    expect(wan21TrainedRange(5120).sizes).toContain('1280x720');
  });

  it('reaches the user through generate\'s progress on the tiny demo model', async () => {
    const pipeline = await Pipeline.load('wan-demo-tiny', { threads: 1 });
    try {
      const seen: Progress[] = [];
      await pipeline.denoise({ prompt: 'a red circle', output: 'x.mp4', width: 128, height: 128, frames: 5, steps: 1, seed: 1 }, { onProgress: (p) => seen.push(p) });
      const warnings = seen.filter((p) => p.phase === 'denoise' && p.warning).map((p) => p.warning);
      expect(warnings).toEqual([expect.stringMatching(/^128x128 is not a size wan-demo-tiny was trained on/), expect.stringMatching(/^5 frames is outside/)]);
      const quiet: Progress[] = [];
      await pipeline.denoise({ prompt: 'a red circle', output: 'x.mp4', steps: 1, seed: 1 }, { onProgress: (p) => quiet.push(p) });
      expect(quiet.filter((p) => p.warning)).toEqual([]);
    } finally {
      await pipeline.release();
    }
  });
});

describe('--size presets (issue 19, item 2)', () => {
  it('accepts 480p, 720p, W*H and WxH', () => {
    expect(size('480p')).toEqual({ width: 832, height: 480 });
    expect(size('720P')).toEqual({ width: 1280, height: 720 });
    expect(size('832*480')).toEqual({ width: 832, height: 480 });
    expect(size('480*832')).toEqual({ width: 480, height: 832 });
    expect(size('64x64')).toEqual({ width: 64, height: 64 });
    expect(() => size('1080p')).toThrow(/preset: 480p, 720p/);
  });
});
