/**
 * Issue 18, eval: an eval in another run's folder overwrote that run's results.json, even with
 * --dry-run; `eval --dimension temporal_flickering` planned 1,875 videos without saying so.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvalPlanMismatchError, evaluate, type EvalEvent } from '../../src/eval/run.js';
import { ensureBuilt, runBinary } from '../cli/helpers/binary.js';
import { createRunner } from '../eval/helpers/video-runner.js';

describe('eval never replaces another evaluation\'s results', () => {
  it('a dry run writes nothing; another selection in the same folder is refused; a larger --limit resumes', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'ds-eval-h-'));
    const dry = await evaluate({ outDir: path.join(outDir, 'dry'), dimensions: ['temporal_flickering'], limit: 2, dryRun: true });
    expect(dry.counts.planned).toBe(50);
    expect(existsSync(path.join(outDir, 'dry'))).toBe(false);

    const runner = await createRunner({ frames: 3 });
    const settings = { frames: 3, steps: 2 };
    const first = await evaluate({ outDir, runner, prompts: ['a red fox', 'a blue car'], samples: 1, settings });
    expect(first.counts.present).toBe(2);
    const before = await readFile(path.join(outDir, 'results.json'), 'utf8');

    // another run's selection, with and without --dry-run: refused, results.json untouched
    for (const dryRun of [true, false]) {
      await expect(evaluate({ outDir, runner, prompts: ['a green tree'], samples: 1, settings, dryRun })).rejects.toThrow(EvalPlanMismatchError);
    }
    await expect(evaluate({ outDir, runner, prompts: ['a green tree'], samples: 1, settings })).rejects.toThrow(
      /results\.json holds the results of another evaluation \(2 custom prompt\(s\), --samples 1\); this run is 1 custom prompt\(s\), --samples 1\. Use another --out-dir/,
    );
    // a dry run of the same evaluation reports without writing
    const same = await evaluate({ outDir, runner, prompts: ['a red fox', 'a blue car'], samples: 1, settings, dryRun: true });
    expect(same.counts).toMatchObject({ planned: 2, present: 2 });
    expect(await readFile(path.join(outDir, 'results.json'), 'utf8')).toBe(before);
    expect((await readdir(path.join(outDir, 'videos'))).length).toBe(2);
    await rm(outDir, { recursive: true, force: true });
  });

  it('the plan event says where the count comes from', async () => {
    const events: EvalEvent[] = [];
    await evaluate({ outDir: path.join(tmpdir(), 'ds-eval-never'), dimensions: ['temporal_flickering'], dryRun: true, onEvent: (e) => events.push(e) });
    expect(events[0]).toEqual({ type: 'plan', total: 1875, present: 0, prompts: 75, samples: 5, flickerSamples: 25 });
  });

  it('the CLI prints the breakdown and warns before a large run', async () => {
    await ensureBuilt();
    const r = await runBinary(['eval', '--dimension', 'temporal_flickering', '--dry-run', '-o', path.join(tmpdir(), 'ds-eval-never-cli')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/1875 video\(s\) planned \(75 prompt\(s\), 5 sample\(s\) each \(--samples\); 25 per temporal_flickering prompt \(--flicker-samples\)\), 0 already in/);
    expect(existsSync(path.join(tmpdir(), 'ds-eval-never-cli'))).toBe(false);
  }, 300_000);
});
