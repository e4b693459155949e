/** Checking an output folder up front, so a run fails before rendering rather than after. */
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempPathFor } from './atomic.js';
import { OutputDirError } from './errors.js';

/** Create `dir` if needed and check that files can be written in it. */
export async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
    throw new OutputDirError(`cannot create output folder ${dir}: ${why}; choose another folder with -o/--out-dir`);
  }
  const info = await stat(dir);
  if (!info.isDirectory()) throw new OutputDirError(`output path ${dir} is a file, not a folder; choose another with -o/--out-dir`);
  // Writing a probe file is the only check that also holds for root and for read-only mounts.
  // It is named like any temp file, so one left by a killed process is cleaned up as an orphan.
  const probe = tempPathFor(path.join(dir, 'write-test'));
  try {
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EROFS' ? 'read-only filesystem' : code === 'ENOSPC' ? 'disk full' : 'permission denied';
    throw new OutputDirError(`output folder ${dir} is not writable (${why}); choose another folder or fix its permissions`);
  }
}
