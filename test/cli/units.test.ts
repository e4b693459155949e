import { describe, expect, it } from 'vitest';
import { RemoteError, UserError } from '../../src/batch/errors.js';
import { EXIT, reportError, UsageError } from '../../src/cli/errors.js';
import { jsonObject, size } from '../../src/cli/parse.js';
import { formatDuration, ProgressReporter } from '../../src/cli/progress.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { stream: { isTTY, write: (s: string) => chunks.push(s) }, chunks };
}

describe('ProgressReporter', () => {
  it('prints plain lines at each quarter with an ETA when stderr is not a terminal', () => {
    let now = 0;
    const { stream, chunks } = sink(false);
    const reporter = new ProgressReporter(stream, false, () => now);
    for (let done = 0; done <= 8; done++) {
      reporter.update({ phase: 'denoise', done, total: 8 });
      now += 1000;
    }
    expect(chunks).toEqual(['denoise 0/8\n', 'denoise 2/8 eta 0:06\n', 'denoise 4/8 eta 0:04\n', 'denoise 6/8 eta 0:02\n', 'denoise 8/8 done in 0:08\n']);
  });

  it('redraws one bar line with an ETA per phase on a terminal', () => {
    let now = 0;
    const { stream, chunks } = sink(true);
    const reporter = new ProgressReporter(stream, true, () => now);
    reporter.update({ phase: 'decode', done: 0, total: 4 });
    now = 2000;
    reporter.update({ phase: 'decode', done: 1, total: 4 });
    now = 8000;
    reporter.update({ phase: 'decode', done: 4, total: 4 }, '[1/2]');
    expect(chunks[1]).toBe(`\r\x1b[2Kdecode [${'#'.repeat(6)}${'-'.repeat(18)}] 1/4 ETA 0:06`);
    expect(chunks[2]).toMatch(/^\r\x1b\[2K\[1\/2\] decode \[#{24}\] 4\/4 done in 0:00$/); // a new label starts a new phase
    expect(chunks[3]).toBe('\n');
  });

  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(61_000)).toBe('1:01');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
  });
});

describe('reportError', () => {
  it('maps errors to exit codes and hides stacks unless --debug', () => {
    expect(reportError(new UsageError('bad'), false, undefined)).toMatchObject({ exitCode: EXIT.usage, text: 'diffsparse: bad' });
    expect(reportError(new UserError('no model'), false, undefined)).toMatchObject({ exitCode: EXIT.failure, text: 'diffsparse: no model' });
    expect(reportError(new RemoteError('ScheduleFormatError', 'bad schedule', true), false, undefined).text).toBe('diffsparse: bad schedule');
    const bug = reportError(new TypeError('x is undefined'), false, undefined);
    expect(bug.text).toContain('internal error: x is undefined');
    expect(bug.text).toContain('--debug');
    expect(reportError(new TypeError('x'), true, undefined).text).toMatch(/\n\s+at /);
    expect(reportError(new Error('whatever'), false, 'SIGINT').exitCode).toBe(EXIT.interrupted);
    expect(reportError(new Error('whatever'), false, 'SIGTERM').exitCode).toBe(EXIT.terminated);
    const fsError = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    expect(reportError(fsError, false, undefined).text).toBe('diffsparse: ENOSPC: no space left on device');
  });
});

describe('flag parsers', () => {
  it('parse sizes and JSON defaults', () => {
    expect(size('832x480')).toEqual({ width: 832, height: 480 });
    expect(size('64×32')).toEqual({ width: 64, height: 32 });
    expect(() => size('832')).toThrow(/WIDTHxHEIGHT/);
    expect(jsonObject('{"steps": 3}')).toEqual({ steps: 3 });
    expect(() => jsonObject('[1]')).toThrow(/JSON object/);
  });
});
