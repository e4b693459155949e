/**
 * Runs the real `diffsparse` binary (bin/diffsparse.js -> dist/cli/main.js). The build is redone
 * only when a source file is newer than the built CLI, so repeated test runs stay quick.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUILT_MAIN = path.join(REPO_ROOT, 'dist/cli/main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

const isFresh = (): boolean => existsSync(BUILT_MAIN) && statSync(BUILT_MAIN).mtimeMs >= newestSource(path.join(REPO_ROOT, 'src'));
const LOCK = path.join(REPO_ROOT, '.tmp/cli-build.lock');

/** Build once even when several test files ask at the same time (a lock folder serialises them). */
export async function ensureBuilt(): Promise<void> {
  if (isFresh()) return;
  mkdirSync(path.dirname(LOCK), { recursive: true });
  for (const until = Date.now() + 300_000; ; ) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 300_000) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > until) throw new Error(`timed out waiting for ${LOCK}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (isFresh()) return;
    // tsc still emits when another module has type errors; the test only needs the CLI built.
    const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (!existsSync(BUILT_MAIN)) throw new Error(`building the CLI failed:\n${result.stdout}${result.stderr}`);
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcessOptions {
  /** Extra environment variables for the child. */
  env?: Record<string, string>;
  cwd?: string;
  /** Called with each stderr chunk; lets a test act (e.g. send SIGINT) once something is printed. */
  onStderr?(text: string, child: ReturnType<typeof spawn>): void;
}

export function runBinary(args: string[], options: CliProcessOptions = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/diffsparse.js'), ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.env && { env: { ...process.env, ...options.env } }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    options.onStderr?.(stderr, child);
  });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** The fast test runner (writes real PNGs) as CLI flags. */
export function fastRunnerFlags(options: Record<string, unknown> = {}): string[] {
  return ['--runner', path.join(REPO_ROOT, 'test/batch/helpers/fast-runner.ts'), '--runner-options', JSON.stringify(options)];
}
