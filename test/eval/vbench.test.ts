import { describe, expect, it } from 'vitest';
import {
  DIMENSIONS, loadSuite, mergeScores, normalizeScore, planJobs, promptFromFileName, scoresFromVBenchResults, summarizeScores,
  suitePrompts, vbenchFileName, VBenchError, videoSeed, SEED_STRIDE,
} from '../../src/eval/vbench.js';

const SHARED_SUITE = new URL('../../../shared/data/vbench_full_info.json', import.meta.url).pathname;

describe('VBench suite and naming', () => {
  it('loads the vendored 946-entry suite, identical to the shared copy', async () => {
    const vendored = await loadSuite();
    const shared = await loadSuite(SHARED_SUITE);
    expect(vendored).toHaveLength(946);
    expect(vendored).toEqual(shared);
    expect(vendored[0]).toEqual({ prompt_en: 'In a still frame, a stop sign', dimension: ['temporal_flickering'] });
  });

  it('names files {prompt}-{index}.mp4 verbatim, special characters included', async () => {
    const suite = await loadSuite();
    const parthenon = suite.find((e) => e.prompt_en.startsWith("In a still frame, the Parthenon's"))!.prompt_en;
    expect(vbenchFileName(parthenon, 3)).toBe(`${parthenon}-3.mp4`);
    const petra = suite.find((e) => e.prompt_en.includes('façades'))!.prompt_en;
    expect(vbenchFileName(petra, 0)).toBe(`${petra}-0.mp4`);
    expect(vbenchFileName('a red bicycle', 4, 'gif')).toBe('a red bicycle-4.gif');
    expect(vbenchFileName("A corgi's head depicted as an explosion of a nebula", 0))
      .toBe("A corgi's head depicted as an explosion of a nebula-0.mp4");
    expect(promptFromFileName(`/x/y/${parthenon}-24.mp4`)).toBe(parthenon);
    // every suite prompt fits a file name even at index 24
    for (const e of suite) expect(() => vbenchFileName(e.prompt_en, 24)).not.toThrow();
  });

  it('refuses names VBench could not find rather than altering them', () => {
    expect(() => vbenchFileName('AC/DC on stage', 0)).toThrow(VBenchError);
    expect(() => vbenchFileName('x'.repeat(260), 0)).toThrow(/custom_input/);
  });

  it('merges the two prompts that appear twice in the suite', async () => {
    const suite = await loadSuite();
    const prompts = suitePrompts(suite);
    expect(prompts).toHaveLength(944);
    const bund = prompts.find((p) => p.prompt === 'The bund Shanghai, oil painting')!;
    expect(bund.dimensions.sort()).toEqual(['aesthetic_quality', 'appearance_style', 'imaging_quality', 'overall_consistency']);
    expect(bund.ordinal).toBe(503);
  });

  it('plans 5 samples per prompt and 25 per temporal-flickering prompt, with distinct recorded seeds', async () => {
    const suite = await loadSuite();
    const all = planJobs(suite);
    expect(all).toHaveLength(944 * 5 + 75 * 20);
    expect(new Set(all.map((j) => j.seed)).size).toBe(all.length);
    expect(new Set(all.map((j) => j.fileName)).size).toBe(all.length);
    const stop = all.filter((j) => j.prompt === 'In a still frame, a stop sign');
    expect(stop.map((j) => j.index)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(stop[7]!.seed).toBe(7);
    expect(stop[7]!.fileName).toBe('In a still frame, a stop sign-7.mp4');

    // a dimension subset keeps each prompt's seeds (seeds hang off the suite position)
    const color = planJobs(suite, { dimensions: ['color'], baseSeed: 1000 });
    expect(color).toHaveLength(85 * 5);
    const red = color.find((j) => j.prompt === 'a red bicycle' && j.index === 2)!;
    const ordinal = suite.findIndex((e) => e.prompt_en === 'a red bicycle');
    expect(red.seed).toBe(1000 + ordinal * SEED_STRIDE + 2);
    expect(all.find((j) => j.prompt === 'a red bicycle' && j.index === 2)!.seed).toBe(ordinal * SEED_STRIDE + 2);
  });

  it('plans a custom prompt list, and TeaCache-style seeds on request', () => {
    const jobs = planJobs([], { prompts: ['a cat', 'a dog: "good boy"', 'rain, at night'], samples: 2, baseSeed: 42 });
    expect(jobs.map((j) => [j.fileName, j.seed])).toEqual([
      ['a cat-0.mp4', 42], ['a cat-1.mp4', 43],
      ['a dog: "good boy"-0.mp4', 142], ['a dog: "good boy"-1.mp4', 143],
      ['rain, at night-0.mp4', 242], ['rain, at night-1.mp4', 243],
    ]);
    expect(videoSeed('index', 0, 17, 3)).toBe(3);
    expect(() => planJobs([], { prompts: ['a', 'a'] })).toThrow(/listed twice/);
    expect(() => planJobs([], { prompts: ['a'], samples: 0 })).toThrow(/samples/);
  });
});

describe('VBench normalisation and weighted totals', () => {
  it('reproduces hand-computed numbers from scripts/constant.py', () => {
    const s = summarizeScores({
      temporal_flickering: { value: 0.97, source: 'diffsparse', standard: false },
      dynamic_degree: { value: 0.6, source: 'vbench', standard: true },
      scene: { value: 0.4111, source: 'vbench', standard: true },
    });
    const tf = (0.97 - 0.6293) / (1.0 - 0.6293); // 0.91907...
    expect(s.dimensions.temporal_flickering!.weighted).toBeCloseTo(tf, 14);
    expect(s.dimensions.dynamic_degree!.weighted).toBeCloseTo(0.3, 14);
    expect(s.dimensions.scene!.weighted).toBeCloseTo(0.5, 14);
    // official: missing dimensions count 0, group weights 6.5 and 9
    const q = (tf + 0.3) / 6.5;
    const sem = 0.5 / 9;
    expect(s.official.quality).toBeCloseTo(q, 14);
    expect(s.official.semantic).toBeCloseTo(sem, 14);
    expect(s.official.total).toBeCloseTo((4 * q + sem) / 5, 14);
    // available: over the dimensions present
    expect(s.available.quality).toBeCloseTo((tf + 0.3) / 1.5, 14);
    expect(s.available.semantic).toBeCloseTo(0.5, 14);
    expect(s.available.total).toBeCloseTo((4 * ((tf + 0.3) / 1.5) + 0.5) / 5, 14);
    expect(s.complete).toBe(false);
    expect(s.mixedSources).toBe(true);
    expect(s.nonstandard).toEqual(['temporal_flickering']);
    expect(s.label).toMatch(/MIXED/);
  });

  it('a full set at every Max scores 1 everywhere, and at every Min scores 0', () => {
    const maxes = { scene: 0.8222, appearance_style: 0.2855, temporal_style: 0.364, overall_consistency: 0.364, motion_smoothness: 0.9975 } as Record<string, number>;
    const mins = { subject_consistency: 0.1462, background_consistency: 0.2615, temporal_flickering: 0.6293, motion_smoothness: 0.706, appearance_style: 0.0009 } as Record<string, number>;
    const full = summarizeScores(Object.fromEntries(DIMENSIONS.map((d) => [d, { value: maxes[d] ?? 1, source: 'vbench' as const, standard: true }])));
    expect(full.complete).toBe(true);
    expect(full.official.quality).toBeCloseTo(1, 14);
    expect(full.official.semantic).toBeCloseTo(1, 14);
    expect(full.official.total).toBeCloseTo(1, 14);
    const low = summarizeScores(Object.fromEntries(DIMENSIONS.map((d) => [d, { value: mins[d] ?? 0, source: 'vbench' as const, standard: true }])));
    expect(low.official.total).toBeCloseTo(0, 14);
    expect(normalizeScore('dynamic_degree', 1)).toBe(0.5);
  });

  it('imports official results files and prefers them when merging', () => {
    const official = scoresFromVBenchResults({
      temporal_flickering: [0.9812, [{ video_path: 'x-0.mp4', video_results: 0.98 }]],
      'dynamic degree': [0.61, []],
      some_vbench2_dimension: [0.5, []],
    });
    expect(official.temporal_flickering).toEqual({ value: 0.9812, source: 'vbench', standard: true });
    expect(official.dynamic_degree!.value).toBe(0.61);
    const ours = { temporal_flickering: { value: 0.95, source: 'diffsparse' as const, standard: false } };
    expect(mergeScores(ours, official).temporal_flickering!.value).toBe(0.9812);
    expect(summarizeScores(mergeScores(ours, official)).mixedSources).toBe(false);
    expect(() => scoresFromVBenchResults({ color: ['n/a', []] })).toThrow(/numeric aggregate/);
  });
});
