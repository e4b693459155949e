/**
 * Where outputs may be written (issue 18). Three rules, checked before any work and again just
 * before a finished file is renamed into place:
 *
 *  - an output named in a jobs file (or a queue payload) is a relative path that stays inside
 *    the output folder: absolute paths and `..` segments are refused, naming the job line;
 *  - an existing target that is not a regular file (a device such as /dev/null, a folder, a
 *    FIFO, a socket) is never replaced;
 *  - an existing regular file is replaced only when the caller asks (`--overwrite`).
 */
import { lstat, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../core/errors.js';

/** An output path that must not be written. `usage`: the CLI reports it with exit code 2. */
export class OutputPathError extends UserError {
  override readonly name: string = 'OutputPathError';
  readonly usage = true;
}

/**
 * Why a job's `"output"` cannot be used, or undefined when it is a relative path inside the
 * output folder. Both `/` and `\` count as separators so a jobs file means the same everywhere.
 */
export function jobOutputProblem(output: string): string | undefined {
  if (output.includes('\0')) return 'must not contain a NUL character';
  if (path.isAbsolute(output) || path.win32.isAbsolute(output) || /^[a-zA-Z]:/.test(output)) {
    return 'must be a path relative to the output folder (-o/--out-dir), not an absolute path';
  }
  const parts = output.split(/[/\\]+/);
  if (parts.includes('..')) return 'must stay inside the output folder (-o/--out-dir): ".." is not allowed';
  const last = parts[parts.length - 1] ?? '';
  if (last === '' || last === '.') return 'must name a file, not a folder';
  return undefined;
}

/** The absolute path of a job's output inside `outDir`; throws OutputPathError when it would leave it. */
export function resolveJobOutput(outDir: string, output: string, where = 'job'): string {
  const problem = jobOutputProblem(output);
  if (problem) throw new OutputPathError(`${where}: "output" ${problem} (got ${JSON.stringify(output)})`);
  const root = path.resolve(outDir);
  const target = path.resolve(root, output.replace(/\\/g, '/'));
  if (target !== root && !target.startsWith(root + path.sep)) {
    throw new OutputPathError(`${where}: "output" must stay inside the output folder ${root} (got ${JSON.stringify(output)})`);
  }
  return target;
}

/**
 * Checks that `target`'s folder, once symbolic links are followed, is still inside `outDir`
 * (a link inside the output folder must not lead a job's output elsewhere). Folders that do
 * not exist yet are fine: they will be created inside.
 */
export async function assertInsideRealFolder(outDir: string, target: string, where = 'job'): Promise<void> {
  const root = await realResolve(outDir);
  const real = await realResolve(path.dirname(target));
  if (real !== root && !real.startsWith(root + path.sep)) {
    throw new OutputPathError(`${where}: the output ${target} leads outside the output folder ${path.resolve(outDir)} through a symbolic link`);
  }
}

/** `p` with symbolic links resolved as far as it exists; the part that does not exist yet is kept as is. */
async function realResolve(p: string): Promise<string> {
  const full = path.resolve(p);
  let existing = full;
  for (;;) {
    const real = await realpath(existing).catch(() => undefined);
    if (real !== undefined) return path.join(real, path.relative(existing, full));
    const parent = path.dirname(existing);
    if (parent === existing) return full;
    existing = parent;
  }
}

export interface TargetCheck {
  /** Replace an existing regular file (default false: refuse). */
  overwrite?: boolean;
  /** The output is a folder (PNG frames): an existing empty folder may be reused. */
  folder?: boolean;
  /** How to tell the user to allow replacing (default `pass --overwrite`). */
  overwriteHint?: string;
}

/** What is at `file` now: nothing, a regular file, or something else (described). */
async function kindAt(file: string): Promise<'none' | 'file' | string> {
  try {
    const s = await lstat(file);
    if (s.isFile()) return 'file';
    if (s.isDirectory()) return 'a folder';
    if (s.isSymbolicLink()) return 'a symbolic link';
    if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
    if (s.isFIFO()) return 'a named pipe (FIFO)';
    if (s.isSocket()) return 'a socket';
    return 'not a regular file';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A missing folder (or a file in the way of one) is reported when the folder is created.
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'none';
    throw err;
  }
}

/**
 * Refuse to write `file` when something other than a regular file is there, or when a regular
 * file is there and `overwrite` is not set. Throws OutputPathError naming the fix.
 */
export async function checkOutputTarget(file: string, options: TargetCheck = {}): Promise<void> {
  const kind = await kindAt(file);
  if (kind === 'none') return;
  if (options.folder && kind === 'a folder') {
    if ((await readdir(file)).length === 0) return;
    throw new OutputPathError(`${file} already exists and is not empty; remove it or choose another folder for the PNG frames`);
  }
  if (kind !== 'file') {
    throw new OutputPathError(`refusing to write ${file}: it is ${kind}, not a regular file; choose another output path`);
  }
  if (!options.overwrite) {
    throw new OutputPathError(`${file} already exists; ${options.overwriteHint ?? 'pass --overwrite to replace it'}, or choose another output path`);
  }
}

/** `checkOutputTarget` for several files; the first problem is thrown. */
export async function checkOutputTargets(files: string[], options: TargetCheck = {}): Promise<void> {
  for (const file of files) await checkOutputTarget(file, options);
}

/** The files a render writes next to `output`: the video, its sidecar and (optionally) the latent. */
export function renderTargets(output: string, saveLatent = false): string[] {
  return [output, `${output.replace(/[/\\]+$/, '')}.json`, ...(saveLatent ? [`${output}.latent.npy`] : [])];
}
