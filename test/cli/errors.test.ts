import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../batch/helpers/redis-server.js';
import { REPO_ROOT, ensureBuilt, fastRunnerFlags, runBinary, type CliRun } from './helpers/binary.js';

beforeAll(() => ensureBuilt());

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ds-cli-'));
});

/** One clear message: a single "diffsparse:"/"error:" line (plus commander's help hint), never a stack. */
function expectOneClearMessage(run: CliRun, pattern: RegExp): void {
  expect(run.stderr).toMatch(pattern);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  const lines = run.stderr.trim().split('\n').filter((l) => l !== '(run with --help for usage)');
  expect(lines).toHaveLength(1);
}

describe('diffsparse CLI error paths (built binary)', () => {
  it('unknown flag -> usage error, exit 2', async () => {
    const run = await runBinary(['generate', 'a fox', '--bogus']);
    expect(run.code).toBe(2);
    expectOneClearMessage(run, /unknown option '--bogus'/);
  });

  it('bad flag value -> usage error naming the rule, exit 2', async () => {
    const run = await runBinary(['generate', 'a fox', '--size', '832by480']);
    expect(run.code).toBe(2);
    expectOneClearMessage(run, /--size <WxH>.*'832by480' is invalid\. must be WIDTHxHEIGHT/);
  });

  it('missing model folder -> exit 1', async () => {
    const run = await runBinary(['generate', 'a fox', '--pipeline', path.join(dir, 'no-such-model')]);
    expect(run.code).toBe(1);
    expectOneClearMessage(run, /^diffsparse: no pipeline named or at ".*no-such-model"; use a model folder from `diffsparse convert`/);
  });

  it('bad jobs line -> its line number and problem, exit 1', async () => {
    const jobs = path.join(dir, 'bad.jsonl');
    await writeFile(jobs, '{"prompt": "ok"}\n\n{"prompt": "x", "frames": -3}\n');
    const run = await runBinary(['batch', jobs, '-o', path.join(dir, 'bad-out'), ...fastRunnerFlags()]);
    expect(run.code).toBe(1);
    expectOneClearMessage(run, /^diffsparse: .*bad\.jsonl:3: "frames" must be a positive integer \(got -3\)$/m);
  });

  it('unreachable Redis -> exit 1, for enqueue and worker', async () => {
    const jobs = path.join(dir, 'ok.jsonl');
    await writeFile(jobs, '{"prompt": "ok"}\n');
    const url = `redis://127.0.0.1:${await freePort()}`;
    for (const args of [['enqueue', jobs, '--redis', url], ['worker', '--redis', url, ...fastRunnerFlags()]]) {
      const run = await runBinary(args);
      expect(run.code).toBe(1);
      expectOneClearMessage(run, new RegExp(`^diffsparse: cannot reach Redis at ${url} \\(connection refused\\)`));
    }
  });

  it('unwritable output directory -> exit 1, for generate and batch', async () => {
    const blocker = path.join(dir, 'a-file');
    await writeFile(blocker, 'not a folder');
    const generate = await runBinary(['generate', 'a fox', '-o', path.join(blocker, 'fox.png'), ...fastRunnerFlags()]);
    expect(generate.code).toBe(1);
    expectOneClearMessage(generate, /^diffsparse: cannot create output folder .*a-file: a file is in the way/);
    expect(generate.stderr).not.toContain("seed ");
    const jobs = path.join(dir, 'ok2.jsonl');
    await writeFile(jobs, '{"prompt": "ok"}\n');
    const batch = await runBinary(['batch', jobs, '-o', path.join(blocker, 'renders'), ...fastRunnerFlags()]);
    expect(batch.code).toBe(1);
    expectOneClearMessage(batch, /^diffsparse: cannot create output folder/);
  });

  it('an output that exists -> usage error, exit 2, before the model loads (the lane thread started early is cancelled)', async () => {
    const existing = path.join(dir, 'exists.png');
    await writeFile(existing, 'keep me');
    const loadLog = path.join(dir, 'loads.log');
    const refused = await runBinary(['generate', 'a fox', '-o', existing, ...fastRunnerFlags({ loadLog })]);
    expect(refused.code).toBe(2);
    expectOneClearMessage(refused, /already exists; pass --overwrite/);
    expect(existsSync(loadLog)).toBe(false);
    expect(await readFile(existing, 'utf8')).toBe('keep me');
    const rendered = await runBinary(['generate', 'a fox', '-o', path.join(dir, 'new.png'), ...fastRunnerFlags({ loadLog })]);
    expect(rendered.code, rendered.stderr).toBe(0);
    expect((await readFile(loadLog, 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('--json reports errors as one JSON object on stdout too', async () => {
    const run = await runBinary(['generate', 'a fox', '--pipeline', './missing-model', '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, exitCode: 1, error: { name: 'PipelineDefinitionError', message: expect.stringContaining('missing-model') } });
  });

  it('a reader that closes the pipe early (`--help | head -1`) ends the command quietly, exit 0', async () => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/diffsparse.js'), 'generate', '--help'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.destroy(); // the reader is gone before the help is written, as after `head -1` has its line
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  });

  it('Ctrl-C aborts, leaves no partial output and exits 130', async () => {
    const out = path.join(dir, 'interrupted');
    const run = await runBinary(['generate', 'a slow fox', '-o', path.join(out, 'fox.png'), ...fastRunnerFlags({ denoiseMs: 60_000 })], {
      onStderr: (text, child) => {
        if (text.includes('seed ') && !child.killed) child.kill('SIGINT');
      },
    });
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/seed \d+ \(random\)/);
    expect(run.stderr).toMatch(/Ctrl-C: stopping/);
    expect(await readdir(out)).toEqual([]); // no video, no staging folder
  });
});

describe('eval, compare, convert and schedule error paths (built binary)', () => {
  it('budget outside (0, 1] and an unknown method -> usage error, exit 2', async () => {
    const budget = await runBinary(['compare', '--prompt', 'a fox', '--budget', '1.5', '-o', path.join(dir, 'cmp')]);
    expect(budget.code).toBe(2);
    expectOneClearMessage(budget, /--budget <fraction>.*'1\.5' is invalid\. must be a fraction in \(0, 1\]/);
    const method = await runBinary(['compare', '--prompt', 'a fox', '--budget', '0.5', '--method', 'teacache', '-o', path.join(dir, 'cmp')]);
    expect(method.code).toBe(2);
    expectOneClearMessage(method, /--method <name>.*'teacache' is invalid\. Allowed choices are learned, uniform-tokens, block-reuse, step-skip/);
    const evalMethod = await runBinary(['eval', '--prompt', 'a fox', '--budget', '0.5', '--method', 'teacache', '-o', path.join(dir, 'ev')]);
    expect(evalMethod.code).toBe(2);
    expectOneClearMessage(evalMethod, /'teacache' is invalid\. Allowed choices are learned/);
  });

  it('compare without variants or with --method but no --budget -> usage error, exit 2', async () => {
    const none = await runBinary(['compare', '--prompt', 'a fox', '-o', path.join(dir, 'cmp')]);
    expect(none.code).toBe(2);
    expectOneClearMessage(none, /^diffsparse: nothing to compare against dense: give --budget F \(repeatable\) and\/or --schedule FILE$/m);
    const methodOnly = await runBinary(['compare', '--prompt', 'a fox', '--method', 'step-skip', '-o', path.join(dir, 'cmp')]);
    expect(methodOnly.code).toBe(2);
    expectOneClearMessage(methodOnly, /^diffsparse: --method says how to meet a --budget/m);
  });

  it('a missing prompts file -> its name and the fix, exit 1, before any model loads', async () => {
    const missing = path.join(dir, 'no-prompts.txt');
    for (const args of [['eval', '--prompts', missing, '-o', path.join(dir, 'ev')], ['compare', '--prompts', missing, '--budget', '0.5', '-o', path.join(dir, 'cmp')]]) {
      const run = await runBinary(args);
      expect(run.code).toBe(1);
      expectOneClearMessage(run, /^diffsparse: prompts file .*no-prompts\.txt does not exist; give a text file with one prompt a line$/m);
    }
    const empty = path.join(dir, 'empty-prompts.txt');
    await writeFile(empty, '# nothing yet\n\n');
    const run = await runBinary(['eval', '--prompts', empty, '-o', path.join(dir, 'ev')]);
    expect(run.code).toBe(1);
    expectOneClearMessage(run, /holds no prompts/);
  });

  it('eval: unknown dimension -> exit 2; custom prompts with --dimension -> exit 2', async () => {
    const dim = await runBinary(['eval', '--dimension', 'sharpness', '-o', path.join(dir, 'ev')]);
    expect(dim.code).toBe(2);
    expectOneClearMessage(dim, /'sharpness' is invalid\. unknown VBench dimension; one of subject_consistency/);
    const both = await runBinary(['eval', '--prompt', 'a fox', '--dimension', 'temporal_flickering', '-o', path.join(dir, 'ev')]);
    expect(both.code).toBe(2);
    expectOneClearMessage(both, /--dimension picks prompts from the VBench suite/);
  });

  it('convert: a missing release folder -> exit 1; no output folder -> exit 2', async () => {
    const missing = await runBinary(['convert', path.join(dir, 'no-release'), path.join(dir, 'out-model')]);
    expect(missing.code).toBe(1);
    expectOneClearMessage(missing, /^diffsparse: .*no-release does not exist; point at a Wan2\.1 release folder/m);
    const noOut = await runBinary(['convert', path.join(dir, 'no-release')]);
    expect(noOut.code).toBe(2);
    expectOneClearMessage(noOut, /missing the output folder/);
  });

  it('schedule learn without prompts and a bad --grouping -> exit 2', async () => {
    const noPrompts = await runBinary(['schedule', 'learn', '--budget', '0.5', '-o', path.join(dir, 's.json')]);
    expect(noPrompts.code).toBe(2);
    expectOneClearMessage(noPrompts, /learning needs calibration prompts/);
    const badGrouping = await runBinary(['schedule', 'learn', '--prompt', 'a fox', '--budget', '0.5', '--grouping', '2', '-o', path.join(dir, 's.json')]);
    expect(badGrouping.code).toBe(2);
    expectOneClearMessage(badGrouping, /must be STEPSxLAYERS/);
    const budget = await runBinary(['schedule', 'solve', '--budget', '0', '-o', path.join(dir, 's.json')]);
    expect(budget.code).toBe(2);
    expectOneClearMessage(budget, /must be a fraction in \(0, 1\]/);
  });
});
