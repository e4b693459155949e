/**
 * Issue 18: a 20,000-character prompt crashed onnxruntime (SIGSEGV in session creation on a
 * worker thread, because the process's command line was that long). Long arguments now reach a
 * relaunched process through a pipe, the truncation to the encoder's length is reported, and an
 * absurdly long prompt is a usage error. Real child processes on the tiny demo model (`wan-demo-tiny`).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runBinary } from '../cli/helpers/binary.js';

const dir = mkdtempSync(path.join(tmpdir(), 'long-prompt-'));
beforeAll(ensureBuilt, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const longPrompt = 'a red circle moving right '.repeat(800); // 20,800 characters

describe('a very long prompt', () => {
  it('renders, and says the prompt was cut to the encoder length', async () => {
    const out = path.join(dir, 'long.mp4');
    const run = await runBinary(['generate', longPrompt, '--seed', '1', '--steps', '2', '--pipeline', 'wan-demo-tiny', '-o', out]);
    expect(run.signal).toBeNull();
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.stderr).toMatch(/warning: prompt is \d+ tokens, longer than the encoder's \d+; the last \d+ tokens were dropped/);
    expect(existsSync(out)).toBe(true);
  });

  it('still stops cleanly on SIGINT (signals reach the relaunched process)', async () => {
    const out = path.join(dir, 'stopped.mp4');
    const run = await runBinary(['generate', longPrompt, '--seed', '1', '--steps', '20', '--pipeline', 'wan-demo-tiny', '-o', out], {
      onStderr: (text, child) => {
        if (/denoise \d+\/20/.test(text) && !child.killed) child.kill('SIGINT');
      },
    });
    expect(run.code, run.stderr.slice(-2000)).toBe(130);
    expect(existsSync(out)).toBe(false);
  });

  it('a prompt over 64 KiB is a usage error (exit 2) before any work', async () => {
    const run = await runBinary(['generate', 'x'.repeat(70_000), '-o', path.join(dir, 'huge.mp4')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/"prompt" is 70000 bytes long, more than the 65536 allowed/);
    expect(run.stderr.length).toBeLessThan(1000);
  });
});
