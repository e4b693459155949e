/**
 * Errors a user can cause and fix (a bad jobs line, an unreachable Redis, an output folder that
 * cannot be written). The CLI prints their message alone, without a stack trace. The base
 * classes live in the bottom layer (src/core/errors.ts).
 */
import { AbortedError, isAbortError, UserError } from '../core/errors.js';

export { AbortedError, isAbortError, UserError };

/** A jobs file line (or the defaults) that is not a valid generate request. */
export class JobFileError extends UserError {
  override readonly name: string = 'JobFileError';
  constructor(
    readonly file: string,
    /** 1-based line numbers of the offending lines (0 for --defaults given on the command line). */
    readonly lines: number[],
    message: string,
  ) {
    super(message);
  }
}

/** A manifest that cannot be read or does not belong to the jobs file being resumed. */
export class ManifestError extends UserError {
  override readonly name: string = 'ManifestError';
}

/** The output folder is missing and cannot be created, or is not writable. */
export class OutputDirError extends UserError {
  override readonly name: string = 'OutputDirError';
}

/** Redis did not answer at the given URL. */
export class RedisUnreachableError extends UserError {
  override readonly name: string = 'RedisUnreachableError';
}

/** The runner module could not be loaded or does not export createRunner. */
export class RunnerLoadError extends UserError {
  override readonly name: string = 'RunnerLoadError';
}

const BUG_ERROR_NAMES = new Set([
  'Error', 'TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'EvalError', 'URIError',
  'AggregateError', 'AssertionError', 'InternalError',
]);
const USER_FS_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'ENOSPC', 'EROFS', 'EEXIST', 'ENOTDIR', 'EISDIR', 'EDQUOT', 'EMFILE']);

/**
 * Whether an error is one a user can act on (print its message alone) rather than a bug (print
 * the stack). Besides the UserError family, the project convention is that every error users
 * can hit is a typed Error subclass, so any custom-named subclass from another module counts,
 * as do filesystem errors such as a full disk or a missing permission.
 */
export function isUserFacingError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof UserError) return true;
  if ((err as { userFacing?: unknown }).userFacing === true) return true;
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && USER_FS_CODES.has(code)) return true;
  return err.constructor !== Error && !BUG_ERROR_NAMES.has(err.name) && !isAbortError(err);
}

/** An error raised in another thread or process, rebuilt with its name, message and stack. */
export class RemoteError extends Error {
  override readonly name: string;
  constructor(
    name: string,
    message: string,
    readonly userFacing: boolean,
    remoteStack?: string,
  ) {
    super(message);
    this.name = name;
    if (remoteStack) this.stack = remoteStack;
  }
}
