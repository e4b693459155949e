/**
 * Issue 18: resource flags and sizes without bounds (`--threads 1000` hung, `--frames
 * 1000000001` and `--size 100000x100000` failed late with an internal error). Each is a usage
 * error (exit 2) naming the bound, before any model loads.
 */
import { availableParallelism } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseJobs } from '../../src/batch/jobs.js';
import { ensureBuilt, runBinary } from '../cli/helpers/binary.js';

beforeAll(ensureBuilt, 300_000);

describe('resource and size flags are bounded', () => {
  const cpus = availableParallelism();
  const cases: [string[], RegExp][] = [
    [['--threads', '1000'], new RegExp(`--threads <n>' argument '1000' is invalid\\. must be at most ${cpus} \\(the CPUs on this machine`)],
    [['--threads', String(cpus + 1)], /must be at most/],
    [['--frames', '1000000001'], /--frames <n>' argument '1000000001' is invalid\. must be at most 1025/],
    [['--size', '100000x100000'], /--size <WxH>' argument '100000x100000' is invalid\. must be at most 4096x4096/],
    [['--steps', '5000'], /must be at most 1000/],
  ];
  for (const [flags, message] of cases) {
    it(`generate ${flags.join(' ')} -> exit 2 before any work`, async () => {
      const started = Date.now();
      const run = await runBinary(['generate', 'a fox', '-o', '/tmp/never-written.mp4', ...flags]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/seed |internal error/);
      expect(Date.now() - started).toBeLessThan(30_000);
    });
  }

  it('worker --concurrency above the CPUs -> exit 2', async () => {
    const run = await runBinary(['worker', '--concurrency', '10000', '--redis', 'redis://127.0.0.1:1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--concurrency <n>' argument '10000' is invalid\. must be at most/);
  });

  it('jobs files are held to the same bounds, naming the line', () => {
    expect(() => parseJobs('{"prompt": "a", "frames": 1000000001, "width": 100000}', 'jobs.jsonl')).toThrow(
      /jobs\.jsonl:1: "frames" must be at most 1025 \(got 1000000001\); "width" must be at most 4096/,
    );
  });

  it('a size or frame count the model cannot take is a usage error (exit 2)', async () => {
    const run = await runBinary(['generate', 'a fox', '-o', '/tmp/never-written.mp4', '--frames', '10', '--steps', '1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/frames 10 does not fit the model: it must be 4k\+1/);
  });
});

describe('prototype keys in a jobs line', () => {
  it('"__proto__" is an unknown field, not an internal error', () => {
    expect(() => parseJobs('{"prompt": "a", "__proto__": {}}\n{"prompt": "b", "constructor": 1}', 'jobs.jsonl')).toThrow(
      /jobs\.jsonl:1: unknown field "__proto__"[\s\S]*jobs\.jsonl:2: unknown field "constructor"/,
    );
  });
});
