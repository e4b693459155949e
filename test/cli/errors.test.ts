import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../batch/helpers/redis-server.js';
import { ensureBuilt, fastRunnerFlags, runBinary, type CliRun } from './helpers/binary.js';

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

  it('--json reports errors as one JSON object on stdout too', async () => {
    const run = await runBinary(['generate', 'a fox', '--pipeline', './missing-model', '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, exitCode: 1, error: { name: 'PipelineDefinitionError', message: expect.stringContaining('missing-model') } });
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
