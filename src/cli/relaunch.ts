/**
 * Long command lines (issue 18). onnxruntime crashes (SIGSEGV, no message) when it creates a
 * session on a worker thread of a process whose command line is long (a 20,000-character
 * prompt is enough). So a long prompt must not stay a process argument: when the arguments
 * are long, the binary starts itself again with a short command line and hands the real
 * arguments to the new process through a pipe (fd 3). The first process only forwards
 * signals and passes the exit code on.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Above this many bytes of arguments the CLI relaunches itself (the crash starts near 13 kB). */
export const MAX_INLINE_ARGV_BYTES = 4096;
const ENV_FLAG = 'DIFFSPARSE_ARGV_FD';

/** The arguments handed over by a relaunching parent, or undefined when started normally. */
export function inheritedArgv(): string[] | undefined {
  if (process.env[ENV_FLAG] !== '3') return undefined;
  delete process.env[ENV_FLAG];
  const parsed = JSON.parse(readFileSync(3, 'utf8')) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error('bad argument hand-over on fd 3');
  return parsed;
}

/**
 * When `argv` is too long to keep on the command line, run the CLI again in a child process that
 * gets `argv` through a pipe, and resolve to its exit code; otherwise resolve to undefined.
 */
export async function relaunchIfLong(argv: string[], script: string): Promise<number | undefined> {
  const bytes = argv.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
  if (bytes <= MAX_INLINE_ARGV_BYTES) return undefined;
  // Its own process group, so a terminal's Ctrl-C reaches it once: through the forwarding below.
  const child = spawn(process.execPath, [...process.execArgv, script], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    env: { ...process.env, [ENV_FLAG]: '3' },
    detached: true,
  });
  const pipe = child.stdio[3] as NodeJS.WritableStream;
  pipe.on('error', () => undefined);
  pipe.end(JSON.stringify(argv));
  const forward = (signal: NodeJS.Signals) => (): void => {
    child.kill(signal);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((resolve) => {
    child.on('error', (err) => {
      process.stderr.write(`diffsparse: cannot start: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? (signal === 'SIGTERM' ? 143 : signal === 'SIGINT' ? 130 : 1));
    });
  });
}
