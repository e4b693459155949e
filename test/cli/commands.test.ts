import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeSchedule } from '../../src/sparsity/schedule.js';
import { ensureBuilt, fastRunnerFlags, runBinary } from './helpers/binary.js';

beforeAll(() => ensureBuilt());

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ds-cmd-'));
});

describe('diffsparse commands (built binary, fast test runner)', () => {
  it('generate --json prints one result object with the effective seed', async () => {
    const output = path.join(dir, 'gen', 'fox.png');
    const run = await runBinary(['generate', 'a red fox', '-o', output, '--seed', '77', '--steps', '4', '--save-latent', '--json', ...fastRunnerFlags()]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ ok: true, prompt: 'a red fox', seed: 77, output, latent: `${output}.latent.npy`, sidecar: output.replace(/png$/, 'json') });
    expect(PNG.sync.read(await readFile(output)).width).toBe(8);
    expect(run.stderr).toMatch(/^seed 77 -> /m);
    expect(run.stderr).toMatch(/denoise 4\/4 done in/); // plain progress lines when stderr is not a terminal
    expect((await readdir(path.dirname(output))).sort()).toEqual(['fox.json', 'fox.png', 'fox.png.latent.npy']);
  });

  it('generate picks, prints and uses a random seed when none is given', async () => {
    const run = await runBinary(['generate', 'Snow Fox', '--format', 'png', ...fastRunnerFlags()], { cwd: dir });
    expect(run.code).toBe(0);
    const seed = /seed (\d+) \(random\)/.exec(run.stderr)?.[1];
    expect(seed).toBeDefined();
    expect(run.stdout).toContain(`snow-fox-s${seed}.png (seed ${seed}`);
  });

  it('batch: Ctrl-C stops with 130, --resume completes it, --json summarises', async () => {
    const jobs = path.join(dir, 'jobs.jsonl');
    await writeFile(jobs, ['{"defaults": {"format": "png"}}', ...[1, 2, 3, 4].map((i) => JSON.stringify({ prompt: `shot ${i}`, seed: i }))].join('\n'));
    const out = path.join(dir, 'renders');
    const stopped = await runBinary(['batch', jobs, '-o', out, ...fastRunnerFlags({ denoiseMs: 1500, finishMs: 100 })], {
      onStderr: (text, child) => {
        if (text.includes(': done (seed') && !child.killed) child.kill('SIGINT');
      },
    });
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/run again with --resume/);
    expect((await readdir(out)).filter((n) => n.startsWith('.'))).toEqual([]); // staging folders cleaned up
    const again = await runBinary(['batch', jobs, '-o', out, ...fastRunnerFlags({ denoiseMs: 1500 })]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already records a batch; pass --resume/);

    const resumed = await runBinary(['batch', jobs, '-o', out, '--resume', '--json', ...fastRunnerFlags()]);
    expect(resumed.code).toBe(0);
    const summary = JSON.parse(resumed.stdout) as { ok: boolean; done: number; skipped: number; jobs: { status: string }[] };
    expect(summary).toMatchObject({ ok: true, done: 4 });
    expect(summary.skipped).toBeGreaterThanOrEqual(1);
    expect((await readdir(out)).filter((n) => n.endsWith('.png'))).toHaveLength(4);

    const info = await runBinary(['info', path.join(out, 'manifest.json')]);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain('batch-manifest');
    expect(info.stdout).toContain('4 jobs from');
  });

  it('info and schedule show/draw read a sparsity schedule', async () => {
    const file = path.join(dir, 'sched.json');
    const schedule = makeSchedule({
      model: { id: 'wan21-tiny', layers: 2, dim: 32, heads: 2 },
      sampling: { steps: 3, solver: 'unipc', shift: 3 },
      tokenGrid: { frames: 1, height: 2, width: 2 },
      table: [[1, 1], [0.5, 0.25], [0, 1]],
      flopsRatio: 0.6,
      provenance: { kind: 'heuristic', method: 'hand-written test table' },
    });
    await writeFile(file, JSON.stringify(schedule));
    const show = await runBinary(['schedule', 'show', file]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('model wan21-tiny (2 layers), 3 steps (unipc), FLOPs 60.0% of dense');
    const info = await runBinary(['info', file, '--json']);
    expect(JSON.parse(info.stdout)).toMatchObject({ ok: true, kind: 'schedule', steps: 3, levels: { '1': 3, '0.5': 1, '0.25': 1, '0': 1 } });
    const png = path.join(dir, 'sched.png');
    const draw = await runBinary(['schedule', 'draw', file, '-o', png]);
    expect(draw.code).toBe(0);
    expect(PNG.sync.read(await readFile(png)).width).toBeGreaterThan(0);
  });
});
