import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobFileError } from '../../src/batch/errors.js';
import { loadJobs, parseJobs } from '../../src/batch/jobs.js';

function parseError(text: string, defaults?: Record<string, unknown>): JobFileError {
  try {
    parseJobs(text, 'jobs.jsonl', defaults ? { defaults } : {});
  } catch (err) {
    expect(err).toBeInstanceOf(JobFileError);
    return err as JobFileError;
  }
  throw new Error('expected a JobFileError');
}

describe('parseJobs', () => {
  it('reads requests, bare prompt strings, comments and blank lines, keeping line numbers', () => {
    const text = [
      '{"defaults": {"steps": 12, "frames": 9, "format": "webm"}}',
      '# a comment',
      '{"prompt": "a red fox", "seed": 7}',
      '',
      '"a lighthouse at dusk"',
      '{"prompt": "rain on a window", "steps": 30, "solver": "euler"}',
    ].join('\r\n');
    const parsed = parseJobs(text, 'jobs.jsonl');
    expect(parsed.jobs.map((j) => [j.index, j.line])).toEqual([[0, 3], [1, 5], [2, 6]]);
    expect(parsed.jobs[0]!.request).toEqual({ steps: 12, frames: 9, format: 'webm', prompt: 'a red fox', seed: 7 });
    expect(parsed.jobs[1]!.request).toEqual({ steps: 12, frames: 9, format: 'webm', prompt: 'a lighthouse at dusk' });
    expect(parsed.jobs[2]!.request.steps).toBe(30);
    expect(parsed.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('applies command-line defaults under the file lines, over the file defaults', () => {
    const parsed = parseJobs('{"defaults": {"steps": 12, "guidance": 5}}\n{"prompt": "p", "guidance": 3}', 'j', { defaults: { steps: 20, guidance: 4 } });
    expect(parsed.jobs[0]!.request).toMatchObject({ steps: 20, guidance: 3 });
  });

  it('lets a job choose a budget over a default schedule', () => {
    const parsed = parseJobs('{"defaults": {"schedule": "s.json"}}\n{"prompt": "p", "budget": 0.5}', 'j');
    expect(parsed.jobs[0]!.request).toEqual({ prompt: 'p', budget: 0.5 });
  });

  it('accepts a "forecast" key (issue 16) and checks it in src/pipeline/request-fields.ts', () => {
    const parsed = parseJobs('{"prompt": "p", "budget": 0.5, "method": "block-reuse", "forecast": "linear"}', 'j');
    expect(parsed.jobs[0]!.request).toEqual({ prompt: 'p', budget: 0.5, method: 'block-reuse', forecast: 'linear' });
    expect(parseError('{"prompt": "p", "forecast": "cubic"}').message).toBe('jobs.jsonl:1: "forecast" must be one of none, linear (got "cubic")');
  });

  it('names the line and the problem for each bad line', () => {
    const err = parseError('{"prompt": "ok"}\n{"prompt": "x", "steps": "ten"}\n');
    expect(err.lines).toEqual([2]);
    expect(err.message).toBe('jobs.jsonl:2: "steps" must be a positive integer (got "ten")');
  });

  it('reports invalid JSON, unknown keys with a suggestion, and a missing prompt', () => {
    const err = parseError(['{"prompt": "ok"}', '{"prompt": "x",', '{"promt": "typo"}', '{"seed": 3}', '[1,2]', '{"prompt": "y", "budget": 2}'].join('\n'));
    expect(err.lines).toEqual([2, 3, 4, 5, 6]);
    expect(err.message).toMatch(/^5 bad lines in the jobs file:/);
    expect(err.message).toContain('jobs.jsonl:2: not valid JSON');
    expect(err.message).toContain('jobs.jsonl:3: "prompt" is missing; unknown field "promt" (did you mean "prompt"?)');
    expect(err.message).toContain('jobs.jsonl:4: "prompt" is missing');
    expect(err.message).toContain('jobs.jsonl:5: each line must be a JSON object');
    expect(err.message).toContain('jobs.jsonl:6: "budget" must be <= 1 (got 2)');
  });

  it('rejects a defaults line that is not first, and bad --defaults', () => {
    expect(parseError('{"prompt": "a"}\n{"defaults": {"steps": 3}}').message).toContain('jobs.jsonl:2: a "defaults" line must be the first line');
    expect(parseError('{"prompt": "a"}', { stepz: 3 }).message).toBe('--defaults: unknown field "stepz" (did you mean "steps"?)');
    expect(parseError('{"prompt": "a", "schedule": "s.json", "budget": 0.4}').message).toContain('give "schedule" or "budget", not both');
  });

  it('refuses an empty file and summarises very many bad lines', () => {
    expect(parseError('\n# nothing\n').message).toContain('no jobs in the file');
    const many = parseError(Array.from({ length: 20 }, () => '{}').join('\n'));
    expect(many.lines).toHaveLength(20);
    expect(many.message).toContain('... and 12 more bad lines');
  });
});

describe('loadJobs', () => {
  it('reports a missing file clearly', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ds-jobs-'));
    await expect(loadJobs(path.join(dir, 'nope.jsonl'))).rejects.toThrow(/cannot read jobs file .*nope\.jsonl: no such file/);
    const file = path.join(dir, 'jobs.jsonl');
    await writeFile(file, '{"prompt": "a"}\n');
    expect((await loadJobs(file)).jobs).toHaveLength(1);
  });
});
