/** File writes that never leave a half-written file under the final name. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/** A temporary name next to `target` (same folder, so the final rename is atomic). */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`);
}

/** Write `data` to a temporary file, flush it to disk, then rename it over `target`. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(target);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export interface FileDigest {
  bytes: number;
  sha256: string;
}

/** Size and SHA-256 of a file, or undefined when it does not exist. */
export async function digestFile(file: string): Promise<FileDigest | undefined> {
  let size: number;
  try {
    const s = await stat(file);
    if (!s.isFile()) return undefined;
    size = s.size;
  } catch {
    return undefined;
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return { bytes: size, sha256: hash.digest('hex') };
}

/** True when `file` exists with exactly the recorded size and hash. */
export async function matchesDigest(file: string, expected: FileDigest): Promise<boolean> {
  const actual = await digestFile(file);
  return actual !== undefined && actual.bytes === expected.bytes && actual.sha256 === expected.sha256;
}

const TEMP_NAME = /^\..+\.tmp-(\d+)-[0-9a-f]{6}$/;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary files in `dir` left by a writer that was killed between writing and
 * renaming (the writing process no longer exists), so a resumed run starts clean.
 */
export async function removeOrphanedTemps(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const orphans = names.filter((n) => {
    const m = TEMP_NAME.exec(n);
    return m !== null && Number(m[1]) !== process.pid && !processAlive(Number(m[1]));
  });
  await Promise.all(orphans.map((n) => rm(path.join(dir, n), { force: true })));
  return orphans;
}
