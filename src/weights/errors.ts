/**
 * The one error family raised for malformed or unsupported weight files.
 * Every message names the file, so a user with many checkpoints knows which one to fix.
 */
export class WeightFormatError extends Error {
  override readonly name: string = 'WeightFormatError';
  constructor(
    readonly filePath: string,
    readonly problem: string,
  ) {
    super(`${filePath}: ${problem}`);
  }
}

/** A tensor exists but its dtype cannot be returned by the requested read (e.g. readF32 on I64). */
export class WeightDtypeError extends WeightFormatError {
  override readonly name: string = 'WeightDtypeError';
}

/** A pickle asked for something the restricted unpickler refuses (a global outside the allow-list, an unknown opcode). */
export class UnsafePickleError extends WeightFormatError {
  override readonly name: string = 'UnsafePickleError';
}

/** A key that the caller asked for is not in the weight source. */
export class WeightKeyError extends WeightFormatError {
  override readonly name: string = 'WeightKeyError';
}
