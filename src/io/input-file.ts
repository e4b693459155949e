/**
 * Files a user names as input (issue 18): `--noise /dev/zero` or a FIFO given as a weight file
 * read forever. Every such file is checked with stat() (which never blocks, unlike open() on a
 * FIFO) before it is opened: it must be a regular file, and at most `maxBytes` long when the
 * reader holds it in memory. Errors name the file and what it was meant to be.
 */
import { statSync, readFileSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { UserError } from '../core/errors.js';

export class InputFileError extends UserError {
  override readonly name: string = 'InputFileError';
}

/** Describes a non-regular file: "a device", "a folder", ... */
export function kindOfSpecial(s: Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  if (s.isFIFO()) return 'a named pipe (FIFO)';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

function describeStatError(path: string, what: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new InputFileError(`${path} (${what}) does not exist; check the path`);
  if (code === 'EACCES' || code === 'EPERM') return new InputFileError(`${path} (${what}) cannot be read: permission denied`);
  return err as Error;
}

function checkStats(path: string, what: string, s: Stats, maxBytes: number | undefined): void {
  if (!s.isFile()) throw new InputFileError(`refusing to read ${path} as ${what}: it is ${kindOfSpecial(s)}, not a regular file`);
  if (maxBytes !== undefined && s.size > maxBytes)
    throw new InputFileError(`${path} (${what}) is ${s.size} bytes, more than the ${maxBytes} allowed; is it the right file?`);
}

/** Throws InputFileError unless `path` is a regular file of at most `maxBytes`. */
export function checkInputFile(path: string, what: string, maxBytes?: number): Stats {
  let s: Stats;
  try {
    s = statSync(path);
  } catch (err) {
    throw describeStatError(path, what, err);
  }
  checkStats(path, what, s, maxBytes);
  return s;
}

export async function checkInputFileAsync(path: string, what: string, maxBytes?: number): Promise<Stats> {
  let s: Stats;
  try {
    s = await stat(path);
  } catch (err) {
    throw describeStatError(path, what, err);
  }
  checkStats(path, what, s, maxBytes);
  return s;
}

/** Reads a regular file of at most `maxBytes` (checked first, so a device or FIFO never blocks). */
export function readInputFile(path: string, what: string, maxBytes: number): Buffer {
  checkInputFile(path, what, maxBytes);
  return readFileSync(path);
}

/** JSON.parse's error without the input it quotes (src/core/json-error.ts; weights/ uses it too). */
export { jsonErrorMessage } from '../core/json-error.js';

/**
 * Like checkInputFileAsync, but a path that cannot be stat'ed is left to the caller's own read
 * (and its own "does not exist" message): only special files and oversized files are refused.
 */
export async function refuseSpecialFile(path: string, what: string, maxBytes?: number): Promise<void> {
  const s = await stat(path).catch(() => undefined);
  if (s) checkStats(path, what, s, maxBytes);
}

/** Largest JSON input (schedules, cost tables, jobs files, defaults) read into memory. */
export const MAX_JSON_INPUT_BYTES = 256 * 1024 * 1024;
