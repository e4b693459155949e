/**
 * Error base classes every room may throw. A `UserError` is one a user can cause and fix
 * (a bad request, a missing file, an unavailable device): the CLI prints its message alone,
 * without a stack trace.
 */
export class UserError extends Error {
  override readonly name: string = 'UserError';
}

/** Work stopped because its AbortSignal fired (Ctrl-C, a cancelled job). */
export class AbortedError extends Error {
  override readonly name: string = 'AbortError';
  constructor(message = 'stopped before finishing') {
    super(message);
  }
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err instanceof AbortedError);
}
