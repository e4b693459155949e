import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvalPlanMismatchError, evaluate, VideosFolderError, type EvalResults } from '../../src/eval/run.js';
import { readVideoFrames } from '../../src/video/probe.js';
import { createRunner } from './helpers/video-runner.js';
import { referenceFlicker } from './reference-metrics.js';

const PROMPTS = ['a red fox running through snow', 'a dog\'s "toy", at 5:00 pm', 'façade of a café, rain'];

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'diffsparse-eval-'));
}

describe('evaluate (VBench-style run)', () => {
  it('renders a 3-prompt custom list with VBench names, seeds, sidecars and exact temporal flickering; resumes', async () => {
    const outDir = await tempDir();
    const runner = await createRunner({ frames: 6 });
    const settings = { frames: 6, steps: 4 };
    const progressOf = new Set<string>();
    const first = await evaluate({
      outDir, runner, prompts: PROMPTS, samples: 2, baseSeed: 10, settings,
      onEvent: (e) => { if (e.type === 'progress' && e.progress.phase === 'denoise') progressOf.add(e.job.fileName); },
    });
    const names = PROMPTS.flatMap((p) => [`${p}-0.mp4`, `${p}-1.mp4`]);
    expect((await readdir(path.join(outDir, 'videos'))).sort()).toEqual([...names].sort());
    expect((await readdir(path.join(outDir, 'sidecars'))).sort()).toEqual(names.map((n) => `${n}.json`).sort());
    expect(first.counts).toEqual({ planned: 6, present: 6, rendered: 6, skipped: 0, failed: 0 });
    expect([...progressOf].sort()).toEqual([...names].sort()); // step progress reached the caller for every video
    expect(first.videos.map((v) => v.seed)).toEqual([10, 11, 110, 111, 210, 211]);

    const sidecar = JSON.parse(await readFile(path.join(outDir, 'sidecars', `${names[2]}.json`), 'utf8')) as { video: { file: string }; settings: { seed: number } };
    expect(sidecar.video.file).toBe(names[2]);
    expect(sidecar.settings.seed).toBe(110);

    const plan = JSON.parse(await readFile(path.join(outDir, 'eval-plan.json'), 'utf8')) as { jobs: { fileName: string; seed: number }[] };
    expect(plan.jobs.map((j) => [j.fileName, j.seed])).toEqual(first.videos.map((v) => [v.fileName, v.seed]));

    // temporal flickering of every video against an independent computation on the same decoded frames
    const saved = JSON.parse(await readFile(path.join(outDir, 'results.json'), 'utf8')) as EvalResults;
    const expected: number[] = [];
    for (const v of saved.videos) {
      const clip = await readVideoFrames(path.join(outDir, 'videos', v.fileName));
      expect(clip.frames).toHaveLength(6);
      const ref = referenceFlicker(clip.frames);
      expect(Math.abs(v.temporalFlickering! - ref)).toBeLessThan(1e-12);
      expected.push(ref);
    }
    const avg = expected.reduce((s, x) => s + x, 0) / expected.length;
    expect(Math.abs(saved.scores.temporal_flickering!.value - avg)).toBeLessThan(1e-12);
    expect(saved.scores.temporal_flickering!.source).toBe('diffsparse');
    expect(saved.vbenchFormat.temporal_flickering![0]).toBeCloseTo(avg, 12);
    expect(saved.vbenchFormat.temporal_flickering![1]).toHaveLength(6);
    expect(saved.summary.missing).toHaveLength(15);

    // resume: nothing to do; then one deleted video is rendered again with its recorded seed
    const again = await evaluate({ outDir, runner, prompts: PROMPTS, samples: 2, baseSeed: 10, settings });
    expect(again.counts.rendered).toBe(0);
    expect(again.counts.skipped).toBe(6);
    await rm(path.join(outDir, 'videos', names[3]!));
    const third = await evaluate({ outDir, runner, prompts: PROMPTS, samples: 2, baseSeed: 10, settings });
    expect(third.counts.rendered).toBe(1);
    expect(third.videos.find((v) => v.fileName === names[3])!.seed).toBe(111);

    // a resumed run with other seeds or settings is refused
    await expect(evaluate({ outDir, runner, prompts: PROMPTS, samples: 2, baseSeed: 11, settings })).rejects.toThrow(EvalPlanMismatchError);
    await expect(evaluate({ outDir, runner, prompts: PROMPTS, samples: 2, baseSeed: 10, settings: { frames: 7 } })).rejects.toThrow(/other settings/);
    // anything but .mp4 files in videos/ would break VBench's lookup
    await writeFile(path.join(outDir, 'videos', 'notes.txt'), 'x');
    await expect(evaluate({ outDir, runner, prompts: PROMPTS, samples: 2, baseSeed: 10, settings })).rejects.toThrow(VideosFolderError);
    await rm(outDir, { recursive: true, force: true });
  });

  it('plans suite dimensions with 25 samples for flicker prompts (dry run) and records failures', async () => {
    const outDir = await tempDir();
    const dry = await evaluate({ outDir, dimensions: ['temporal_flickering'], limit: 2, dryRun: true });
    expect(dry.counts.planned).toBe(50);
    expect(dry.mode).toBe('dimensions');
    const runner = await createRunner({ failPrompt: 'a broken prompt' });
    const r = await evaluate({ outDir: path.join(outDir, 'b'), runner, prompts: ['a broken prompt', 'a fine prompt'], samples: 1 });
    expect(r.counts.failed).toBe(1);
    expect(r.failures[0]!.fileName).toBe('a broken prompt-0.mp4');
    expect(existsSync(path.join(outDir, 'b', 'videos', 'a fine prompt-0.mp4'))).toBe(true);
    expect(await readdir(path.join(outDir, 'b', '.work'))).toEqual([]);

    // suite mode: flicker is scored on the temporal_flickering prompts only, labelled non-standard
    const suiteRun = await evaluate({ outDir: path.join(outDir, 'c'), runner, dimensions: ['temporal_flickering'], limit: 1, flickerSamples: 2, settings: { frames: 3 } });
    expect(suiteRun.videos.map((v) => v.fileName)).toEqual(['In a still frame, a stop sign-0.mp4', 'In a still frame, a stop sign-1.mp4']);
    expect(suiteRun.videos.map((v) => v.temporalFlickering === null)).toEqual([false, false]);
    const colorRun = await evaluate({ outDir: path.join(outDir, 'd'), runner, dimensions: ['color'], limit: 1, samples: 1, settings: { frames: 3 } });
    expect(colorRun.videos.map((v) => [v.fileName, v.temporalFlickering])).toEqual([['a red bicycle-0.mp4', null]]);
    expect(suiteRun.scores.temporal_flickering!.standard).toBe(false);
    expect(suiteRun.scores.temporal_flickering!.note).toMatch(/static/);
    expect(suiteRun.summary.label).toMatch(/computed by diffsparse/);
    await rm(outDir, { recursive: true, force: true });
  });

  it('renders through the local batch engine (worker lanes) into the same layout', async () => {
    const outDir = await tempDir();
    const module = new URL('./helpers/video-runner.ts', import.meta.url).href;
    const progressOf = new Set<string>();
    const r = await evaluate({
      outDir, batch: { runner: { module, options: { frames: 4 } } }, prompts: ['a cat', 'a boat'], samples: 1, settings: { frames: 4 },
      onEvent: (e) => { if (e.type === 'progress') progressOf.add(e.job.fileName); },
    });
    expect(r.counts.rendered).toBe(2);
    expect([...progressOf].sort()).toEqual(['a boat-0.mp4', 'a cat-0.mp4']);
    expect((await readdir(path.join(outDir, 'videos'))).sort()).toEqual(['a boat-0.mp4', 'a cat-0.mp4']);
    expect(r.videos.every((v) => v.temporalFlickering !== null && v.frames === 4)).toBe(true);
    await rm(outDir, { recursive: true, force: true });
  });
});
