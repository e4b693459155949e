/**
 * Issue 18, writes where they must not go: a device/FIFO/folder target is never replaced, an
 * existing file only with --overwrite, and a jobs file's "output" stays inside the output folder
 * (absolute paths, "..", and symbolic links leading out are refused, naming the job line).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitStage, createStage } from '../../src/batch/staging.js';
import { parseJobs } from '../../src/batch/jobs.js';
import { jobOutputProblem, resolveJobOutput } from '../../src/io/safe-output.js';
import { ensureBuilt, fastRunnerFlags, runBinary } from '../cli/helpers/binary.js';

const dir = mkdtempSync(path.join(tmpdir(), 'outputs-'));
beforeAll(ensureBuilt, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fifo(file: string): void {
  const made = spawnSync('mkfifo', [file]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
}

describe('job outputs stay inside the output folder', () => {
  it('rejects absolute paths and ".." and resolves the rest inside', () => {
    expect(jobOutputProblem('/etc/x.mp4')).toMatch(/relative to the output folder/);
    expect(jobOutputProblem('C:\\x.mp4')).toMatch(/relative/);
    expect(jobOutputProblem('../../x.mp4')).toMatch(/"\.\." is not allowed/);
    expect(jobOutputProblem('a/../../x.mp4')).toMatch(/\.\./);
    expect(jobOutputProblem('a\\..\\..\\x.mp4')).toMatch(/\.\./);
    expect(jobOutputProblem('sub/')).toMatch(/must name a file/);
    expect(jobOutputProblem('sub/clip.mp4')).toBeUndefined();
    expect(resolveJobOutput('/out', 'sub/clip.mp4')).toBe(path.resolve('/out/sub/clip.mp4'));
    expect(() => resolveJobOutput('/out', '/tmp/x.mp4', 'jobs.jsonl:3')).toThrow(/jobs\.jsonl:3: "output" must be a path relative/);
  });

  it('names every bad job line in the jobs file', () => {
    const text = ['{"prompt": "a", "output": "/tmp/abs.mp4"}', '{"prompt": "b", "output": "../../x.mp4"}', '{"prompt": "c", "output": "ok/c.mp4"}'].join('\n');
    expect(() => parseJobs(text, 'jobs.jsonl')).toThrow(/jobs\.jsonl:1: "output" must be a path relative[\s\S]*jobs\.jsonl:2: "output" must stay inside/);
  });

  it('batch: an absolute or escaping output is refused before anything is written', async () => {
    const jobs = path.join(dir, 'escape.jsonl');
    const outside = path.join(dir, 'outside.png');
    writeFileSync(jobs, [JSON.stringify({ prompt: 'a', output: outside }), JSON.stringify({ prompt: 'b', output: '../../x.png' })].join('\n'));
    const run = await runBinary(['batch', jobs, '-o', path.join(dir, 'esc-out'), ...fastRunnerFlags()]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/escape\.jsonl:1: "output" must be a path relative to the output folder/);
    expect(run.stderr).toMatch(/escape\.jsonl:2: "output" must stay inside the output folder/);
    expect(existsSync(outside)).toBe(false);
    expect(existsSync(path.join(dir, '..', 'x.png'))).toBe(false);
  });

  it('batch: a relative output lands inside -o; a symbolic link leading out is refused', async () => {
    const jobs = path.join(dir, 'sub.jsonl');
    writeFileSync(jobs, JSON.stringify({ prompt: 'a', seed: 1, output: 'sub/clip.png' }));
    const out = path.join(dir, 'sub-out');
    const run = await runBinary(['batch', jobs, '-o', out, ...fastRunnerFlags()]);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(path.join(out, 'sub/clip.png'))).toBe(true);

    const linked = path.join(dir, 'link-out');
    mkdirSync(linked);
    mkdirSync(path.join(dir, 'elsewhere'));
    symlinkSync(path.join(dir, 'elsewhere'), path.join(linked, 'sub'));
    const viaLink = await runBinary(['batch', jobs, '-o', linked, ...fastRunnerFlags()]);
    expect(viaLink.code).toBe(2);
    expect(viaLink.stderr).toMatch(/sub\.jsonl:1: the output .* leads outside the output folder .* through a symbolic link/);
    expect(readdirSync(path.join(dir, 'elsewhere'))).toEqual([]);
  });

  it('batch: an existing file at a job output is replaced only with --overwrite', async () => {
    const jobs = path.join(dir, 'exists.jsonl');
    writeFileSync(jobs, JSON.stringify({ prompt: 'a', seed: 1, output: 'taken.png' }));
    const out = path.join(dir, 'exists-out');
    mkdirSync(out);
    writeFileSync(path.join(out, 'taken.png'), 'precious');
    const refused = await runBinary(['batch', jobs, '-o', out, ...fastRunnerFlags()]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/taken\.png already exists; \(.*exists\.jsonl:1\) pass --overwrite to replace it/);
    expect(readFileSync(path.join(out, 'taken.png'), 'utf8')).toBe('precious');
    expect(existsSync(path.join(out, 'manifest.json'))).toBe(false);
    const replaced = await runBinary(['batch', jobs, '-o', out, '--overwrite', ...fastRunnerFlags()]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(readFileSync(path.join(out, 'taken.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('enqueue: a bad output is refused before Redis is contacted', async () => {
    const jobs = path.join(dir, 'enq.jsonl');
    writeFileSync(jobs, JSON.stringify({ prompt: 'a', output: '/etc/passwd' }));
    const run = await runBinary(['enqueue', jobs, '--redis', 'redis://127.0.0.1:1', '-o', path.join(dir, 'enq-out')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/enq\.jsonl:1: "output" must be a path relative to the output folder/);
    expect(run.stderr).not.toMatch(/Redis/);
  });
});

describe('generate -o never replaces what is not a regular file', () => {
  it('a FIFO (like a device node) is refused with exit 2 and no sidecar is created', async () => {
    const target = path.join(dir, 'pipe.png');
    fifo(target);
    const run = await runBinary(['generate', 'a fox', '-o', target, ...fastRunnerFlags()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/refusing to write .*pipe\.png: it is a named pipe \(FIFO\), not a regular file/);
    expect(run.stderr).not.toContain('seed ');
    expect(lstatSync(target).isFIFO()).toBe(true);
    expect(existsSync(`${target}.json`)).toBe(false);
  });

  it('an existing folder is refused before rendering (no EISDIR, no orphan sidecar)', async () => {
    const target = path.join(dir, 'a-folder');
    mkdirSync(target);
    const run = await runBinary(['generate', 'a fox', '-o', target, '--format', 'gif', ...fastRunnerFlags()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/it is a folder, not a regular file/);
    expect(run.stderr).not.toMatch(/EISDIR|staging/);
    expect(readdirSync(dir).filter((n) => n.startsWith('a-folder'))).toEqual(['a-folder']);
  });

  it('an existing file is kept unless --overwrite is given', async () => {
    const target = path.join(dir, 'kept.png');
    writeFileSync(target, 'precious');
    const refused = await runBinary(['generate', 'a fox', '-o', target, ...fastRunnerFlags()]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/kept\.png already exists; pass --overwrite to replace it/);
    expect(readFileSync(target, 'utf8')).toBe('precious');
    const replaced = await runBinary(['generate', 'a fox', '-o', target, '--overwrite', ...fastRunnerFlags()]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(readFileSync(target).subarray(1, 4).toString()).toBe('PNG');
  });

  it('the final rename refuses a non-regular target that appeared during the render', async () => {
    const target = path.join(dir, 'late.mp4');
    const stage = await createStage(target);
    writeFileSync(stage.output, 'video');
    writeFileSync(`${stage.output}.json`, '{}');
    fifo(target);
    await expect(commitStage(stage, target)).rejects.toThrow(/refusing to replace .*late\.mp4: it is not a regular file/);
    expect(lstatSync(target).isFIFO()).toBe(true);
    expect(existsSync(`${target}.json`)).toBe(false); // nothing was moved
  });
});
