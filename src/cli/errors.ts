/**
 * Exit codes and error reporting: the only place that decides what a failure looks like.
 *
 *   0    success
 *   1    runtime failure (a job failed, Redis unreachable, bad model folder, ...)
 *   2    usage error (unknown flag, bad flag value, missing argument)
 *   130  interrupted by Ctrl-C (SIGINT)
 *   143  stopped by SIGTERM
 */
import { isAbortError, isUserFacingError, UserError } from '../batch/errors.js';

export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130, terminated: 143 } as const;

/** Bad command-line usage that commander cannot catch itself (e.g. inconsistent flags). */
export class UsageError extends UserError {
  override readonly name: string = 'UsageError';
}

export interface ErrorReport {
  exitCode: number;
  /** Lines for stderr (no trailing newline). */
  text: string;
  json: { name: string; message: string };
}

/** What to print for an error and which exit code it maps to. Stacks only for bugs or --debug. */
export function reportError(err: unknown, debug: boolean, stoppedBy: 'SIGINT' | 'SIGTERM' | undefined): ErrorReport {
  const error = err instanceof Error ? err : new Error(String(err));
  if (isAbortError(error) || stoppedBy) {
    const exitCode = stoppedBy === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
    return { exitCode, text: `diffsparse: stopped (${error.message})`, json: { name: 'Interrupted', message: error.message } };
  }
  const json = { name: error.name, message: error.message };
  // Errors of other modules marked `usage` (e.g. an output path that must not be written) are usage errors too.
  // A request the model cannot take (size, frames, steps; raised in the render thread, so known by name) is a usage error too.
  const usage = error instanceof UsageError || (error as { usage?: unknown }).usage === true || error.name === 'GenerateRequestError' || error.name === 'OutputPathError';
  const exitCode = usage ? EXIT.usage : EXIT.failure;
  if (isUserFacingError(error)) {
    return { exitCode, text: `diffsparse: ${error.message}${debug && error.stack ? `\n${error.stack}` : ''}`, json };
  }
  const text = debug
    ? `diffsparse: internal error: ${error.stack ?? error.message}`
    : `diffsparse: internal error: ${error.message}\n(this is a bug; rerun with --debug for the stack trace and report it)`;
  return { exitCode, text, json };
}
